// A token bucket for input flood control: one token per line, refilled at a steady rate.
// Pure logic: the caller passes the time. The server stops reading a client while it is empty.
#pragma once

#include <chrono>

namespace simul::core {

/// Not thread-safe; one per connection.
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  /// Starts full. burst == 0 or rate_per_second <= 0 disables the limit (try_take always succeeds).
  token_bucket(double burst, double rate_per_second) noexcept;

  /// Takes one token if one is available at `now`.
  bool try_take(clock::time_point now) noexcept;

  /// How long until a token is available (zero if one is available now).
  clock::duration time_until_token(clock::time_point now) noexcept;

  /// Tokens available at `now` (fractional).
  double tokens(clock::time_point now) noexcept;

  bool enabled() const noexcept { return burst_ > 0 && rate_ > 0; }

 private:
  void refill(clock::time_point now) noexcept;

  double burst_;
  double rate_;
  double tokens_;
  clock::time_point last_{};  // time of the last refill
  bool started_ = false;      // false until the first call: then the bucket is simply full
};

}  // namespace simul::core
