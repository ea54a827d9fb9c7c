// How long the supervisor waits before it restarts a worker that died, and how it describes
// the death. Pure; the supervisor keeps one backoff per worker.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

namespace simul::server {

/// 100 ms after a death, doubling with each quick death up to 10 s; a worker that ran for at
/// least 10 s before it died starts over at 100 ms. A worker that cannot run (its port taken by
/// someone else, a crash at start) is thus retried ten times a second at first, then every 10 s.
class restart_backoff {
 public:
  static constexpr std::chrono::milliseconds first{100};
  static constexpr std::chrono::milliseconds max{10'000};
  static constexpr std::chrono::seconds stable{10};

  /// The wait before the next start, given how long the worker that just died ran.
  std::chrono::milliseconds next(std::chrono::steady_clock::duration ran) noexcept {
    if (ran >= stable) delay_ = first;
    const auto wait = delay_;
    delay_ = std::min(delay_ * 2, max);
    return wait;
  }

 private:
  std::chrono::milliseconds delay_ = first;
};

/// A waitpid() status in words: "exited with status 2", "killed by signal 9 (SIGKILL)".
std::string describe_exit(int wait_status);

}  // namespace simul::server
