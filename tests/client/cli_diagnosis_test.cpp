// Unit tests for the usage-error diagnosis: what is named, and which spelling is suggested.
#include "client/cli_diagnosis.hpp"

#include <doctest/doctest.h>

using namespace simul::load;

namespace {

cli_shape shape() {
  cli_shape s;
  s.program = "simul-load";
  s.global = {{"--help", false}, {"-h", false}, {"--version", false}};
  s.subcommands = {
      {"echo", {{"--connections", true}, {"--rate", true}, {"--duration", true}, {"--quiet", false}, {"--json", true}}},
      {"chat", {{"--users", true}, {"--rate", true}, {"--duration", true}, {"--json", true}}},
  };
  return s;
}

std::string why(std::vector<std::string> args) { return diagnose(shape(), args).value_or("(nothing)"); }

}  // namespace

TEST_CASE("edit distance counts an adjacent transposition as one edit") {
  CHECK(edit_distance("chat", "chat") == 0);
  CHECK(edit_distance("chta", "chat") == 1);
  CHECK(edit_distance("conections", "connections") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("the closest match is a unique prefix or a near typo, never a wild guess") {
  const std::vector<std::string> subs{"echo", "idle", "churn", "chat"};
  CHECK(closest_match("ech", subs) == "echo");
  CHECK(closest_match("chta", subs) == "chat");
  CHECK(closest_match("ch", subs).empty());  // churn or chat: ambiguous, and too short to guess
  CHECK(closest_match("frobnicate", subs).empty());
  CHECK(closest_match("-v", {"--help", "--version"}) == "--version");
  CHECK(closest_match("--conections", {"--connections", "--connect-rate"}) == "--connections");
}

TEST_CASE("a missing or unknown subcommand is named with a suggestion") {
  CHECK(why({}) == "a subcommand is required: echo or chat");
  CHECK(why({"ech"}) == "unknown subcommand 'ech' (did you mean 'echo'?); the subcommands are echo and chat");
  CHECK(why({"zzz"}) == "unknown subcommand 'zzz'; the subcommands are echo and chat");
}

TEST_CASE("an unknown option is named with the closest valid one") {
  CHECK(why({"-v"}) == "unknown option '-v' (did you mean '--version'?)");
  CHECK(why({"echo", "--conections", "5"}) == "echo: unknown option '--conections' (did you mean '--connections'?)");
  CHECK(why({"echo", "--rate=5", "--quite"}) == "echo: unknown option '--quite' (did you mean '--quiet'?)");
  CHECK(why({"echo", "--xyzzy"}) == "echo: unknown option '--xyzzy'");
}

TEST_CASE("an option in the wrong place says where it belongs") {
  CHECK(why({"echo", "--users", "5"}) == "echo: option '--users' is for chat, not echo");
  CHECK(why({"--json", "x", "echo"}) == "option '--json' goes after the subcommand, e.g. 'simul-load echo --json ...'");
  CHECK(why({"echo", "--connections", "5", "stray"}) == "echo: unexpected argument 'stray'");
}

TEST_CASE("values that look like options are skipped, and a well-formed line gets no diagnosis") {
  CHECK_FALSE(diagnose(shape(), {"echo", "--rate", "-1", "--quiet"}));
  CHECK_FALSE(diagnose(shape(), {"chat", "--users=3", "--json", "-"}));
}
