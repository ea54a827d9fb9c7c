// Samples another process from /proc: resident memory, threads, CPU time, open files. Used with
// --server-pid to report what a load costs the server (e.g. RSS and threads per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace simul::load {

struct proc_sample {
  double t = 0;                  // seconds since the run started
  std::uint64_t rss_bytes = 0;   // VmRSS
  std::uint64_t threads = 0;
  std::uint64_t fds = 0;         // entries in /proc/PID/fd (0 if not readable)
  double cpu_seconds = 0;        // user + system since the process started
  double cpu_percent = 0;        // over the interval since the previous sample (100 = one core)
};

/// Not thread-safe; used by the runner's main thread only.
class proc_sampler {
 public:
  explicit proc_sampler(int pid) : pid_(pid) {}

  /// Reads the process now; nullopt if it is gone or unreadable. cpu_percent is relative to the
  /// previous successful sample.
  std::optional<proc_sample> sample(double t);

  int pid() const noexcept { return pid_; }
  /// The process's command line, arguments separated by spaces ("" if unreadable).
  std::string command_line() const;

 private:
  int pid_;
  std::optional<proc_sample> previous_;
};

}  // namespace simul::load
