// The async model's echo service: bytes back, in order, with backpressure and no idle buffer.
#include <string>

#include "server/async/session_scope.hpp"
#include "server/async/tls_stream.hpp"

namespace simul::server {

template <session_stream Stream>
asio::awaitable<void> async_server::echo_session(Stream stream, std::string address) {
  stream_connection conn(stream);
  session_scope scope(*this, service::echo, conn, std::move(address));
  auto& st = stats_.of(service::echo);
  asio::error_code ec;
  stream.set_option(tcp::no_delay(true), ec);
  stream.non_blocking(true, ec);
  while (!draining_ && !conn.stopped()) {
    // Wait for readability without holding a buffer: idle connections cost no buffer memory.
    auto [wec] = co_await stream.async_wait(tcp::socket::wait_read, nothrow);
    if (wec || conn.stopped()) break;
    std::size_t n = stream.read_some(asio::buffer(scratch_), ec);
    if (ec == asio::error::would_block) continue;
    if (ec) {
      if (ec != asio::error::eof) conn.decide(disconnect_reason::error);
      break;
    }
    echo_conns_.touch(conn, clock::now());
    st.bytes_in_total.add(n);
    conn.bytes_in += n;
    std::size_t written = stream.write_some(asio::buffer(scratch_.data(), n), ec);
    if (ec == asio::error::would_block) written = 0, ec = {};
    if (written < n && !ec) {
      // The peer reads slower than it writes: keep only the rest, and read nothing more from it
      // until that is gone (backpressure instead of an unbounded buffer).
      std::string rest(scratch_.data() + written, n - written);
      std::size_t done = 0;
      conn.busy = true;
      while (done < rest.size() && !ec) {
        auto [aec] = co_await stream.async_wait(tcp::socket::wait_write, nothrow);
        if (aec) {
          ec = aec;
          break;
        }
        done += stream.write_some(asio::buffer(rest.data() + done, rest.size() - done), ec);
        if (ec == asio::error::would_block) ec = {};
      }
      written += done;
      conn.busy = false;
    }
    st.bytes_out_total.add(written);
    conn.bytes_out += written;
    if (ec) {
      conn.decide(disconnect_reason::error);  // unless stopped before: the first reason counts
      break;
    }
  }
  if (draining_) conn.decide(disconnect_reason::shutdown);
  stream.shutdown(tcp::socket::shutdown_send, ec);
}
template asio::awaitable<void> async_server::echo_session(tcp_stream, std::string);
template asio::awaitable<void> async_server::echo_session(tls_stream, std::string);

}  // namespace simul::server
