// A share of a run's connections and what drives it: the worker threads of this process
// (local_shard), or child processes that each run a local_shard of their own (process_group, when
// one process cannot hold every connection). The runner drives exactly one shard; every member
// function is called on the main thread.
#pragma once

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "client/run_context.hpp"
#include "client/stats.hpp"
#include "core/histogram.hpp"

namespace simul::load {

/// What a shard reports at the end: its last statistics and the whole run's histograms.
struct shard_totals {
  snapshot last;               // final counters, errors and setup counts (interval: since the last collect)
  core::histogram latency;     // the whole run, nanoseconds
  core::histogram handshakes;  // --tls
  core::histogram cross_target;  // chat: deliveries whose sender is on another target
};

class shard {
 public:
  virtual ~shard() = default;

  /// Starts the connection ramp; connection id i is due at epoch + i / --connect-rate. The
  /// steady clock is the system's monotonic clock, so one epoch serves every process.
  virtual void start(clock::time_point epoch) = 0;
  /// The statistics now, merged; with take_interval the per-second histograms are moved out.
  virtual snapshot collect(bool take_interval) = 0;
  /// How often the setup phase may poll collect(false).
  virtual clock::duration setup_poll() const = 0;
  /// The measured phase runs from `start` to `deadline`; connections not set up are aborted.
  virtual void go(clock::time_point start, clock::time_point deadline) = 0;
  /// Ctrl-C: moves the deadline earlier.
  virtual void end_early(clock::time_point deadline) = 0;
  /// Ends the run: sessions are aborted, threads (and processes) are given `grace` to finish.
  virtual shard_totals finish(std::chrono::milliseconds grace) = 0;
  /// One line per child process that failed (crashed, stopped answering); empty for threads.
  virtual std::vector<std::string> failures() const { return {}; }
};

/// This process's worker threads over connection ids ≡ share.index (mod share.count).
/// `opts.threads` threads, `opts.sources` as this process's source addresses.
std::unique_ptr<shard> make_local_shard(const options& opts, std::vector<asio::ip::tcp::endpoint> targets,
                                        shard_share share, const std::string& run_tag);

}  // namespace simul::load
