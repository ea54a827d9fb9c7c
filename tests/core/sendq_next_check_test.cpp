// Unit tests for core::sendq::next_check(): when a writer that cannot write must look at the
// soft limit again so that it fires on time without another push.
#include <doctest/doctest.h>

#include <string>

#include "core/errc.hpp"
#include "core/sendq.hpp"

using namespace simul::core;
using namespace std::chrono_literals;

namespace {
const auto t0 = sendq::clock::time_point{} + 1h;
shared_line bytes(std::size_t n) { return make_shared_line(std::string(n, 'x')); }
}  // namespace

TEST_CASE("above the soft limit the next check is when its time runs out, and then check() fires") {
  sendq q(1000, 100, 5s);
  REQUIRE(!q.push(bytes(150), t0));
  CHECK(q.next_check(t0) == t0 + 5s);
  CHECK(q.next_check(t0 + 3s) == t0 + 5s);  // later pushes or looks do not move it
  REQUIRE(!q.push(bytes(10), t0 + 3s));
  CHECK(q.next_check(t0 + 3s) == t0 + 5s);
  CHECK(!q.check(q.next_check(t0) - 1ms));
  CHECK(q.check(q.next_check(t0)) == errc::sendq_exceeded);
}

TEST_CASE("below the soft limit the next check is one soft period away: no push can run out sooner") {
  sendq q(1000, 100, 5s);
  CHECK(q.next_check(t0) == t0 + 5s);
  REQUIRE(!q.push(bytes(50), t0));
  CHECK(q.next_check(t0 + 1s) == t0 + 6s);
  // Crossing the limit later starts its own clock, no earlier than that next check.
  REQUIRE(!q.push(bytes(60), t0 + 2s));
  CHECK(q.next_check(t0 + 2s) == t0 + 7s);
  CHECK(!q.check(t0 + 6s));
  CHECK(q.check(t0 + 7s) == errc::sendq_exceeded);
}

TEST_CASE("dipping below the soft limit restarts the next check") {
  sendq q(1000, 100, 5s);
  REQUIRE(!q.push(bytes(150), t0));
  q.consume(100, t0 + 4s);
  CHECK(q.next_check(t0 + 4s) == t0 + 9s);
  CHECK(!q.check(t0 + 5s));
}

TEST_CASE("with the soft limit off, or no time allowed above it, there is nothing to wait for") {
  sendq off(1000, 0, 5s);
  REQUIRE(!off.push(bytes(500), t0));
  CHECK(off.next_check(t0) == sendq::clock::time_point::max());

  sendq at_once(1000, 100, 0s);
  CHECK(at_once.next_check(t0) == sendq::clock::time_point::max());  // a push is checked at once
  REQUIRE(!at_once.push(bytes(150), t0));
  CHECK(at_once.check(t0) == errc::sendq_exceeded);
  CHECK(at_once.next_check(t0) == t0);
}
