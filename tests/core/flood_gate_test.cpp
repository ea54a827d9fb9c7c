// Unit tests for core::flood_gate. Time is passed explicitly: no clocks, no sleeps.
#include "core/flood_gate.hpp"

#include <doctest/doctest.h>

#include <string>

#include "core/errc.hpp"

using simul::core::flood_gate;
using simul::core::limits;
using status = flood_gate::status;
using namespace std::chrono_literals;

namespace {

const auto t0 = flood_gate::clock::time_point{} + 1h;

limits gate_limits(std::uint32_t burst, double rate, std::size_t backlog, std::size_t max_line = 512) {
  limits l;
  l.flood_burst = burst;
  l.flood_lines_per_second = rate;
  l.flood_max_backlog_bytes = backlog;
  l.max_line_bytes = max_line;
  return l;
}

// The next step must be a line; returns it as a string.
std::string take_line(flood_gate& g, flood_gate::clock::time_point now) {
  auto s = g.next(now);
  REQUIRE(s.what == status::line);
  CHECK(!s.error);
  return std::string(s.line);
}

}  // namespace

TEST_CASE("lines within the burst come out at once, in order, then the gate asks for input") {
  flood_gate g(gate_limits(3, 1, 4096));
  CHECK(g.next(t0).what == status::need_input);
  g.feed("one\r\ntw");
  CHECK(take_line(g, t0) == "one");
  CHECK(g.next(t0).what == status::need_input);
  g.feed("o\nthree\r\n");
  CHECK(take_line(g, t0) == "two");
  CHECK(take_line(g, t0) == "three");
  CHECK(g.next(t0).what == status::need_input);
  CHECK_FALSE(g.throttled());
  CHECK(g.buffered() == 0);
}

TEST_CASE("past the burst a line is held for the time its token takes, then let out") {
  flood_gate g(gate_limits(2, 10, 4096));  // a token every 100 ms
  g.feed("a\r\nb\r\nc\r\nd\r\n");
  CHECK(take_line(g, t0) == "a");
  CHECK(take_line(g, t0) == "b");
  auto s = g.next(t0);
  REQUIRE(s.what == status::wait);
  CHECK(s.wait > 99ms);
  CHECK(s.wait <= 101ms);
  CHECK(g.throttled());
  CHECK(g.buffered() == 3);  // "d\r\n"; the held "c" is not counted
  // Too early: wait again, for the rest.
  s = g.next(t0 + 60ms);
  REQUIRE(s.what == status::wait);
  CHECK(s.wait <= 41ms);
  CHECK(take_line(g, t0 + 101ms) == "c");
  CHECK_FALSE(g.throttled());
  REQUIRE(g.next(t0 + 101ms).what == status::wait);
  CHECK(take_line(g, t0 + 202ms) == "d");
  CHECK(g.next(t0 + 202ms).what == status::need_input);
}

TEST_CASE("input that arrives while a line is held is kept, up to the backlog limit") {
  flood_gate g(gate_limits(1, 1, 16));
  g.feed("first\nheld\n");
  CHECK(take_line(g, t0) == "first");
  REQUIRE(g.next(t0).what == status::wait);
  g.feed("0123456789abcdef");  // 16 bytes: at the limit, not past it
  CHECK(g.next(t0 + 10ms).what == status::wait);
  CHECK(take_line(g, t0 + 1s) == "held");
  CHECK(g.buffered() == 16);
}

TEST_CASE("a throttled client whose backlog passes the limit is an excess flood, even when its token has come") {
  flood_gate g(gate_limits(1, 1, 16));
  g.feed("first\nheld\n");
  CHECK(take_line(g, t0) == "first");
  REQUIRE(g.next(t0).what == status::wait);
  g.feed("0123456789abcdefg");  // 17 bytes
  CHECK(g.next(t0 + 10ms).what == status::excess_flood);
  CHECK(g.next(t0 + 5s).what == status::excess_flood);  // and it stays so
}

TEST_CASE("a large read handled without throttling is no excess flood; the backlog counts only once throttled") {
  flood_gate g(gate_limits(100, 1, 16));
  std::string many;
  for (int i = 0; i < 20; ++i) many += "line " + std::to_string(i) + "\n";
  REQUIRE(many.size() > 16);
  g.feed(many);
  for (int i = 0; i < 20; ++i) CHECK(take_line(g, t0) == "line " + std::to_string(i));
  CHECK(g.next(t0).what == status::need_input);

  // Throttled with more than the limit already buffered: the first answer is a wait (the
  // backlog is measured after it), the next an excess flood.
  flood_gate h(gate_limits(1, 1, 16));
  h.feed(many);
  CHECK(take_line(h, t0) == "line 0");
  CHECK(h.next(t0).what == status::wait);
  CHECK(h.next(t0 + 1s).what == status::excess_flood);
}

TEST_CASE("an overlong line takes a token and comes out as an error, also when it was held") {
  flood_gate g(gate_limits(1, 1, 4096, 16));
  g.feed("ok\n" + std::string(40, 'x') + "\nafter\n");
  CHECK(take_line(g, t0) == "ok");
  REQUIRE(g.next(t0).what == status::wait);
  auto s = g.next(t0 + 1s);
  REQUIRE(s.what == status::line);
  CHECK(s.error == simul::core::errc::line_too_long);
  CHECK(s.line.empty());
  REQUIRE(g.next(t0 + 1s).what == status::wait);
  CHECK(take_line(g, t0 + 2s) == "after");
}

TEST_CASE("a held line stays valid while more input is fed") {
  flood_gate g(gate_limits(1, 1, 1 << 20));
  g.feed("a\nheld line\n");
  CHECK(take_line(g, t0) == "a");
  REQUIRE(g.next(t0).what == status::wait);
  for (int i = 0; i < 100; ++i) g.feed(std::string(1000, 'z'));  // the framer reallocates
  CHECK(take_line(g, t0 + 1s) == "held line");
}

TEST_CASE("discard drops the input and the held line") {
  flood_gate g(gate_limits(1, 1, 4096));
  g.feed("a\nb\nc\npartial");
  CHECK(take_line(g, t0) == "a");
  REQUIRE(g.next(t0).what == status::wait);
  g.discard();
  CHECK_FALSE(g.throttled());
  CHECK(g.buffered() == 0);
  CHECK(g.next(t0 + 10s).what == status::need_input);
  g.feed("new\n");
  CHECK(take_line(g, t0 + 10s) == "new");
}
