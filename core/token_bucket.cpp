// token_bucket: continuous refill, fractional tokens.
#include "core/token_bucket.hpp"

#include <algorithm>

namespace simul::core {

token_bucket::token_bucket(double burst, double rate_per_second) noexcept
    : burst_(burst > 0 ? burst : 0), rate_(rate_per_second > 0 ? rate_per_second : 0), tokens_(burst_) {}

void token_bucket::refill(clock::time_point now) noexcept {
  if (!started_) {  // first use: the bucket starts full
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;  // time never runs backwards for us
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool token_bucket::try_take(clock::time_point now) noexcept {
  if (!enabled()) return true;
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

token_bucket::clock::duration token_bucket::time_until_token(clock::time_point now) noexcept {
  if (!enabled()) return clock::duration::zero();
  refill(now);
  if (tokens_ >= 1.0) return clock::duration::zero();
  const double seconds = (1.0 - tokens_) / rate_;
  // Round up, plus one tick against floating-point error: waiting this long always yields a token.
  return std::chrono::ceil<clock::duration>(std::chrono::duration<double>(seconds)) + clock::duration(1);
}

double token_bucket::tokens(clock::time_point now) noexcept {
  if (!enabled()) return burst_;
  refill(now);
  return tokens_;
}

}  // namespace simul::core
