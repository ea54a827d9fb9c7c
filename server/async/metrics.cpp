// The async model's metrics listener sessions: one HTTP/1.0 request, one response, close.
#include <asio/write.hpp>

#include "server/async/session_scope.hpp"
#include "server/common/metrics.hpp"

namespace simul::server {

asio::awaitable<void> async_server::metrics_session(tcp::socket socket) {
  stream_connection conn(socket);
  session_scope scope(*this, service::metrics, conn, nullptr);
  std::string request;
  std::array<char, 1024> buf;
  while (request.size() < max_http_request_bytes && !http_request_complete(request)) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), nothrow);
    if (ec) co_return;
    request.append(buf.data(), n);
  }
  auto& st = stats_.of(service::metrics);
  st.bytes_in_total.add(request.size());
  std::string reply = http_reply(request, stats_, draining_, cfg_.model);
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(reply), nothrow);
  st.bytes_out_total.add(n);
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace simul::server
