// Helpers for integration tests: an in-process server on port 0, the real binary as a child
// process, and blocking POSIX client sockets whose every wait has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "server/common/config.hpp"
#include "server/common/server.hpp"

namespace simul::test {

using namespace std::chrono_literals;
using server::model_kind;

/// The model's name ("async", "threaded"), for command lines and file names.
inline std::string model_name(model_kind m) { return std::string(server::to_string(m)); }

/// Runs `body(m)` once for every model in the model table, the model's name captured in
/// failure messages: how every integration case runs against both models.
template <class Body>
void for_each_model(Body&& body) {
  for (const auto& info : server::model_table) {
    const std::string model(info.name);
    CAPTURE(model);
    body(info.kind);
  }
}

/// Defaults with every listener on port 0 (any free port) and quiet logs.
server::config test_config(model_kind m);

/// A server running on its own thread; stops (drain) and joins on destruction.
class running_server {
 public:
  explicit running_server(const server::config& cfg);
  ~running_server();
  void stop();  // request_shutdown + join; idempotent
  server::server& get() { return *srv_; }
  std::uint16_t echo_port() const { return srv_->echo_port(); }
  std::uint16_t chat_port() const { return srv_->chat_port(); }
  std::uint16_t metrics_port() const { return srv_->metrics_port(); }

 private:
  std::unique_ptr<server::server> srv_;
  std::thread thread_;
};

/// A blocking client socket with deadlines on every wait. Closes on destruction.
class client {
 public:
  client() = default;
  /// Connects to host:port, from `source` (an address on this machine) when given.
  explicit client(std::uint16_t port, const char* host = "127.0.0.1", const char* source = nullptr);
  client(client&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  client& operator=(client&& o) noexcept;
  ~client();

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }
  void send(std::string_view bytes);                      // all of it, or fails the test
  /// Non-blocking send: how many bytes the kernel took right now (0 also when closed).
  std::size_t try_send(std::string_view bytes);
  /// Sends `chunk` again and again, reading nothing, until the socket is full: the peer stopped
  /// reading, so no room frees up within `settle` (poll for POLLOUT). Stops early after `limit`
  /// bytes. Returns the bytes sent. The send buffer keeps the kernel's sizing: a small fixed
  /// SO_SNDBUF makes each bit of room wait for the peer's delayed ACK (40-200 ms seen), which
  /// blurs "slow" and "stopped"; with the kernel's sizing, room comes within 3 ms while the
  /// peer reads.
  std::size_t fill(std::string_view chunk, std::size_t limit = SIZE_MAX,
                   std::chrono::milliseconds settle = 250ms);
  /// Reads exactly n bytes; fewer if EOF or the deadline comes first.
  std::string recv_exact(std::size_t n, std::chrono::milliseconds deadline = 10s);
  /// Reads one line (without CRLF/LF); nullopt on EOF or deadline.
  std::optional<std::string> recv_line(std::chrono::milliseconds deadline = 10s);
  /// Reads lines until one contains `needle`; returns it, or nullopt.
  std::optional<std::string> wait_for(std::string_view needle, std::chrono::milliseconds deadline = 10s);
  /// True when the peer closed (EOF or reset) within the deadline; discards data until then.
  bool wait_closed(std::chrono::milliseconds deadline = 10s);
  void shutdown_write();

 private:
  int fd_ = -1;
  std::string pending_;  // bytes read past the last returned line
};

/// A chat client registered as `nick` (NICK and USER), its welcome burst read up to 422 (no MOTD).
client irc(std::uint16_t port, const std::string& nick);

/// `c` joins `room`; waits for the end of its NAMES (366).
void join(client& c, const std::string& room);

/// One HTTP/1.0 GET; returns the whole response ("" on failure).
std::string http_get(std::uint16_t port, const std::string& path);

/// The value of a Prometheus sample line (name including labels), or -1.
double metric(const std::string& body, const std::string& sample);

/// Scrapes /metrics on `port` and returns one sample's value (-1 if absent or unreachable).
double scrape(std::uint16_t port, const std::string& sample);

/// Polls `pred` every 10 ms until it holds or the deadline passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds deadline = 10s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// simul-server as a child process with stderr captured to a file.
class server_process {
 public:
  explicit server_process(const std::vector<std::string>& args);
  ~server_process();  // SIGKILL if still running
  void signal(int sig);
  /// Exit status (or 128+signal); nullopt if it did not exit within the deadline.
  std::optional<int> wait(std::chrono::milliseconds deadline = 20s);
  std::string stderr_text() const;
  /// Waits for the start-up log line and reads the bound ports from it.
  bool wait_ready(std::chrono::milliseconds deadline = 10s);
  std::uint16_t echo_port = 0, chat_port = 0, metrics_port = 0;
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

/// Writes text to a fresh temporary file and returns its path.
std::string temp_file(const std::string& text, const std::string& suffix = ".yaml");

}  // namespace simul::test
