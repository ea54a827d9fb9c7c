// Unit tests for the rate schedule (--rate, --ramp, --stages): due times invert the count.
#include "client/rate_schedule.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace simul::load;

TEST_CASE("a constant rate spaces events evenly") {
  rate_schedule s(4.0);
  CHECK(s.rate_at(0) == 4.0);
  CHECK(s.time_of(0) == 0.0);
  CHECK(s.time_of(2) == doctest::Approx(0.5));
  CHECK(s.count_at(10) == doctest::Approx(40));
  CHECK(s.stages_duration() == 0.0);
}

TEST_CASE("a ramp rises linearly from 0 and then holds") {
  rate_schedule s({{2.0, 100.0}});
  CHECK(s.rate_at(0) == 0.0);
  CHECK(s.rate_at(1) == doctest::Approx(50));
  CHECK(s.rate_at(5) == 100.0);
  CHECK(s.count_at(2) == doctest::Approx(100));    // the triangle's area
  CHECK(s.count_at(3) == doctest::Approx(200));
  CHECK(s.time_of(25) == doctest::Approx(1.0));    // 100/4 * t^2 = 25 at t = 1
  CHECK(s.time_of(150) == doctest::Approx(2.5));
}

TEST_CASE("due times invert the cumulative count across stages, rising and falling") {
  rate_schedule s({{1.0, 50.0}, {2.0, 50.0}, {1.0, 10.0}, {0.5, 0.0}});
  for (double n = 0; n <= s.count_at(4.5); n += 0.37) {
    CAPTURE(n);
    CHECK(s.count_at(s.time_of(n)) == doctest::Approx(n).epsilon(1e-9));
  }
  // The rate ends at 0: what lies beyond the total never comes due.
  CHECK(std::isinf(s.time_of(s.count_at(4.5) + 1)));
  CHECK(s.stages_duration() == doctest::Approx(4.5));
}

TEST_CASE("stages parse from DURATION:RATE lists, and malformed lists are refused") {
  std::string error;
  auto st = parse_stages("10s:100,500ms:0,1m:2.5", error);
  REQUIRE(st);
  REQUIRE(st->size() == 3);
  CHECK((*st)[1].duration_s == 0.5);
  CHECK((*st)[2].target == 2.5);
  CHECK(format_stages(*st) == "10s:100,0.5s:0,60s:2.5");
  for (const char* bad : {"", "10s", "10s:", "x:5", "0s:5", "10s:-1", "10s:5x", "10s:5,,", "10s:0,5s:0", "1s:nan"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_stages(bad, error));
    CHECK_FALSE(error.empty());
  }
}
