// Unit tests for the parent-child messages: statistics survive encoding exactly, and a truncated
// payload is refused rather than read past its end.
#include "client/shard_wire.hpp"

#include <doctest/doctest.h>

using namespace simul::load;

namespace {

snapshot sample_snapshot() {
  snapshot s;
  s.c.connects_started = 7;
  s.c.connections_up = -2;
  s.c.outstanding = 3;
  s.c.chat_reordered = 11;
  s.connect_errors.add("ECONNREFUSED", 4);
  s.io_errors.add("IRC ERROR: a reason, with spaces", 2);
  for (std::uint64_t v : {5u, 900u, 123456u, 99999999u}) s.interval.record(v);
  s.chat_sent_per_room = {1, 2, 3};
  s.connected_per_target = {10, 20};
  s.setup_finished = 30;
  s.setup_ok = 29;
  s.room_members = {4, 5, 6};
  return s;
}

}  // namespace

TEST_CASE("a snapshot and its histograms survive the wire exactly") {
  shard_totals t;
  t.last = sample_snapshot();
  t.latency.record_n(777, 3);
  t.latency.record(1ull << 40);
  t.cross_target.record(42);
  wire_out out;
  put(out, t);
  wire_in in(out.data());
  const auto back = get_totals(in);
  REQUIRE(in.ok());
  const auto& s = back.last;
  CHECK(s.c.connects_started == 7);
  CHECK(s.c.connections_up == -2);
  CHECK(s.c.outstanding == 3);
  CHECK(s.c.chat_reordered == 11);
  CHECK(s.connect_errors.by_cause().at("ECONNREFUSED") == 4);
  CHECK(s.io_errors.by_cause().at("IRC ERROR: a reason, with spaces") == 2);
  CHECK(s.interval.count() == 4);
  CHECK(s.interval.min() == 5);
  CHECK(s.interval.max() == 99999999);
  CHECK(s.interval.percentile(50) == t.last.interval.percentile(50));
  CHECK(s.interval.mean() == t.last.interval.mean());
  CHECK(s.chat_sent_per_room == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(s.connected_per_target == std::vector<std::uint64_t>{10, 20});
  CHECK(s.setup_finished == 30);
  CHECK(s.setup_ok == 29);
  CHECK(s.room_members == std::vector<std::uint64_t>{4, 5, 6});
  CHECK(back.latency.count() == 4);
  CHECK(back.latency.max() == (1ull << 40));
  CHECK(back.latency.percentile(50) == t.latency.percentile(50));
  CHECK(back.handshakes.count() == 0);
  CHECK(back.cross_target.count() == 1);
  CHECK(back.cross_target.max() == 42);
}

TEST_CASE("a truncated payload is refused, never read past its end") {
  wire_out out;
  put(out, sample_snapshot());
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, out.data().size() / 2, out.data().size() - 1}) {
    CAPTURE(cut);
    wire_in in(std::string_view(out.data()).substr(0, cut));
    (void)get_snapshot(in);
    CHECK_FALSE(in.ok());
  }
}

TEST_CASE("a time point crosses the wire to the nanosecond") {
  const auto now = clock::now();
  CHECK(time_from_wire(to_wire(now)) == now);
}
