// The offered rate over the measured phase: constant (--rate), a linear ramp up to it (--ramp), or
// k6-style stages (--stages 10s:100,30s:100,10s:0), each moving linearly from the previous target
// to its own. Scenarios ask when the n-th event is due; that inverts the cumulative count, so a
// rising rate keeps the wrk2 property that latency counts from the intended send time.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace simul::load {

/// One stage: over `duration_s`, the rate moves linearly from the previous stage's target (0 for
/// the first) to `target` (events per second, in --rate's units).
struct rate_stage {
  double duration_s = 0;
  double target = 0;
};

/// Parses "10s:100,30s:100,10s:0" (durations as --duration takes them). Sets `error` and returns
/// nullopt on a malformed list, a zero or negative duration, a negative rate, or all rates zero.
std::optional<std::vector<rate_stage>> parse_stages(const std::string& text, std::string& error);

/// "10s:100,30s:100" back again (for reports).
std::string format_stages(const std::vector<rate_stage>& stages);

/// A piecewise-linear rate r(t), t in seconds from the start of the measured phase. After the last
/// stage the last target holds. Plain value; immutable; safe to share between threads.
class rate_schedule {
 public:
  /// A constant rate (> 0).
  explicit rate_schedule(double rate);
  /// Stages starting from rate 0.
  explicit rate_schedule(std::vector<rate_stage> stages);

  /// The rate at time t.
  double rate_at(double t) const;
  /// Events due in [0, t]: the integral of the rate.
  double count_at(double t) const;
  /// The time at which count_at reaches n (n >= 0); event k (from 0) of a stream is due at
  /// time_of(k + offset), offset in [0, 1). Infinity if the rate stays 0 from before that on.
  double time_of(double n) const;
  /// The sum of the stages' durations (0 for a constant rate).
  double stages_duration() const;

 private:
  std::vector<rate_stage> stages_;
  double hold_ = 0;  // the rate after the last stage
};

}  // namespace simul::load
