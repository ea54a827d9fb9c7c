// This process's own figures, read from /proc/self and getrlimit: the standard process_*
// metrics (names and meanings as Prometheus client libraries export them), the stats line and
// the start-up check of the open-files limit. Linux only; a figure that cannot be read is 0.
// The reads are of in-memory /proc files (no disk I/O), cheap enough for the loop thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace simul::server {

struct process_info {
  double cpu_seconds = 0;         // user + system CPU time
  double start_time_seconds = 0;  // start time, seconds since the Unix epoch
  std::uint64_t max_fds = 0;      // the open-files soft limit (RLIMIT_NOFILE)
  std::uint64_t open_fds = 0;
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t threads = 0;
};

/// Reads every figure once.
process_info read_process_info();

/// Resident set size in bytes (from /proc/self/statm).
std::size_t process_rss_bytes();

/// The open-files soft limit (RLIMIT_NOFILE); 0 if unknown or unlimited.
std::uint64_t process_max_fds();

}  // namespace simul::server
