// The async model's echo service: bytes back, in order, with backpressure and no idle buffer.
#include <asio/write.hpp>

#include "server/async/connection.hpp"

namespace simul::server {

asio::awaitable<void> async_server::echo_session(tcp::socket socket) {
  connection_guard guard(*this, echo_conns_, service::echo, socket);
  auto& conn = guard.entry;
  auto& st = stats_.of(service::echo);
  asio::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);
  while (!draining_ && !conn.closing) {
    // Wait for readability without holding a buffer: idle connections cost no buffer memory.
    auto [wec] = co_await socket.async_wait(tcp::socket::wait_read, nothrow);
    if (wec || conn.closing) break;
    std::size_t n = socket.read_some(asio::buffer(scratch_), ec);
    if (ec == asio::error::would_block) continue;
    if (ec) {
      if (ec != asio::error::eof) conn.reason = disconnect_reason::error;
      break;
    }
    echo_conns_.touch(conn, clock::now());
    st.bytes_in_total.add(n);
    std::size_t written = socket.write_some(asio::buffer(scratch_.data(), n), ec);
    if (ec == asio::error::would_block) written = 0, ec = {};
    if (ec) {
      conn.reason = disconnect_reason::error;
      break;
    }
    if (written < n) {
      // The peer reads slower than it writes: keep only the rest, and read nothing more from it
      // until that is gone (backpressure instead of an unbounded buffer).
      std::string rest(scratch_.data() + written, n - written);
      conn.busy = true;
      auto [aec, more] = co_await asio::async_write(socket, asio::buffer(rest), nothrow);
      conn.busy = false;
      written += more;
      if (aec) {
        if (!conn.closing) conn.reason = disconnect_reason::error;
        st.bytes_out_total.add(written);
        break;
      }
    }
    st.bytes_out_total.add(written);
  }
  if (draining_ && !conn.closing) conn.reason = disconnect_reason::shutdown;
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace simul::server
