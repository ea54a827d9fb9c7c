// POSIX socket helpers for the threaded model.
#include "server/threaded/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "server/common/lifecycle.hpp"

namespace simul::server {

int open_listen_socket(service svc, const std::string& bind, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* res = nullptr;
  if (::getaddrinfo(bind.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    throw listener_error(svc, bind, port, "bad bind address");
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int err = fd < 0 ? errno : 0;
  if (!err) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) err = errno;
  }
  ::freeaddrinfo(res);
  if (err) {
    if (fd >= 0) ::close(fd);
    throw listener_error(svc, bind, port, std::strerror(err));
  }
  return fd;
}

std::uint16_t local_port(int fd) noexcept {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (fd < 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

std::string peer_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  char text[INET6_ADDRSTRLEN] = {};
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "unknown";
  const void* addr = nullptr;
  if (ss.ss_family == AF_INET) addr = &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr;
  if (ss.ss_family == AF_INET6) addr = &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr;
  if (!addr || !::inet_ntop(ss.ss_family, addr, text, sizeof text)) return "unknown";
  return text;
}

int poll_timeout_ms(steady_clock::time_point deadline) noexcept {
  if (deadline == steady_clock::time_point::max()) return -1;
  auto now = steady_clock::now();
  if (deadline <= now) return 0;
  // Round up: waking a little late is harmless, waking early costs another poll() round.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

void set_io_timeouts(int fd, std::chrono::milliseconds timeout) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void set_no_delay(int fd) noexcept {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

std::size_t send_all(int fd, std::string_view data, steady_clock::time_point deadline) noexcept {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
    pollfd p{fd, POLLOUT, 0};
    int r = ::poll(&p, 1, poll_timeout_ms(deadline));
    if (r == 0) break;  // deadline
    if (r < 0 && errno != EINTR) break;
  }
  return done;
}

void send_now(int fd, std::string_view data) noexcept {
  (void)::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace simul::server
