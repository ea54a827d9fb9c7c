// The health probe: a blocking HTTP/1.0 GET /healthz with a 3 s deadline, and where to send it
// when the command line names no HOST:PORT (the metrics listener of the effective config).
#include "server/common/probe.hpp"

#include <cstdio>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

namespace simul::server {

std::optional<host_port> parse_host_port(const std::string& text, std::string& error) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    error = "expected HOST:PORT, got \"" + text + "\"";
    return std::nullopt;
  }
  std::string port = text.substr(colon + 1);
  bool digits = !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoul(port) == 0 || std::stoul(port) > 65535) {
    error = "port must be between 1 and 65535, got \"" + port + "\"";
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host_port{host, static_cast<std::uint16_t>(std::stoul(port))};
}

std::string probe_target(const config& cfg, const config_origins& origins) {
  // "WHERE: KEY: REASON", as every config error reads.
  auto refuse = [&](const std::string& key, const std::string& reason) {
    auto it = origins.find(key);
    throw config_error((it == origins.end() ? "" : it->second + ": ") + key + ": " + reason);
  };
  if (!cfg.metrics.enabled) {
    refuse("metrics.enabled", "--probe needs the metrics listener (GET /healthz), and this "
                              "configuration disables it");
  }
  if (cfg.metrics.port == 0) {
    refuse("metrics.port", "--probe needs a fixed port, and 0 means any free port; set one, or "
                           "give --probe HOST:PORT");
  }
  asio::error_code ec;
  auto address = asio::ip::make_address(cfg.bind, ec);
  if (ec) refuse("bind", "must be an IPv4 or IPv6 address (got \"" + cfg.bind + "\")");
  if (address.is_unspecified()) {
    address = address.is_v4() ? asio::ip::address(asio::ip::address_v4::loopback())
                              : asio::ip::address(asio::ip::address_v6::loopback());
  }
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(cfg.metrics.port);
}

int probe_health(const std::string& target) {
  std::string error;
  auto hp = parse_host_port(target, error);
  if (!hp) {
    std::fprintf(stderr, "probe: %s\n", error.c_str());
    return 2;
  }
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::ip::tcp::resolver resolver(io);
  std::string response;
  asio::error_code result;
  bool expired = false;
  asio::steady_timer deadline(io, std::chrono::seconds(3));
  deadline.async_wait([&](asio::error_code ec) {
    if (ec) return;
    expired = true;
    result = asio::error::timed_out;
    resolver.cancel();
    socket.close();
  });
  // Every outcome ends the wait: a refused connection reports at once, not after the deadline.
  auto finish = [&](asio::error_code ec) {
    if (!expired) result = ec;  // after the deadline, the aborted operation says "timed out"
    deadline.cancel();
  };
  resolver.async_resolve(hp->host, std::to_string(hp->port),
                         [&](asio::error_code ec, asio::ip::tcp::resolver::results_type eps) {
    if (ec) return finish(ec);
    asio::async_connect(socket, eps, [&](asio::error_code cec, const asio::ip::tcp::endpoint&) {
      if (cec) return finish(cec);
      static const std::string request = "GET /healthz HTTP/1.0\r\n\r\n";
      asio::async_write(socket, asio::buffer(request), [&](asio::error_code wec, std::size_t) {
        if (wec) return finish(wec);
        asio::async_read(socket, asio::dynamic_buffer(response), [&](asio::error_code rec, std::size_t) {
          finish(rec == asio::error::eof ? asio::error_code{} : rec);
        });
      });
    });
  });
  io.run();
  if (result) {
    std::printf("probe %s: %s\n", target.c_str(), result.message().c_str());
    return 1;
  }
  auto status = response.substr(0, response.find('\r'));
  std::printf("probe %s: %s\n", target.c_str(), status.c_str());
  return status.rfind("HTTP/1.0 200", 0) == 0 || status.rfind("HTTP/1.1 200", 0) == 0 ? 0 : 1;
}

}  // namespace simul::server
