// histogram: log-linear bucketing (HdrHistogram-like, fixed precision of 64 buckets per octave).
#include "core/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace simul::core {

std::size_t histogram::bucket_of(std::uint64_t value) noexcept {
  if (value < 2 * half) return static_cast<std::size_t>(value);
  // e = index of the top bit (>= linear_bits); keeping the top linear_bits bits of the value gives
  // a mantissa in [half, 2*half), and each octave takes `half` consecutive indices.
  const unsigned e = static_cast<unsigned>(std::bit_width(value)) - 1;
  const unsigned shift = e - (linear_bits - 1);
  return static_cast<std::size_t>(shift) * half + static_cast<std::size_t>(value >> shift);
}

std::uint64_t histogram::bucket_low(std::size_t index) noexcept {
  if (index < 2 * half) return index;
  const std::size_t shift = index / half - 1;
  const std::uint64_t mantissa = index % half + half;
  return mantissa << shift;
}

std::uint64_t histogram::bucket_width(std::size_t index) noexcept {
  if (index < 2 * half) return 1;
  return std::uint64_t{1} << (index / half - 1);
}

void histogram::record_n(std::uint64_t value, std::uint64_t n) noexcept {
  if (n == 0) return;
  counts_[bucket_of(value)] += n;
  count_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<double>(value) * static_cast<double>(n);
}

void histogram::merge(const histogram& other) noexcept {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

histogram histogram::from_parts(std::span<const std::pair<std::uint32_t, std::uint64_t>> buckets,
                                std::uint64_t min, std::uint64_t max, double sum) noexcept {
  histogram h;
  for (const auto& [index, n] : buckets) {
    if (index >= bucket_count) continue;
    h.counts_[index] += n;
    h.count_ += n;
  }
  if (h.count_ > 0) {
    h.min_ = min;
    h.max_ = max;
    h.sum_ = sum;
  }
  return h;
}

void histogram::reset() noexcept { *this = histogram{}; }

std::uint64_t histogram::percentile(double q) const noexcept {
  if (count_ == 0) return 0;
  if (!(q > 0.0)) return min_;  // also catches NaN
  if (q >= 100.0) return max_;
  auto rank = static_cast<std::uint64_t>(std::ceil(q / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      // The midpoint of the bucket halves the worst-case error; min/max are exact, so clamp to them.
      const std::uint64_t mid = bucket_low(i) + bucket_width(i) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace simul::core
