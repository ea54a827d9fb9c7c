// The health probe: a blocking HTTP/1.0 GET /healthz with a 3 s deadline.
#include "server/probe.hpp"

#include <cstdio>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

namespace simul::server {

int probe_health(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "probe: expected HOST:PORT, got '%s'\n", host_port.c_str());
    return 2;
  }
  auto host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::ip::tcp::resolver resolver(io);
  std::string response;
  asio::error_code result = asio::error::timed_out;
  asio::steady_timer deadline(io, std::chrono::seconds(3));
  deadline.async_wait([&](asio::error_code ec) {
    if (!ec) socket.close();
  });
  resolver.async_resolve(host, port, [&](asio::error_code ec, asio::ip::tcp::resolver::results_type eps) {
    if (ec) return void(result = ec);
    asio::async_connect(socket, eps, [&](asio::error_code cec, const asio::ip::tcp::endpoint&) {
      if (cec) return void(result = cec);
      static const std::string request = "GET /healthz HTTP/1.0\r\n\r\n";
      asio::async_write(socket, asio::buffer(request), [&](asio::error_code wec, std::size_t) {
        if (wec) return void(result = wec);
        asio::async_read(socket, asio::dynamic_buffer(response), [&](asio::error_code rec, std::size_t) {
          result = rec == asio::error::eof ? asio::error_code{} : rec;
          deadline.cancel();
        });
      });
    });
  });
  io.run();
  if (result) {
    std::printf("probe %s: %s\n", host_port.c_str(), result.message().c_str());
    return 1;
  }
  auto status = response.substr(0, response.find('\r'));
  std::printf("probe %s: %s\n", host_port.c_str(), status.c_str());
  return status.rfind("HTTP/1.0 200", 0) == 0 || status.rfind("HTTP/1.1 200", 0) == 0 ? 0 : 1;
}

}  // namespace simul::server
