// Unit tests for core::sendq.
#include "core/sendq.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>

#include "core/errc.hpp"

using namespace simul::core;
using namespace std::chrono_literals;

namespace {
const auto t0 = sendq::clock::time_point{} + 1h;
shared_line bytes(std::size_t n) { return make_shared_line(std::string(n, 'x')); }
}  // namespace

TEST_CASE("lines are queued in order and drained by consume, partial writes included") {
  sendq q(0, 0, 10s);
  REQUIRE(!q.push(make_shared_line("one\r\n"), t0));
  REQUIRE(!q.push(make_shared_line("two\r\n"), t0));
  CHECK(q.bytes() == 10);
  CHECK(q.lines() == 2);
  CHECK(q.front() == "one\r\n");
  q.consume(2, t0);
  CHECK(q.front() == "e\r\n");
  CHECK(q.bytes() == 8);
  q.consume(5, t0);
  CHECK(q.front() == "o\r\n");
  CHECK(q.lines() == 1);
  q.consume(3, t0);
  CHECK(q.empty());
  CHECK(q.front().empty());
}

TEST_CASE("peek gathers pending lines for one write, starting after the written part") {
  sendq q(0, 0, 10s);
  for (auto s : {"aaaa", "bb", "cccccc"}) REQUIRE(!q.push(make_shared_line(s), t0));
  q.consume(1, t0);
  std::array<std::string_view, 8> views{};
  CHECK(q.peek(views) == 3);
  CHECK(views[0] == "aaa");
  CHECK(views[1] == "bb");
  CHECK(views[2] == "cccccc");
  CHECK(q.peek(std::span(views.data(), 2)) == 2);
  CHECK(q.peek(views, 5) == 2);  // a byte cap for fairness; the first line always counts
  CHECK(q.peek(views, 1) == 1);
}

TEST_CASE("a shared line is held by the queue only until it has been written") {
  sendq q(0, 0, 10s);
  auto line = make_shared_line("hello\r\n");
  REQUIRE(!q.push(line, t0));
  CHECK(line.use_count() == 2);
  q.consume(7, t0);
  CHECK(line.use_count() == 1);
}

TEST_CASE("pushing past the hard limit is sendq_exceeded and the line is not queued") {
  sendq q(100, 0, 10s);
  REQUIRE(!q.push(bytes(60), t0));
  REQUIRE(!q.push(bytes(40), t0));
  CHECK(q.push(bytes(1), t0) == errc::sendq_exceeded);
  CHECK(q.bytes() == 100);
  q.consume(60, t0);
  CHECK(!q.push(bytes(50), t0));
}

TEST_CASE("staying over the soft limit for soft_seconds is sendq_exceeded") {
  sendq q(1000, 100, 10s);
  REQUIRE(!q.push(bytes(150), t0));
  CHECK(!q.check(t0));
  CHECK(!q.check(t0 + 9s));
  CHECK(q.check(t0 + 10s) == errc::sendq_exceeded);
}

TEST_CASE("a sub-second soft duration is kept to the millisecond") {
  sendq q(1000, 100, 250ms);
  REQUIRE(!q.push(bytes(150), t0));
  CHECK(q.next_check(t0) == t0 + 250ms);
  CHECK(!q.check(t0 + 249ms));
  CHECK(q.check(t0 + 250ms) == errc::sendq_exceeded);
}

TEST_CASE("dropping under the soft limit restarts the soft clock") {
  sendq q(1000, 100, 10s);
  REQUIRE(!q.push(bytes(150), t0));
  q.consume(100, t0 + 5s);  // 50 left: under the limit
  REQUIRE(!q.push(bytes(100), t0 + 6s));
  CHECK(!q.check(t0 + 12s));
  CHECK(q.check(t0 + 16s) == errc::sendq_exceeded);
}

TEST_CASE("exactly at the soft limit is not over it") {
  sendq q(1000, 100, 10s);
  REQUIRE(!q.push(bytes(100), t0));
  CHECK(!q.check(t0 + 1h));
}

TEST_CASE("zero limits mean no limit") {
  sendq q(0, 0, 0s);
  for (int i = 0; i < 100; ++i) REQUIRE(!q.push(bytes(100000), t0));
  CHECK(!q.check(t0 + 1h));
  CHECK(q.bytes() == 10000000);
}

TEST_CASE("clear drops everything and resets the soft clock") {
  sendq q(1000, 10, 1s);
  REQUIRE(!q.push(bytes(50), t0));
  q.clear();
  CHECK(q.empty());
  CHECK(q.bytes() == 0);
  CHECK(!q.check(t0 + 1h));
}

TEST_CASE("a long-running queue keeps working as lines come and go") {
  sendq q(0, 0, 1s);
  std::size_t expected = 0;
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(!q.push(make_shared_line(std::to_string(i) + "\n"), t0));
    expected += std::to_string(i).size() + 1;
    if (i % 3 == 0) {
      const auto n = q.front().size();
      q.consume(n, t0);
      expected -= n;
    }
    REQUIRE(q.bytes() == expected);
  }
  CHECK(q.front() == "334\n");
}

TEST_CASE("null and empty lines are ignored") {
  sendq q(10, 0, 1s);
  CHECK(!q.push(nullptr, t0));
  CHECK(!q.push(make_shared_line(""), t0));
  CHECK(q.empty());
}

// next_check(): when a writer that cannot write must look at the soft limit again, so that it
// fires on time without another push.
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
