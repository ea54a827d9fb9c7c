// Per-thread statistics of a run: plain counters, errors by cause and latency histograms.
// Each worker thread owns one thread_stats and is the only one to touch it; the main thread
// reads copies (snapshots) taken on the worker's thread, and merges them (no shared atomics).
#pragma once

#include <cstdint>
#include <vector>

#include "client/errors.hpp"
#include "core/histogram.hpp"

namespace simul::load {

/// Cumulative counters (gauges are marked). Summed across threads with +=.
struct counters {
  std::uint64_t connects_started = 0;   // connection attempts begun
  std::uint64_t connects_ok = 0;        // TCP connects that succeeded
  std::uint64_t connects_failed = 0;    // attempts that failed (connect or setup)
  std::int64_t connections_up = 0;      // gauge: sockets connected right now
  std::uint64_t connections_lost = 0;   // ended by an error after setup
  std::uint64_t msgs_sent = 0;
  std::uint64_t msgs_received = 0;      // echo: verified echoes; chat: deliveries (with duplicates)
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::int64_t outstanding = 0;         // gauge: echoes still expected
  std::uint64_t chat_distinct = 0;      // chat: first deliveries of a (sender, seq) to a receiver
  std::uint64_t chat_duplicates = 0;
  std::uint64_t chat_reordered = 0;
  std::uint64_t chat_foreign = 0;       // chat: PRIVMSGs not from this run (ignored)

  counters& operator+=(const counters& o);
};

/// What one worker thread records. Touched only on that thread.
struct thread_stats {
  counters c;
  error_counts connect_errors;   // connections that never got (or finished) their setup
  error_counts io_errors;        // failures after setup: resets, bad echoes, lost messages...
  core::histogram latency;       // the whole run
  core::histogram interval;      // since the last per-second snapshot
  core::histogram handshakes;    // --tls: TCP connect done to TLS handshake done, the whole run
  core::histogram cross_target;  // chat with several targets: deliveries sent through another target
  std::vector<std::uint64_t> chat_sent_per_room;
  std::vector<std::uint64_t> connected_per_target;  // TCP connects that succeeded, per --targets entry

  void record_latency(std::uint64_t ns) noexcept {
    latency.record(ns);
    interval.record(ns);
  }
};

/// A copy of a worker's stats (without the whole-run histogram), taken on its thread; merged
/// over the threads of a process, and over the processes of a run.
struct snapshot {
  counters c;
  error_counts connect_errors;
  error_counts io_errors;
  core::histogram interval;
  std::vector<std::uint64_t> chat_sent_per_room;
  std::vector<std::uint64_t> connected_per_target;
  // The run's setup counters (run_context's atomics), added by the shard that owns them.
  std::uint64_t setup_finished = 0;
  std::uint64_t setup_ok = 0;
  std::vector<std::uint64_t> room_members;  // chat: users joined, per room

  /// Adds another snapshot (vectors are summed element-wise).
  void merge(const snapshot& o);
};

/// Copies `st` (on its worker's thread, or after it joined); with take_interval the per-second
/// histogram is moved into the snapshot and reset.
snapshot take_snapshot(thread_stats& st, bool take_interval);

}  // namespace simul::load
