// The outcome of one simul-load run: what the runner measured, what the reports print, and the
// verdict (exit code and the reasons for it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/errors.hpp"
#include "client/options.hpp"
#include "client/preflight.hpp"
#include "client/proc_sampler.hpp"
#include "client/stats.hpp"
#include "core/histogram.hpp"

namespace simul::load {

/// One line of the per-second time series (and of the live progress output).
struct series_point {
  double t = 0;                 // seconds since the run started (setup included): the interval's end
  double interval_s = 0;        // the interval this point covers, ending at t
  std::string phase;            // "setup", "run", "drain"
  std::uint64_t requested = 0;  // connection attempts started so far
  std::uint64_t failed = 0;     // attempts failed so far
  std::int64_t up = 0;          // connections open now
  std::uint64_t msgs = 0;       // messages completed in this interval
  double msgs_per_s = 0;
  std::uint64_t errors = 0;     // errors in this interval
  std::uint64_t latency_count = 0;
  std::uint64_t p50_ns = 0, p99_ns = 0, max_ns = 0;
  std::optional<double> offered_rate;  // run phase with a rate: the schedule's rate at t
};

struct server_report {
  int pid = 0;
  std::string command_line;
  std::optional<proc_sample> baseline;  // before the first connection
  std::optional<proc_sample> held;      // at the end of the run, before closing
  std::vector<proc_sample> samples;     // one per second
};

struct run_result {
  options opts;
  preflight_report pre;
  std::string kernel;
  std::string started_at;      // UTC, ISO 8601
  std::string target;          // "host:port" as resolved (the first target)
  std::vector<std::string> targets;                // every target, resolved, in --targets order
  std::vector<std::uint64_t> connected_per_target;  // TCP connects that succeeded, per target

  unsigned processes = 1;                   // this one, or the children it spread the run over
  unsigned threads_per_process = 1;
  std::vector<std::vector<ipv4>> sources;   // per process (empty: the kernel chose)
  bool auto_sources = false;                // chosen by simul-load (loopback, no --source)
  std::vector<std::string> process_failures;  // children that crashed or stopped answering

  std::size_t target_connections = 0;
  std::size_t connected = 0;   // set up when the measured phase started
  std::int64_t held = 0;       // still open at the end of the measured phase
  double setup_s = 0;
  double run_s = 0;            // the measured phase

  counters totals;
  error_counts connect_errors;
  error_counts io_errors;      // includes chat loss, duplicates and reordering
  core::histogram latency;     // nanoseconds
  core::histogram handshakes;  // --tls: handshake times, nanoseconds
  core::histogram cross_target;  // chat with several targets: latency of deliveries across targets
  std::uint64_t chat_expected = 0;
  std::uint64_t chat_lost = 0;
  std::uint64_t chat_unexpected = 0;  // deliveries beyond what was owed

  std::vector<series_point> series;
  std::optional<server_report> server;

  int exit_code = 0;
  std::vector<std::string> failures;  // why the exit code is not 0

  /// Every process's source addresses, in process order.
  std::vector<ipv4> all_sources() const;
  std::uint64_t errors_total() const { return connect_errors.total() + io_errors.total(); }
  /// TLS handshakes per second: over the setup phase when connections are set up once, over
  /// the measured phase for churn (a handshake per connection, all along).
  double handshakes_per_s() const {
    const double secs = target_connections > 0 ? setup_s : run_s;
    return secs > 0 ? static_cast<double>(handshakes.count()) / secs : 0.0;
  }
  double msgs_per_s() const { return run_s > 0 ? static_cast<double>(totals.msgs_received) / run_s : 0.0; }
};

}  // namespace simul::load
