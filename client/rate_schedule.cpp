// rate_schedule: piecewise-linear rates and the due time of the n-th event.
#include "client/rate_schedule.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "client/options.hpp"

namespace simul::load {

std::optional<std::vector<rate_stage>> parse_stages(const std::string& text, std::string& error) {
  std::vector<rate_stage> out;
  std::size_t start = 0;
  bool any_positive = false;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto colon = item.find(':');
    if (colon == std::string::npos) {
      error = "expected DURATION:RATE, e.g. 10s:100, got '" + item + "'";
      return std::nullopt;
    }
    const auto d = parse_duration(item.substr(0, colon));
    if (!d || *d <= 0) {
      error = "expected a positive duration like 10s before ':', got '" + item + "'";
      return std::nullopt;
    }
    const std::string rate_text = item.substr(colon + 1);
    double rate = 0;
    std::size_t used = 0;
    try {
      rate = std::stod(rate_text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != rate_text.size() || !std::isfinite(rate) || rate < 0) {
      error = "expected a rate of 0 or more after ':', got '" + item + "'";
      return std::nullopt;
    }
    any_positive = any_positive || rate > 0;
    out.push_back({*d, rate});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (!any_positive) {
    error = "at least one stage needs a rate above 0";
    return std::nullopt;
  }
  return out;
}

std::string format_stages(const std::vector<rate_stage>& stages) {
  std::string out;
  char buf[64];
  for (const auto& s : stages) {
    std::snprintf(buf, sizeof buf, "%s%gs:%g", out.empty() ? "" : ",", s.duration_s, s.target);
    out += buf;
  }
  return out;
}

rate_schedule::rate_schedule(double rate) : hold_(rate) {}

rate_schedule::rate_schedule(std::vector<rate_stage> stages)
    : stages_(std::move(stages)), hold_(stages_.empty() ? 0.0 : stages_.back().target) {}

double rate_schedule::rate_at(double t) const {
  double from = 0, start = 0;
  for (const auto& s : stages_) {
    if (t < start + s.duration_s) return from + (s.target - from) * (t - start) / s.duration_s;
    start += s.duration_s;
    from = s.target;
  }
  return hold_;
}

double rate_schedule::count_at(double t) const {
  double from = 0, start = 0, n = 0;
  for (const auto& s : stages_) {
    const double tau = std::min(t - start, s.duration_s);
    if (tau <= 0) return n;
    n += from * tau + (s.target - from) * tau * tau / (2 * s.duration_s);
    if (tau < s.duration_s) return n;
    start += s.duration_s;
    from = s.target;
  }
  return n + hold_ * std::max(0.0, t - start);
}

double rate_schedule::time_of(double n) const {
  double from = 0, start = 0, done = 0;
  for (const auto& s : stages_) {
    const double area = (from + s.target) / 2 * s.duration_s;
    if (n <= done + area) {
      // Solve from*tau + a/2*tau^2 = m for tau in [0, d], a = slope. The form 2m / (r0 + sqrt(r0^2 + 2am))
      // is the usual root rewritten to stay exact when a is 0 or tiny and when it is negative.
      const double m = n - done;
      const double a = (s.target - from) / s.duration_s;
      const double disc = std::max(0.0, from * from + 2 * a * m);
      const double denom = from + std::sqrt(disc);
      const double tau = denom > 0 ? 2 * m / denom : 0.0;
      return start + std::min(tau, s.duration_s);
    }
    done += area;
    start += s.duration_s;
    from = s.target;
  }
  if (hold_ <= 0) return std::numeric_limits<double>::infinity();
  return start + (n - done) / hold_;
}

double rate_schedule::stages_duration() const {
  double d = 0;
  for (const auto& s : stages_) d += s.duration_s;
  return d;
}

}  // namespace simul::load
