// Unit tests for core::histogram: accuracy against an exact sort, merging, edges.
#include "core/histogram.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using simul::core::histogram;

namespace {

// The exact value at percentile q, with the same rank rule as histogram::percentile.
std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, double q) {
  if (q <= 0.0) return sorted.front();
  if (q >= 100.0) return sorted.back();
  auto rank = static_cast<std::size_t>(std::ceil(q / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

double relative_error(std::uint64_t got, std::uint64_t want) {
  if (want == 0) return got == 0 ? 0.0 : 1.0;
  return std::abs(static_cast<double>(got) - static_cast<double>(want)) / static_cast<double>(want);
}

}  // namespace

TEST_CASE("percentiles are within 1% of an exact sort on random latency-like data") {
  std::mt19937_64 rng(12345);
  // Log-uniform from 1 ns to 1 hour, so every octave is exercised.
  std::uniform_real_distribution<double> exponent(0.0, std::log(3600e9));
  std::vector<std::uint64_t> values;
  histogram h;
  for (int i = 0; i < 200000; ++i) {
    auto v = static_cast<std::uint64_t>(std::exp(exponent(rng)));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0}) {
    CAPTURE(q);
    CHECK(relative_error(h.percentile(q), exact_percentile(values, q)) <= 0.01);
  }
  CHECK(h.count() == values.size());
  CHECK(h.min() == values.front());
  CHECK(h.max() == values.back());
}

TEST_CASE("every bucket keeps the relative error under 1%") {
  for (std::size_t i = 0; i < histogram::bucket_count; ++i) {
    const auto low = histogram::bucket_low(i);
    const auto width = histogram::bucket_width(i);
    REQUIRE(histogram::bucket_of(low) == i);
    REQUIRE(histogram::bucket_of(low + (width - 1)) == i);
    if (low > 0) CHECK(static_cast<double>(width / 2) / static_cast<double>(low) <= 0.01);
  }
  CHECK(histogram::bucket_of(UINT64_MAX) == histogram::bucket_count - 1);
}

TEST_CASE("values of an hour in nanoseconds and beyond are recorded without overflow") {
  histogram h;
  const std::uint64_t hour = 3600ull * 1000 * 1000 * 1000;
  h.record(hour);
  h.record(UINT64_MAX);
  CHECK(relative_error(h.percentile(50), hour) <= 0.01);
  CHECK(h.max() == UINT64_MAX);
}

TEST_CASE("merging per-thread histograms equals recording everything in one") {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> dist(1.0 / 50000.0);
  histogram a, b, all;
  for (int i = 0; i < 50000; ++i) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    (i % 3 ? a : b).record(v);
    all.record(v);
  }
  histogram merged;
  merged.merge(a);
  merged.merge(b);
  CHECK(merged.count() == all.count());
  CHECK(merged.min() == all.min());
  CHECK(merged.max() == all.max());
  CHECK(merged.mean() == doctest::Approx(all.mean()));
  for (double q : {0.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) CHECK(merged.percentile(q) == all.percentile(q));
}

TEST_CASE("an empty histogram reports zeros, and reset empties it") {
  histogram h;
  CHECK(h.count() == 0);
  CHECK(h.percentile(99) == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0.0);
  h.record(42);
  h.record_n(100, 3);
  CHECK(h.count() == 4);
  CHECK(h.percentile(25) == 42);
  CHECK(h.percentile(100) == 100);
  CHECK(h.mean() == doctest::Approx(85.5));
  h.reset();
  CHECK(h.count() == 0);
  CHECK(h.max() == 0);
}

TEST_CASE("the bucket counts hold every recorded value in the bucket that covers it") {
  histogram h;
  h.record(5);
  h.record_n(1000, 3);
  h.record(1'000'000'007);
  std::uint64_t total = 0;
  std::size_t non_empty = 0;
  for (std::size_t i = 0; i < histogram::bucket_count; ++i) {
    total += h.count_in(i);
    non_empty += h.count_in(i) != 0;
  }
  CHECK(total == h.count());
  CHECK(non_empty == 3);
  CHECK(h.count_in(histogram::bucket_of(5)) == 1);
  CHECK(h.count_in(histogram::bucket_of(1000)) == 3);
  const auto big = histogram::bucket_of(1'000'000'007);
  CHECK(h.count_in(big) == 1);
  CHECK(histogram::bucket_low(big) <= 1'000'000'007);
  CHECK(1'000'000'007 < histogram::bucket_low(big) + histogram::bucket_width(big));
  CHECK(h.count_in(histogram::bucket_count) == 0);  // out of range: none
}
