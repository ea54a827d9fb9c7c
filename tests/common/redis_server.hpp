// A real redis-server (Debian's package) for tests: started on a free loopback port with no
// persistence, and able to be killed (-9), paused (SIGSTOP), resumed and restarted on the same
// port, for the failure cases. Every wait has a deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/common/process.hpp"

namespace simul::test {

class redis_server {
 public:
  /// Starts redis-server on a free port and waits until it answers PING; ok() says if it did.
  redis_server() {
    for (int i = 0; i < 5 && !ok_; ++i) {
      port_ = free_port();
      ok_ = port_ != 0 && start();
    }
  }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;
  ~redis_server() { kill9(); }

  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }
  int pid() const { return pid_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  /// (Re)starts it on the same port; true once it answers PING (within 10 s).
  bool start() {
    if (pid_ > 0) return ping();
    static int counter = 0;
    log_ = temp_path("redis-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + ".log");
    std::vector<std::string> args{"/usr/bin/redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--daemonize", "no",
                                  "--dir", "/tmp", "--loglevel", "warning", "--logfile", log_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (pid_ <= 0) return false;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
      if (ping(std::chrono::milliseconds(500))) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: the port was taken, say
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  /// SIGKILL and reap (no-op when not running).
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void pause() { send_signal(SIGSTOP); }
  void resume() { send_signal(SIGCONT); }

  /// True if a PING on a fresh connection is answered +PONG within the deadline.
  bool ping(std::chrono::milliseconds deadline = std::chrono::milliseconds(2000)) const {
    return query("PING\r\n", deadline).starts_with("+PONG");
  }

  /// Sends one request (RESP or an inline command) on a fresh connection and returns what came
  /// back before the deadline or the first "\r\n" after at least one byte; "" on failure. For
  /// single-line replies (status, integer, error): e.g. query("DBSIZE\r\n") == ":0\r\n".
  std::string query(std::string_view request, std::chrono::milliseconds deadline = std::chrono::milliseconds(2000)) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return {};
    const auto until = std::chrono::steady_clock::now() + deadline;
    auto left = [&] {
      return static_cast<int>(std::max<long long>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count()));
    };
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 || errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, left()) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 &&
          ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        char buf[4096];
        while (out.find("\r\n") == std::string::npos) {
          p = {fd, POLLIN, 0};
          if (::poll(&p, 1, left()) != 1) break;
          const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n <= 0) break;
          out.append(buf, static_cast<std::size_t>(n));
        }
      }
    }
    ::close(fd);
    return out;
  }

 private:
  void send_signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  static std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    std::uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    return port;
  }

  std::uint16_t port_ = 0;
  int pid_ = -1;
  bool ok_ = false;
  std::string log_;
};

}  // namespace simul::test
