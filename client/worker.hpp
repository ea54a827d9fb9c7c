// One event-loop thread of simul-load: its io_context, its share of the sessions, its statistics.
// The run's phases (setup → running → stopping) are driven from the main thread by posting to it.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <list>
#include <optional>
#include <thread>

#include "client/run_context.hpp"
#include "client/stats.hpp"

namespace simul::load {

class worker;

enum class run_phase { setup, running, stopping };

/// Something the worker can abort from outside its coroutine: a connection or a launcher. It
/// registers itself for its lifetime (it lives in the coroutine's frame). Worker thread only.
class session_base {
 public:
  explicit session_base(worker& w);
  virtual ~session_base();
  session_base(const session_base&) = delete;
  session_base& operator=(const session_base&) = delete;

  /// Closes sockets and cancels timers so that the owning coroutine ends soon. Must not destroy
  /// anything: the coroutine sees operation_aborted and unwinds itself.
  virtual void on_abort() = 0;

  worker& owner() const noexcept { return w_; }
  bool ready() const noexcept { return ready_; }
  bool aborted() const noexcept { return aborted_; }
  /// Why the session was aborted ("setup timeout"), or nullptr for the normal end of the run.
  const char* abort_reason() const noexcept { return abort_reason_; }

 protected:
  bool ready_ = false;  // setup finished: not aborted when the run starts

 private:
  friend class worker;
  void abort(const char* reason);

  worker& w_;
  std::list<session_base*>::iterator it_;
  const char* abort_reason_ = nullptr;
  bool aborted_ = false;
};

/// Owns a thread that runs one io_context. Members marked "main thread" are called by the runner;
/// everything else runs on the worker's own thread.
class worker {
 public:
  worker(std::size_t index, std::size_t count, run_context& run);
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // ---- main thread ----
  /// Starts the thread and runs `init` on it (the scenario spawns its sessions there).
  void start(std::function<void(worker&)> init);
  /// Switches to the running phase: sessions not ready are aborted ("setup timeout"), waiters on
  /// wait_for_go() resume. Returns once the worker has switched.
  void go(clock::time_point start, clock::time_point deadline);
  /// Moves the deadline earlier (Ctrl-C): sessions stop sending as they would at the deadline.
  void end_early(clock::time_point deadline);
  /// A copy of the statistics; with take_interval the per-second histogram is moved out and reset.
  snapshot collect(bool take_interval);
  /// Ends the run: every session is aborted, the io_context is allowed to run out of work.
  void stop();
  /// Waits for the thread; after `grace` the io_context is stopped and remaining sessions dropped.
  void join(std::chrono::milliseconds grace);
  /// The final statistics, after join().
  thread_stats& final_stats() noexcept { return stats_; }

  // ---- worker thread ----
  asio::io_context& context() noexcept { return ctx_; }
  thread_stats& stats() noexcept { return stats_; }
  run_context& run() noexcept { return run_; }
  std::size_t index() const noexcept { return index_; }
  std::size_t count() const noexcept { return count_; }
  /// This worker's connection ids are first_id(), first_id() + id_stride(), ...: the workers of
  /// every process of the run interleave over one numbering (process shares, then threads).
  std::size_t first_id() const noexcept { return run_.share.index + run_.share.count * index_; }
  std::size_t id_stride() const noexcept { return run_.share.count * count_; }
  run_phase phase() const noexcept { return phase_; }
  clock::time_point go_time() const noexcept { return go_time_; }
  clock::time_point deadline() const noexcept { return deadline_; }

  /// Suspends until the run starts; true if it is running, false if it is already stopping.
  asio::awaitable<bool> wait_for_go();
  /// Suspends until the run stops (a session that finished its work keeps its connection open,
  /// so that "held at the end" counts it).
  asio::awaitable<void> wait_for_stop();
  /// Limits the connects in progress on this worker (a ramp without --connect-rate still must not
  /// fire thousands of SYNs at once and overflow the server's listen backlog). Also returns when
  /// the setup phase ends; the slot is then taken all the same and must be released.
  asio::awaitable<void> acquire_connect_slot();
  void release_connect_slot();
  /// Counts one connection's setup as finished; the runner waits until all have.
  void setup_finished(bool ok);
  /// co_spawn on this worker with a completion handler that records an escaped exception.
  void spawn(asio::awaitable<void> body);

  static constexpr std::size_t max_pending_connects = 256;

 private:
  friend class session_base;

  void abort_sessions(bool only_unready, const char* reason);

  // Declared before ctx_: frames destroyed with the io_context still unregister and count.
  thread_stats stats_;
  std::list<session_base*> sessions_;
  run_context& run_;
  std::size_t index_;
  std::size_t count_;
  run_phase phase_ = run_phase::setup;
  clock::time_point go_time_{};
  clock::time_point deadline_ = clock::time_point::max();
  std::size_t pending_connects_ = 0;

  asio::io_context ctx_{1};  // one thread: Asio may skip its internal locking
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  asio::steady_timer go_timer_{ctx_, clock::time_point::max()};
  asio::steady_timer stop_timer_{ctx_, clock::time_point::max()};
  asio::steady_timer slot_timer_{ctx_, clock::time_point::max()};
  std::promise<void> done_;
  std::thread thread_;
};

}  // namespace simul::load
