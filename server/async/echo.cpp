// The async model's echo service: bytes back, in order, with backpressure and no idle buffer.
#include <string>

#include "server/async/echo_read.hpp"
#include "server/async/session_scope.hpp"
#include "server/async/tls_stream.hpp"

namespace simul::server {

template <session_stream Stream>
asio::awaitable<void> async_server::echo_session(Stream stream, std::string address) {
  stream_connection conn(stream);
  session_scope scope(*this, service::echo, conn, &address);
  auto& st = stats_.of(service::echo);
  asio::error_code ec;
  stream.set_option(tcp::no_delay(true), ec);
  stream.non_blocking(true, ec);
  // Plain TCP reads with async_echo_read (echo_read.hpp: a recv and a send per message); a TLS
  // stream waits for readiness and then reads. Both read into the echo sessions' shared buffer
  // (echo_read_), so no connection holds a buffer while it is idle.
  while (!draining_ && !conn.stopped()) {
    std::size_t n = 0;
#if SIMUL_ECHO_REACTOR_READ
    if constexpr (std::is_same_v<Stream, tcp_stream>) {
      auto [rec, k] = co_await async_echo_read(stream, echo_read_, nothrow);
      if (k > 0) echo_read_.held = false;  // ours: used before the next suspension
      if (rec == asio::error::operation_aborted || conn.stopped()) break;
      ec = rec;
      n = k;
    } else
#endif
    {
      auto [wec] = co_await stream.async_wait(tcp::socket::wait_read, nothrow);
      if (wec || conn.stopped()) break;
    }
    if (n == 0 && !ec) {
      // Readable, nothing read yet: read here. Bytes another session's read left in the buffer
      // for it come first (only if its completion was queued instead of run at once): wait
      // again, behind that completion.
      if (echo_read_.held) continue;
      n = stream.read_some(asio::buffer(echo_read_.data, echo_read_.size), ec);
      if (ec == asio::error::would_block) continue;
    }
    if (ec) {
      if (ec != asio::error::eof) conn.decide(disconnect_reason::error);
      break;
    }
    echo_conns_.touch(conn, clock::now());
    st.bytes_in_total.add(n);
    conn.bytes_in += n;
    std::size_t written = stream.write_some(asio::buffer(echo_read_.data, n), ec);
    if (ec == asio::error::would_block) written = 0, ec = {};
    if (written < n && !ec) {
      // The peer reads slower than it writes: keep only the rest, and read nothing more from it
      // until that is gone (backpressure instead of an unbounded buffer).
      std::string rest(echo_read_.data + written, n - written);
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
