// Unit tests for --histogram's formats: HdrHistogram percentile distribution and CSV.
#include "client/histogram_file.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <vector>

using namespace simul::load;

namespace {
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}
}  // namespace

TEST_CASE("the hgrm output has HdrHistogram's header, rising percentiles, a 100% line and the footer") {
  simul::core::histogram h;
  for (std::uint64_t v = 1; v <= 10'000; ++v) h.record(v * 1000);  // 1us .. 10ms
  const auto l = lines(histogram_hgrm(h));
  REQUIRE(l.size() > 40);
  CHECK(l[0] == "       Value     Percentile TotalCount 1/(1-Percentile)");
  CHECK(l[1].empty());
  double prev_p = -1, prev_v = -1;
  std::size_t rows = 0;
  for (std::size_t i = 2; i < l.size() && l[i][0] != '#'; ++i, ++rows) {
    std::istringstream row(l[i]);
    double v = 0, p = 0;
    row >> v >> p;
    CHECK(p > prev_p);
    CHECK(v >= prev_v);
    prev_p = p;
    prev_v = v;
  }
  CHECK(prev_p == 1.0);
  CHECK(prev_v == doctest::Approx(10.0));  // the max, in ms
  CHECK(l[2 + rows].starts_with("#[Mean    ="));
  CHECK(l[3 + rows].find("Total count    =        10000]") != std::string::npos);
}

TEST_CASE("the CSV output lists every non-empty bucket with its range, count, running count and percentile") {
  simul::core::histogram h;
  h.record(2000);
  h.record_n(4000, 3);
  h.record(4001);  // 4000 and 4001 share a bucket (32 ns wide at 4 us)
  const auto l = lines(histogram_csv(h));
  REQUIRE(l.size() == 3);
  CHECK(l[0] == "low_us,high_us,count,cumulative,percentile");
  CHECK(l[1] == "2.000,2.016,1,1,20.000000");
  CHECK(l[2] == "4.000,4.032,4,5,100.000000");
  CHECK(lines(histogram_csv(simul::core::histogram{})).size() == 1);  // empty: the header only
}

TEST_CASE("the CSV's counts sum to the samples and each percentile falls in the bucket the CSV says") {
  simul::core::histogram h;
  std::uint64_t x = 12345;
  for (int i = 0; i < 20'000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    h.record(20'000 + (x >> 40) % 5'000'000);  // 20 us .. 5 ms
  }
  const auto l = lines(histogram_csv(h));
  struct row {
    double low, high;
    std::uint64_t count, cumulative;
    double percentile;
  };
  std::vector<row> rows;
  for (std::size_t i = 1; i < l.size(); ++i) {
    row r{};
    char c1, c2, c3, c4;
    std::istringstream in(l[i]);
    REQUIRE(static_cast<bool>(in >> r.low >> c1 >> r.high >> c2 >> r.count >> c3 >> r.cumulative >> c4 >> r.percentile));
    rows.push_back(r);
  }
  std::uint64_t sum = 0;
  for (const auto& r : rows) {
    sum += r.count;
    CHECK(r.cumulative == sum);
    CHECK(r.low < r.high);
    CHECK(r.count > 0);
  }
  CHECK(sum == h.count());
  CHECK(rows.back().percentile == 100.0);
  for (double q : {50.0, 90.0, 99.0, 99.9}) {
    const auto at = std::find_if(rows.begin(), rows.end(), [&](const row& r) { return r.percentile >= q; });
    REQUIRE(at != rows.end());
    const double us = static_cast<double>(h.percentile(q)) / 1e3;
    CHECK(at->low <= us);
    CHECK(us < at->high);
  }
}
