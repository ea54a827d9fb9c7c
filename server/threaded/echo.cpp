// The threaded model's echo service: one thread per connection, blocking reads and writes.
// Backpressure is free: while a write blocks, this thread reads nothing more from the client.
#include <sys/socket.h>

#include <cerrno>

#include "server/threaded/server.hpp"
#include "server/threaded/socket.hpp"

namespace simul::server {

namespace {
// Read size. On this thread's own stack: untouched pages cost nothing, so an idle connection
// costs no buffer memory until it first sends this much.
constexpr std::size_t echo_buffer_bytes = 16 * 1024;
}  // namespace

void threaded_server::echo_session(threaded_conn& c) {
  auto& st = stats_.of(service::echo);
  set_no_delay(c.fd);
  // The idle timeout is the kernel's: a read waits at most this long for input, a write at most
  // this long without progress (the async sweeper counts from the last read instead; the
  // outcome, "idle", is the same).
  set_io_timeouts(c.fd, c.cfg->timeouts.idle);
  char buf[echo_buffer_bytes];
  auto why = disconnect_reason::client;
  // seq_cst, with `busy`: a drain that skipped this connection as busy is seen here after the write.
  while (!draining_.load()) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0) break;  // EOF (also half-close), or the drain's SHUT_RD
    if (n < 0) {
      if (errno == EINTR) continue;
      why = errno == EAGAIN || errno == EWOULDBLOCK ? disconnect_reason::idle : disconnect_reason::error;
      break;
    }
    st.bytes_in_total.add(static_cast<std::size_t>(n));
    c.bytes_in += static_cast<std::size_t>(n);
    std::size_t written = 0;
    c.busy.store(true);
    while (written < static_cast<std::size_t>(n)) {
      ssize_t w = ::send(c.fd, buf + written, static_cast<std::size_t>(n) - written, MSG_NOSIGNAL);
      if (w > 0) {
        written += static_cast<std::size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else {
        why = w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? disconnect_reason::idle
                                                                      : disconnect_reason::error;
        break;
      }
    }
    c.busy.store(false);
    st.bytes_out_total.add(written);
    c.bytes_out += written;
    if (written < static_cast<std::size_t>(n)) break;
  }
  if (draining_.load() && why != disconnect_reason::idle) why = disconnect_reason::shutdown;
  c.decide(stats_, why);
  // No shutdown(SHUT_WR) here: release() counts the disconnect, then its close() sends the FIN.
}

}  // namespace simul::server
