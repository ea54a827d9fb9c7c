// spdlog set-up (text or JSON lines on stderr), a rate limiter for noisy warnings, and (from
// log_event.hpp) log lines with structured fields.
#pragma once

#include <chrono>
#include <cstdint>

#include "server/common/config.hpp"
#include "server/common/log_event.hpp"

namespace simul::server {

/// Installs the default logger: stderr, level and format from cfg. Call once, before any thread.
void setup_logging(const log_config& cfg);

/// Changes the default logger's level and format (a SIGHUP reload). Any thread.
void apply_logging(const log_config& cfg);

/// Marks this process as worker `index` (1..N) of a supervisor: every line from then on says
/// so ("[worker 2]" in text, "worker":2 in JSON). Call before any thread, then apply_logging().
void set_log_worker(unsigned index);

/// Lets one message through per interval and counts the ones it held back. Not thread-safe:
/// one per thread or under the caller's lock.
class log_limiter {
 public:
  explicit log_limiter(std::chrono::steady_clock::duration interval = std::chrono::seconds(1))
      : interval_(interval) {}

  /// True when a message may be logged now; `suppressed` then says how many were held back.
  bool allow(std::uint64_t& suppressed);

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t held_ = 0;
};

}  // namespace simul::server
