// Unit tests for core::token_bucket.
#include "core/token_bucket.hpp"

#include <doctest/doctest.h>

using simul::core::token_bucket;
using namespace std::chrono_literals;

TEST_CASE("a new bucket allows a burst and then refuses") {
  token_bucket b(3, 1);
  const auto t0 = token_bucket::clock::now();
  CHECK(b.try_take(t0));
  CHECK(b.try_take(t0));
  CHECK(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0));
}

TEST_CASE("an empty bucket refills at the configured rate") {
  token_bucket b(2, 10);  // one token per 100 ms
  const auto t0 = token_bucket::clock::time_point{} + 1h;
  REQUIRE(b.try_take(t0));
  REQUIRE(b.try_take(t0));
  REQUIRE_FALSE(b.try_take(t0));
  CHECK_FALSE(b.try_take(t0 + 50ms));
  CHECK(b.try_take(t0 + 100ms));
  CHECK_FALSE(b.try_take(t0 + 100ms));
}

TEST_CASE("a bucket never holds more than its burst, however long it rests") {
  token_bucket b(2, 10);
  const auto t0 = token_bucket::clock::time_point{} + 1h;
  REQUIRE(b.try_take(t0));
  CHECK(b.tokens(t0 + 10min) == doctest::Approx(2.0));
  CHECK(b.try_take(t0 + 10min));
  CHECK(b.try_take(t0 + 10min));
  CHECK_FALSE(b.try_take(t0 + 10min));
}

TEST_CASE("time_until_token is zero with tokens and otherwise the wait for the next one") {
  token_bucket b(1, 4);  // one token per 250 ms
  const auto t0 = token_bucket::clock::time_point{} + 1h;
  CHECK(b.time_until_token(t0) == token_bucket::clock::duration::zero());
  REQUIRE(b.try_take(t0));
  const auto wait = b.time_until_token(t0 + 100ms);
  CHECK(wait >= 150ms);
  CHECK(wait <= 151ms);
  CHECK_FALSE(b.try_take(t0 + 100ms + wait - 1ms));
  CHECK(b.try_take(t0 + 100ms + wait));
}

TEST_CASE("a bucket that starts at the clock's epoch still refills") {
  token_bucket b(1, 1);
  const auto t0 = token_bucket::clock::time_point{};
  REQUIRE(b.try_take(t0));
  REQUIRE_FALSE(b.try_take(t0));
  CHECK(b.try_take(t0 + 1s));
}

TEST_CASE("a zero burst or rate disables the limit") {
  token_bucket off(0, 10), off2(20, 0);
  const auto t0 = token_bucket::clock::now();
  CHECK_FALSE(off.enabled());
  CHECK_FALSE(off2.enabled());
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(off.try_take(t0));
    REQUIRE(off2.try_take(t0));
  }
  CHECK(off.time_until_token(t0) == token_bucket::clock::duration::zero());
}

TEST_CASE("the documented defaults allow 20 lines at once and then 10 per second") {
  token_bucket b(20, 10);
  const auto t0 = token_bucket::clock::time_point{} + 1h;
  int taken = 0;
  while (b.try_take(t0)) ++taken;
  CHECK(taken == 20);
  taken = 0;
  for (int ms = 1; ms <= 1000; ++ms) {
    if (b.try_take(t0 + std::chrono::milliseconds(ms))) ++taken;
  }
  CHECK(taken == 10);
}
