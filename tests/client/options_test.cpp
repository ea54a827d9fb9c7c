// Unit tests for simul-load's command line: durations, address ranges, defaults per subcommand.
#include "client/options.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace simul::load;

namespace {
parse_outcome parse(std::vector<const char*> args) {
  args.insert(args.begin(), "simul-load");
  return parse_options(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("durations take s, ms, m and h suffixes") {
  CHECK(parse_duration("10") == 10.0);
  CHECK(parse_duration("1.5s") == 1.5);
  CHECK(parse_duration("250ms") == 0.25);
  CHECK(parse_duration("2m") == 120.0);
  CHECK(parse_duration("1h") == 3600.0);
  CHECK_FALSE(parse_duration("10x"));
  CHECK_FALSE(parse_duration("-1"));
  CHECK_FALSE(parse_duration("s"));
}

TEST_CASE("--source ranges expand to every address, and bad ranges are refused") {
  std::string error;
  auto r = parse_address_range("127.0.0.2-127.0.0.4,10.0.0.1", error);
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK(format_ipv4((*r)[0]) == "127.0.0.2");
  CHECK(format_ipv4((*r)[2]) == "127.0.0.4");
  CHECK(format_ipv4((*r)[3]) == "10.0.0.1");
  CHECK_FALSE(parse_address_range("127.0.0.9-127.0.0.2", error));
  CHECK_FALSE(parse_address_range("127.0.0.300", error));
  CHECK_FALSE(parse_address_range("10.0.0.0-10.255.255.255", error));
}

TEST_CASE("each subcommand keeps its own defaults") {
  auto echo = parse({"echo"});
  REQUIRE(echo.opts);
  CHECK(echo.opts->scenario == scenario_kind::echo);
  CHECK(echo.opts->connections == 10);
  CHECK(echo.opts->rate == 0.0);  // closed loop
  CHECK(echo.opts->port == 7007);
  auto chat = parse({"chat", "--users", "4", "--rooms", "2"});
  REQUIRE(chat.opts);
  CHECK(chat.opts->rate == 1.0);
  CHECK(chat.opts->port == 6667);
  CHECK(chat.opts->threads <= 4);
  auto idle = parse({"idle", "--duration", "500ms", "--threads", "1"});
  REQUIRE(idle.opts);
  CHECK(idle.opts->connections == 100);
  CHECK(idle.opts->duration_s == 0.5);
}

TEST_CASE("usage errors exit with code 2") {
  CHECK(parse({}).exit_code == 2);
  CHECK(parse({"echo", "--duration", "soon"}).exit_code == 2);
  CHECK(parse({"echo", "--connections", "0"}).exit_code == 2);
  CHECK(parse({"chat", "--size", "10"}).exit_code == 2);
  CHECK(parse({"churn", "--source", "1.2.3"}).exit_code == 2);
  CHECK(parse({"bogus"}).exit_code == 2);
}

TEST_CASE("numbers are read in base 10 and bad values are refused without a 309-digit range") {
  auto p = parse({"echo", "--port", "07007", "--connections", "010"});
  REQUIRE(p.opts);
  CHECK(p.opts->port == 7007);  // not octal 3591
  CHECK(p.opts->connections == 10);
  CHECK(parse({"echo", "--rate", "abc"}).exit_code == 2);
  CHECK(parse({"echo", "--rate", "-1"}).exit_code == 2);
  CHECK(parse({"echo", "--rate", "inf"}).exit_code == 2);
  CHECK(parse({"echo", "--port", "0x1b5f"}).exit_code == 2);
  CHECK(parse({"echo", "--port", "65536"}).exit_code == 2);
  CHECK(parse({"echo", "--connections", "1e3"}).exit_code == 2);
}

TEST_CASE("--ramp needs a rate and fits in the run; --stages sets the rate and the duration") {
  auto ramp = parse({"echo", "--rate", "100", "--ramp", "2s", "--duration", "5s"});
  REQUIRE(ramp.opts);
  CHECK(ramp.opts->ramp_s == 2.0);
  CHECK(ramp.opts->varying_rate());
  CHECK(ramp.opts->schedule().rate_at(1.0) == doctest::Approx(50));
  CHECK(parse({"echo", "--ramp", "2s"}).exit_code == 2);                                 // closed loop
  CHECK(parse({"echo", "--rate", "10", "--ramp", "20s"}).exit_code == 2);                // > --duration
  CHECK(parse({"idle", "--ramp", "2s"}).exit_code == 2);                                 // no rate at all

  auto stages = parse({"churn", "--stages", "2s:100,3s:300,1s:0"});
  REQUIRE(stages.opts);
  CHECK(stages.opts->rate == 300);
  CHECK(stages.opts->duration_s == 6.0);
  auto cut = parse({"chat", "--stages", "2s:1", "--duration", "10s"});
  REQUIRE(cut.opts);
  CHECK(cut.opts->duration_s == 10.0);  // an explicit --duration wins; the last rate holds
  CHECK(parse({"churn", "--stages", "2s:100", "--rate", "5"}).exit_code == 2);
  CHECK(parse({"churn", "--stages", "2s:100", "--ramp", "1s"}).exit_code == 2);
  CHECK(parse({"churn", "--stages", "2s"}).exit_code == 2);
}

TEST_CASE("only --json can write to stdout") {
  auto p = parse({"echo", "--json", "-"});
  REQUIRE(p.opts);
  CHECK(p.opts->json_path == "-");
  CHECK(parse({"echo", "--json", "-", "--histogram", "-"}).exit_code == 2);
}

TEST_CASE("--targets lists servers, with the scenario's port by default, and excludes --host and --port") {
  auto two = parse({"chat", "--targets", "127.0.0.1:7001,localhost"});
  REQUIRE(two.opts);
  REQUIRE(two.opts->targets.size() == 2);
  CHECK(two.opts->targets[0].host == "127.0.0.1");
  CHECK(two.opts->targets[0].port == 7001);
  CHECK(two.opts->targets[1].host == "localhost");
  CHECK(two.opts->targets[1].port == 6667);
  auto one = parse({"echo", "--host", "10.0.0.1", "--port", "9"});
  REQUIRE(one.opts);
  REQUIRE(one.opts->targets.size() == 1);
  CHECK(one.opts->targets[0].host == "10.0.0.1");
  CHECK(one.opts->targets[0].port == 9);
  CHECK(parse({"echo", "--targets", "a:1", "--port", "2"}).exit_code == 2);
  CHECK(parse({"echo", "--targets", "a:0"}).exit_code == 2);
  CHECK(parse({"echo", "--targets", "a:1,,b:2"}).exit_code == 2);
  CHECK(parse({"echo", "--targets", ":5"}).exit_code == 2);
}

TEST_CASE("--processes is at most one per connection") {
  auto ok = parse({"idle", "--connections", "3", "--processes", "3"});
  REQUIRE(ok.opts);
  CHECK(ok.opts->processes == 3);
  CHECK(parse({"idle", "--connections", "2", "--processes", "3"}).exit_code == 2);
  CHECK(parse({"idle", "--processes", "0"}).exit_code == 2);
}
