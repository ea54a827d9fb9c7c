// Latency histogram: log-linear buckets with a bounded relative error, mergeable across threads.
// Sans-IO and lock-free by design: each thread owns one, and they are merged after the threads join
// (the wrk2 pattern), so the hot path is a couple of arithmetic operations and one increment.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace simul::core {

/// Records unsigned 64-bit values (simul-load uses nanoseconds; the full range covers centuries).
/// Values below 128 are counted exactly; above, each power of two is split into 64 equal buckets,
/// so a reported value is within 1/128 (0.79%) of the recorded one.
/// Not thread-safe: one instance per thread, combined with merge().
class histogram {
 public:
  static constexpr unsigned linear_bits = 7;                       // exact below 2^7
  static constexpr std::size_t half = std::size_t{1} << (linear_bits - 1);  // buckets per octave
  static constexpr std::size_t bucket_count = (64 - linear_bits + 1) * half + half;

  /// Counts one value. O(1), no allocation.
  void record(std::uint64_t value) noexcept { record_n(value, 1); }
  /// Counts `n` occurrences of `value`.
  void record_n(std::uint64_t value, std::uint64_t n) noexcept;

  /// Adds every value recorded in `other`. Equivalent to having recorded them here.
  void merge(const histogram& other) noexcept;
  /// Forgets everything.
  void reset() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  /// Exact smallest and largest recorded values (0 when empty).
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  /// Exact arithmetic mean of the recorded values (0 when empty).
  double mean() const noexcept { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

  /// The value at percentile q (0..100): the smallest recorded value v such that at least q% of the
  /// values are <= v, approximated to within 1%. percentile(0) is min(), percentile(100) is max().
  std::uint64_t percentile(double q) const noexcept;

  /// How many recorded values fell in bucket `index` (< bucket_count), i.e. in
  /// [bucket_low(index), bucket_low(index) + bucket_width(index)). The counts of all buckets
  /// sum to count(). For writing the whole distribution out (simul-load --histogram).
  std::uint64_t count_in(std::size_t index) const noexcept { return index < bucket_count ? counts_[index] : 0; }

  /// Serialisation (simul-load's child processes send theirs to the parent): count_in() per bucket,
  /// the exact sum, and the inverse, a histogram rebuilt from (bucket index, count) pairs and the
  /// exact min, max and sum. Indexes out of range are ignored.
  double sum() const noexcept { return sum_; }
  static histogram from_parts(std::span<const std::pair<std::uint32_t, std::uint64_t>> buckets, std::uint64_t min,
                              std::uint64_t max, double sum) noexcept;

  /// Bucket helpers (exposed for tests and serialisation).
  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t bucket_low(std::size_t index) noexcept;
  static std::uint64_t bucket_width(std::size_t index) noexcept;

 private:
  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double sum_ = 0.0;
};

}  // namespace simul::core
