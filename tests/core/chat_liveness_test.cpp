// Unit tests for core::liveness (registration timeout, ping interval and ping timeout).
#include "core/chat_liveness.hpp"

#include <doctest/doctest.h>

#include "core/errc.hpp"

using namespace simul::core;
using namespace std::chrono_literals;

namespace {
const auto t0 = liveness::clock::time_point{} + 1h;
timeouts defaults() { return timeouts{}; }  // 30 s registration, 120 s interval, 60 s timeout
}  // namespace

TEST_CASE("an unregistered client is closed at the registration deadline, activity or not") {
  liveness l(defaults(), t0);
  CHECK(l.next_deadline() == t0 + 30s);
  l.on_activity(t0 + 20s);
  CHECK(l.poll(t0 + 29s).what == liveness::action::none);
  auto d = l.poll(t0 + 30s);
  CHECK(d.what == liveness::action::close);
  CHECK(d.reason == errc::registration_timeout);
}

TEST_CASE("a registered client is pinged after ping_interval of silence, once") {
  liveness l(defaults(), t0);
  l.on_registered(t0 + 5s);
  CHECK(l.poll(t0 + 30s).what == liveness::action::none);  // no registration deadline any more
  CHECK(l.next_deadline() == t0 + 125s);
  CHECK(l.poll(t0 + 124s).what == liveness::action::none);
  CHECK(l.poll(t0 + 125s).what == liveness::action::send_ping);
  CHECK(l.ping_outstanding());
  CHECK(l.poll(t0 + 126s).what == liveness::action::none);
  CHECK(l.next_deadline() == t0 + 185s);
}

TEST_CASE("no reply within ping_timeout after the PING closes with ping_timeout") {
  liveness l(defaults(), t0);
  l.on_registered(t0);
  REQUIRE(l.poll(t0 + 120s).what == liveness::action::send_ping);
  CHECK(l.poll(t0 + 179s).what == liveness::action::none);
  auto d = l.poll(t0 + 180s);
  CHECK(d.what == liveness::action::close);
  CHECK(d.reason == errc::ping_timeout);
}

TEST_CASE("any line after the PING, a PONG or not, keeps the client and restarts the interval") {
  liveness l(defaults(), t0);
  l.on_registered(t0);
  REQUIRE(l.poll(t0 + 120s).what == liveness::action::send_ping);
  l.on_activity(t0 + 130s);
  CHECK_FALSE(l.ping_outstanding());
  CHECK(l.poll(t0 + 180s).what == liveness::action::none);
  CHECK(l.next_deadline() == t0 + 250s);
}

TEST_CASE("activity keeps pushing the ping back") {
  liveness l(defaults(), t0);
  l.on_registered(t0);
  for (int i = 1; i <= 10; ++i) {
    l.on_activity(t0 + std::chrono::seconds(100 * i));
    REQUIRE(l.poll(t0 + std::chrono::seconds(100 * i + 60)).what == liveness::action::none);
  }
}

TEST_CASE("sub-second timeouts are kept to the millisecond") {
  timeouts t;
  t.registration = 300ms;
  t.ping_interval = 200ms;
  t.ping_timeout = 250ms;
  liveness l(t, t0);
  CHECK(l.next_deadline() == t0 + 300ms);
  CHECK(l.poll(t0 + 299ms).what == liveness::action::none);
  CHECK(l.poll(t0 + 300ms).what == liveness::action::close);
  liveness m(t, t0);
  m.on_registered(t0);
  CHECK(m.poll(t0 + 199ms).what == liveness::action::none);
  CHECK(m.poll(t0 + 200ms).what == liveness::action::send_ping);
  CHECK(m.next_deadline() == t0 + 450ms);
  CHECK(m.poll(t0 + 450ms).what == liveness::action::close);
}

TEST_CASE("zero seconds disables a timeout") {
  timeouts t;
  t.registration = 0s;
  t.ping_interval = 0s;
  liveness l(t, t0);
  CHECK(l.next_deadline() == liveness::clock::time_point::max());
  CHECK(l.poll(t0 + 100h).what == liveness::action::none);
  l.on_registered(t0);
  CHECK(l.poll(t0 + 100h).what == liveness::action::none);
  t.ping_interval = 10s;
  t.ping_timeout = 0s;
  liveness m(t, t0);
  m.on_registered(t0);
  CHECK(m.poll(t0 + 10s).what == liveness::action::send_ping);
  CHECK(m.poll(t0 + 100h).what == liveness::action::none);
}
