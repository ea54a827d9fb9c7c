// The threaded model's metrics listener sessions: one HTTP/1.0 request, one response, close.
// Every wait has the deadline the async model's sweeper gives a metrics connection.
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "server/common/metrics.hpp"
#include "server/threaded/server.hpp"
#include "server/threaded/socket.hpp"

namespace simul::server {

void threaded_server::metrics_session(threaded_conn& c) {
  const auto deadline = steady_clock::now() + metrics_request_timeout;
  std::string request;
  char buf[1024];
  while (request.size() < max_http_request_bytes && !http_request_complete(request)) {
    pollfd p{c.fd, POLLIN, 0};
    int r = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (r == 0) return;  // too slow: closed without an answer
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
      return;
    }
    request.append(buf, static_cast<std::size_t>(n));
  }
  auto& st = stats_.of(service::metrics);
  st.bytes_in_total.add(request.size());
  std::string reply = http_reply(request, stats_, draining_.load(), cfg_.model);
  st.bytes_out_total.add(send_all(c.fd, reply, deadline));
  ::shutdown(c.fd, SHUT_WR);
}

}  // namespace simul::server
