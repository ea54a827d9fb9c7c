// The threaded model: an acceptor thread per listener and one OS thread per connection with
// blocking socket calls (two for chat: a reader and a writer). run()'s thread is the control
// thread: it waits for signals and shutdown requests, logs stats and runs the drain.
//
// Shared state is small and locked: the connection registry and per-IP counts (reg_mu_), the
// chat hub (threaded_chat's mutex). Counters are relaxed atomics (stats.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/common/admission.hpp"
#include "server/common/config.hpp"
#include "server/common/logging.hpp"
#include "server/common/server.hpp"
#include "server/threaded/spawner.hpp"

namespace simul::server {

class threaded_chat;

/// One accepted connection: its socket and bookkeeping. Created by admit() on an acceptor
/// thread, owned by the connection's thread, listed in the registry (so that the drain can
/// reach its socket) until release() closes it.
struct threaded_conn {
  int fd = -1;
  service svc = service::echo;
  std::string address;                     // peer address: the per-IP key and the chat host
  std::atomic<bool> hard_closed{false};    // the drain deadline shut the socket down
  std::atomic<bool> busy{false};           // echo: mid-write (the drain lets it finish)
  std::shared_ptr<const config> cfg;       // the configuration when it was accepted (reloads make new ones)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::uint64_t bytes_in = 0;   // by the reading thread; for the close's debug line
  std::uint64_t bytes_out = 0;  // by the writing thread (chat: the writer, joined before the close)

  /// Decides why the connection ends and counts it in the disconnect counters: the first
  /// decision counts, later ones do nothing. By the owning thread (chat: under the session's
  /// mutex), so whoever sees the ERROR, the QUIT or the close also sees the count.
  void decide(stats& st, disconnect_reason why) noexcept {
    if (decided_) return;
    decided_ = true;
    reason_ = why;
    if (svc != service::metrics) st.disconnected(svc, why);
  }
  bool decided() const noexcept { return decided_; }
  disconnect_reason reason() const noexcept { return reason_; }

 private:
  bool decided_ = false;
  disconnect_reason reason_ = disconnect_reason::client;
};

/// The reason given when no thread could be created for a connection.
inline constexpr std::string_view out_of_threads = "too many connections (out of threads)";

class threaded_server final : public server {
 public:
  /// Binds every enabled listener. Throws startup_error.
  explicit threaded_server(const config& cfg);
  ~threaded_server() override;

  void run(bool handle_signals) override;
  void request_shutdown() override;
  std::uint16_t echo_port() const override { return echo_listener_.port; }
  std::uint16_t chat_port() const override { return chat_listener_.port; }
  std::uint16_t metrics_port() const override { return metrics_listener_.port; }
  const stats& counters() const override { return stats_; }

 private:
  struct listener {
    service svc;
    int fd = -1;
    std::uint16_t port = 0;
    int stop_fd = -1;  // readable once this listener should stop (drain_fd_ or stop_fd_)
  };

  // Unlists and closes the connection when its thread is done with it.
  class conn_guard;

  void acceptor(listener& l);
  std::unique_ptr<threaded_conn> admit(int fd, service svc);
  void dispatch(std::unique_ptr<threaded_conn> conn, log_limiter& thread_log);
  void release(threaded_conn& c);
  void echo_session(threaded_conn& c);
  void metrics_session(threaded_conn& c);
  void chat_session(threaded_conn& c);

  void begin_drain();
  void reload();  // SIGHUP, on the control thread
  std::shared_ptr<const config> current_config() const;
  void shut_down_sockets(bool include_metrics);
  std::size_t open_connections() const;
  void finish();

  const config cfg_;  // as started: read by every thread; a reload changes current_, never this
  stats stats_;
  thread_spawner threads_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> run_called_{false};

  // Eventfds, level-triggered (written once, never read): readable from the drain on (echo and
  // chat acceptors, chat readers), from the end of the drain on (metrics), on request_shutdown(),
  // and when the last echo or chat connection of a drain has closed.
  int drain_fd_ = -1;
  int stop_fd_ = -1;
  int wake_fd_ = -1;
  int drained_fd_ = -1;

  listener echo_listener_{service::echo};
  listener chat_listener_{service::chat};
  listener metrics_listener_{service::metrics};
  std::vector<std::thread> acceptors_;
  std::unique_ptr<threaded_chat> chat_;

  mutable std::mutex reg_mu_;
  std::unordered_set<threaded_conn*> conns_;  // guarded by reg_mu_
  admission admission_;                       // echo + chat; guarded by reg_mu_
  std::shared_ptr<const config> current_;     // what new connections get; guarded by reg_mu_
};

}  // namespace simul::server
