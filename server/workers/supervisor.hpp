// The parent of worker processes (workers > 1): it forks N single-threaded async workers that
// share every port through SO_REUSEPORT, restarts a worker that dies (with back-off), passes
// SIGINT/SIGTERM/SIGHUP on, and answers the metrics port for all of them. It serves no echo or
// chat itself. One thread, one io_context; nothing here blocks it: children are reaped on
// SIGCHLD with waitpid(WNOHANG), the config file is re-read on a helper thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "server/async/server.hpp"
#include "server/common/config.hpp"
#include "server/common/reload.hpp"
#include "server/common/stats.hpp"
#include "server/workers/restart_backoff.hpp"

namespace simul::server {

/// A worker's answer to an HTTP request on its private metrics listener.
struct worker_reply {
  unsigned status = 0;  // 200, 503, ...
  std::string body;
};

class supervisor {
 public:
  /// Reserves the echo, chat and TLS ports (a configured 0 becomes one free port the workers
  /// share), checks the TLS certificate and opens the metrics listener. Throws startup_error
  /// with the message a lone server would give ("echo listener 127.0.0.1:7007: address already
  /// in use"). `reloader` re-reads the config on SIGHUP (empty: SIGHUP is logged and ignored).
  supervisor(const config& cfg, config_reloader reloader);
  ~supervisor();
  supervisor(const supervisor&) = delete;
  supervisor& operator=(const supervisor&) = delete;

  /// Starts the workers and supervises them until all have exited after SIGINT/SIGTERM.
  /// Returns the exit code: 0 every worker drained and exited cleanly; 1 one did not, or the
  /// workers did not all start within the start-up deadline; 2 a worker could not start.
  /// A second SIGINT/SIGTERM during the drain passes it on and exits 1 at once.
  int run();

 private:
  using tcp = asio::ip::tcp;
  using clock = std::chrono::steady_clock;

  struct worker {
    unsigned index = 0;  // 1..N
    pid_t pid = -1;      // -1: not running
    bool ready = false;  // has reported its listeners open since its last start
    std::uint16_t metrics_port = 0;  // its private metrics listener (127.0.0.1)
    clock::time_point started{};
    restart_backoff backoff;
    std::uint64_t restarts = 0;
    std::uint64_t scrape_failures = 0;
    std::optional<asio::posix::stream_descriptor> channel;  // reads its one "ready" line
    std::optional<asio::steady_timer> restart;
    std::optional<asio::steady_timer> ready_deadline;  // after a restart: ready by then, or killed
  };

  void spawn(asio::awaitable<void> task, const char* what);
  void start(worker& w);
  /// Starts `w` after `wait`, unless a drain has begun by then.
  void start_later(worker& w, std::chrono::milliseconds wait);
  /// The child's side of start(): never returns.
  [[noreturn]] void become_worker(worker& w, int channel_fd);
  asio::awaitable<void> await_ready(worker& w);
  /// After a restart: a worker not ready within timeouts.worker_start_seconds is killed (and
  /// restarted as any worker that dies).
  void watch_readiness(worker& w);
  asio::awaitable<void> signal_watcher();
  asio::awaitable<void> child_watcher();
  void reap();
  void exited(worker& w, int status);
  void startup_failed(int code, const std::string& why);
  void begin_drain(int sig);
  void signal_workers(int sig);
  void reload();
  void check_done();
  std::size_t running() const;

  // Metrics (supervisor_metrics.cpp).
  asio::awaitable<void> metrics_listener();
  asio::awaitable<void> metrics_session(tcp::socket socket);
  /// GET `target` from every running worker's private listener at once, each within
  /// timeouts.worker_scrape_seconds; by worker (0-based), nothing for one that is not running
  /// or did not answer in time.
  asio::awaitable<std::vector<std::optional<worker_reply>>> ask_workers(std::string_view target);
  /// Every running worker's /metrics, merged with the supervisor's own.
  asio::awaitable<std::string> gather_metrics();
  /// True when a worker can be not ready while the supervisor is (chat on a network: a worker
  /// cut off from it answers its /readyz 503): then /readyz asks the workers too.
  bool workers_report_readiness() const;
  /// The running workers whose /readyz is not 200, one "worker i: <its reason>" line each;
  /// empty when none is. A worker that does not answer in time is not counted.
  asio::awaitable<std::string> workers_not_ready();
  std::string own_metrics(const std::vector<bool>& scraped) const;
  bool ready_for_traffic(std::string& why) const;

  config cfg_;
  config_reloader reloader_;
  worker_role ports_;           // the resolved ports every worker opens
  std::vector<int> reserved_;   // sockets bound, not listening: they hold the ports between workers
  std::vector<worker> workers_;
  stats stats_;                 // the supervisor's own counters (config reloads)
  pid_t self_ = -1;
  bool started_ = false;        // every worker has been ready once
  bool draining_ = false;
  int exit_code_ = 0;
  bool reloading_ = false;
  std::thread reload_thread_;   // the last reload's reader; joined when its result arrives
  std::size_t metrics_sessions_ = 0;

  asio::io_context io_{1};
  std::optional<tcp::acceptor> metrics_acceptor_;
  asio::signal_set signals_{io_, SIGINT, SIGTERM, SIGHUP};
  asio::signal_set children_{io_, SIGCHLD};
  asio::steady_timer start_deadline_{io_};
};

}  // namespace simul::server
