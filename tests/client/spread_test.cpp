// Unit tests for the spread plan: processes from the open-file limit, source addresses from the
// ephemeral port range, and the error when a remote target needs more ports than one address has.
#include "client/spread.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace simul::load;

namespace {

spread_input input(std::size_t sockets) {
  spread_input in;
  in.sockets = sockets;
  in.fd_limit = 20000;
  in.threads = 2;
  in.ephemeral_ports = 60999 - 32768 + 1;
  return in;
}

}  // namespace

TEST_CASE("one process holds what its open-file limit allows, less a reserve") {
  CHECK(process_budget(20000, 2) == 20000 - 72);
  CHECK(process_budget(10, 2) == 1);
  std::string error;
  auto small = plan_spread(input(3000), error);
  REQUIRE(small);
  CHECK(small->processes == 1);
  CHECK(small->threads == 2);
  CHECK(small->sources.size() == 1);
  CHECK(small->sources[0].empty());  // the kernel chooses, as before
  CHECK_FALSE(small->auto_sources);
  auto full = plan_spread(input(19000), error);
  REQUIRE(full);
  CHECK(full->processes == 1);
  CHECK(full->sources[0].size() == 6);  // an eighth of the port range (3,529) each
}

TEST_CASE("100,000 loopback connections take six processes, each with its own source addresses") {
  std::string error;
  auto plan = plan_spread(input(100000), error);
  REQUIRE(plan);
  CHECK(plan->processes == 6);
  CHECK(plan->threads == 1);
  CHECK(plan->auto_sources);
  REQUIRE(plan->sources.size() == 6);
  std::set<ipv4> seen;
  for (const auto& s : plan->sources) {
    CHECK(s.size() == 5);  // 16,667 connections, 3,529 an address at most
    for (auto a : s) CHECK(seen.insert(a).second);  // disjoint
  }
  CHECK(format_ipv4(plan->sources[0][0]) == "127.0.0.1");
  CHECK(format_ipv4(plan->sources[5][4]) == "127.0.0.30");
}

TEST_CASE("a process whose share passes an address's ports gets several addresses, per target") {
  auto in = input(60000);
  in.fd_limit = 1'000'000;  // one process could hold them all
  std::string error;
  auto plan = plan_spread(in, error);
  REQUIRE(plan);
  CHECK(plan->processes == 1);
  REQUIRE(plan->sources.size() == 1);
  CHECK(plan->sources[0].size() == 18);  // 60,000 / 3,529
  SUBCASE("spread over two targets, half as many") {
    in.targets = 2;
    plan = plan_spread(in, error);
    REQUIRE(plan);
    CHECK(plan->sources[0].size() == 9);
  }
}

TEST_CASE("a remote target beyond one address's ports is an error naming --source") {
  auto in = input(40000);
  in.loopback = false;
  std::string error;
  CHECK_FALSE(plan_spread(in, error));
  CHECK(error.find("--source") != std::string::npos);
  CHECK(error.find("2 source addresses") != std::string::npos);
  in.sources = {0x0a000001, 0x0a000002};
  auto plan = plan_spread(in, error);
  REQUIRE(plan);
  CHECK(plan->processes == 3);
  // Fewer addresses than processes: every process shares them.
  for (const auto& s : plan->sources) CHECK(s.size() == 2);
}

TEST_CASE("--processes forces the count; given sources are split between processes") {
  auto in = input(30);
  in.forced_processes = 3;
  in.sources = {1, 2, 3, 4, 5, 6};
  std::string error;
  auto plan = plan_spread(in, error);
  REQUIRE(plan);
  CHECK(plan->processes == 3);
  CHECK(plan->sources[0] == std::vector<ipv4>{1, 4});
  CHECK(plan->sources[2] == std::vector<ipv4>{3, 6});
  CHECK(plan->warnings.empty());
  SUBCASE("too few processes for the limit: a warning naming the count needed") {
    in = input(50000);
    in.forced_processes = 2;
    plan = plan_spread(in, error);
    REQUIRE(plan);
    REQUIRE(plan->warnings.size() == 1);
    CHECK(plan->warnings[0].find("--processes 3") != std::string::npos);
  }
}
