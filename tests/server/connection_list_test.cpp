// The async model's connection list (server/async/connection.hpp): lazy moves and the idle sweep.
#include <doctest/doctest.h>

#include <deque>
#include <vector>

#include "server/async/connection.hpp"

using namespace simul::server;
using namespace std::chrono_literals;

namespace {

struct recorded : connection {
  explicit recorded(std::vector<recorded*>& log) : log_(log) {}
  void on_stop(disconnect_reason) override { log_.push_back(this); }
  std::vector<recorded*>& log_;
};

// Accepted at `at`, as session_scope links a connection.
void accept(connection_list& list, connection& c, clock::time_point at) {
  c.last_active = at;
  list.push_back(c);
}

}  // namespace

TEST_CASE("an idle sweep finds an idle connection behind one that was active without moving") {
  std::vector<recorded*> stopped;
  recorded a(stopped), b(stopped), c(stopped);
  connection_list list;
  list.set_lazy(1s);
  const clock::time_point t0{};
  accept(list, a, t0);
  accept(list, b, t0);
  accept(list, c, t0);
  list.touch(a, t0 + 500ms);  // within the lazy delay: a keeps its place at the front
  list.touch(b, t0 + 2s);     // beyond it: b moves to the back
  CHECK(list.front() == &a);
  CHECK(connection_list::next(a) == &c);

  list.expire(10s, t0 + 10s + 400ms, 1024, disconnect_reason::idle);
  // a (active at 0.5 s) is not idle yet, c (silent since 0) is, b (active at 2 s) is not.
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0] == &c);
  CHECK(c.reason() == disconnect_reason::idle);
  CHECK(list.size() == 2);

  list.expire(10s, t0 + 10s + 600ms, 1024, disconnect_reason::idle);
  REQUIRE(stopped.size() == 2);
  CHECK(stopped[1] == &a);
  CHECK(list.size() == 1);
  CHECK(list.front() == &b);
}

TEST_CASE("an idle sweep stops at the first place younger than the timeout and looks at no more than its limit") {
  std::vector<recorded*> stopped;
  std::deque<recorded> conns;  // connections do not move
  for (int i = 0; i < 10; ++i) conns.emplace_back(stopped);
  connection_list list;
  list.set_lazy(0s);  // every touch moves
  const clock::time_point t0{};
  for (int i = 0; i < 10; ++i) accept(list, conns[i], t0 + std::chrono::seconds(i));
  list.touch(conns[0], t0 + 20s);  // moves to the back: no longer idle at 15 s
  CHECK(list.front() == &conns[1]);

  // At 15 s with a 10 s timeout, connections 1..5 are idle (accepted at 1..5 s); 6..9 and 0 not.
  list.expire(10s, t0 + 15s, 3, disconnect_reason::idle);
  CHECK(stopped.size() == 3);  // the limit
  list.expire(10s, t0 + 15s, 1024, disconnect_reason::idle);
  REQUIRE(stopped.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(stopped[i] == &conns[i + 1]);
  CHECK(list.size() == 5);
}

TEST_CASE("an idle sweep asks each connection when it was last active (a session may keep its own time)") {
  // Plain-TCP echo (server/async/echo.cpp) records each read's time next to its reactor entry
  // and writes the connection's own field only when it moves in the list.
  struct own_clock : recorded {
    using recorded::recorded;
    clock::time_point active_at{};
    clock::time_point last_activity() const noexcept override { return active_at; }
  };
  std::vector<recorded*> stopped;
  own_clock quiet(stopped), busy(stopped);
  connection_list list;
  list.set_lazy(1s);
  const clock::time_point t0{};
  accept(list, quiet, t0);
  accept(list, busy, t0);
  quiet.active_at = t0;
  busy.active_at = t0 + 5s;  // read at 5 s, without touching the list
  list.expire(10s, t0 + 10s, 1024, disconnect_reason::idle);
  REQUIRE(stopped.size() == 1);
  CHECK(stopped[0] == &quiet);
  CHECK(list.size() == 1);
  list.expire(10s, t0 + 15s, 1024, disconnect_reason::idle);
  REQUIRE(stopped.size() == 2);
  CHECK(stopped[1] == &busy);
}
