// Unit tests for --histogram's formats: HdrHistogram percentile distribution and CSV.
#include "client/histogram_file.hpp"

#include <doctest/doctest.h>

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

TEST_CASE("the CSV output has a header and ends at the max with the full count") {
  simul::core::histogram h;
  h.record(2000);
  h.record(4000);
  const auto l = lines(histogram_csv(h));
  REQUIRE(l.size() >= 3);
  CHECK(l[0] == "percentile,latency_us,rank");
  CHECK(l.back() == "100,4.000,2");
  CHECK(lines(histogram_csv(simul::core::histogram{})).size() == 1);  // empty: the header only
}
