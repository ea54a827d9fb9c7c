// The installed extras agree with the binaries: the man pages and the bash completion list exactly
// the options that --help lists (per simul-load subcommand), the pages render without groff
// warnings, and the systemd unit passes systemd-analyze verify (where those tools exist).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/process.hpp"

using simul::test::run_program;
using simul::test::slurp;
using names = std::set<std::string>;

namespace {

const std::string build_dir = SIMUL_PACKAGING_BUILD_DIR;
const std::string source_dir = SIMUL_SOURCE_DIR;

bool have(const char* program) { return ::access(program, X_OK) == 0; }

// The options of a CLI11 --help text: the names at the start of each "  -x,--name ..." line.
names help_options(const std::string& program, const std::vector<std::string>& args) {
  auto r = run_program(program, args);
  REQUIRE(r.exit_code == 0);
  names out;
  static const std::regex line(R"(^  (-[a-zA-Z],)?(--[a-z0-9-]+))");
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_search(l, m, line)) continue;
    if (m[1].matched) out.insert(m[1].str().substr(0, 2));
    out.insert(m[2].str());
  }
  return out;
}

// The subcommand names under "Subcommands:" in a CLI11 --help text.
names help_subcommands(const std::string& help) {
  names out;
  std::istringstream in(help);
  bool inside = false;
  static const std::regex line(R"(^  ([a-z]+)\s)");
  for (std::string l; std::getline(in, l);) {
    if (l == "Subcommands:") inside = true;
    else if (inside && l.empty()) break;
    else if (std::smatch m; inside && std::regex_search(l, m, line)) out.insert(m[1].str());
  }
  return out;
}

// The option entries of a man page, by owner: each `.\" options: A B` ... `.\" end options` block
// names its owners; an entry is the .B/.BI/.BR line after a .TP.
std::map<std::string, names> man_options(const std::string& page) {
  std::map<std::string, names> out;
  std::vector<std::string> owners;
  std::istringstream in(slurp(page));
  bool after_tp = false;
  static const std::regex option(R"(\\-(\\-[a-z0-9-]+|[a-zA-Z]\b))");
  for (std::string l; std::getline(in, l);) {
    if (l.starts_with(".\\\" options:")) {
      std::istringstream words(l.substr(12));
      owners.clear();
      for (std::string w; words >> w;) owners.push_back(w);
      for (const auto& o : owners) out[o];
    } else if (l.starts_with(".\\\" end options")) {
      owners.clear();
    } else if (after_tp && !owners.empty() && l.starts_with(".B")) {
      for (std::sregex_iterator it(l.begin(), l.end(), option), end; it != end; ++it) {
        std::string name = (*it)[0].str();
        name.erase(std::remove(name.begin(), name.end(), '\\'), name.end());
        for (const auto& o : owners) out[o].insert(name);
      }
    }
    after_tp = l == ".TP";
  }
  return out;
}

names long_only(const names& all) {
  names out;
  for (const auto& n : all) {
    if (n.starts_with("--")) out.insert(n);
  }
  return out;
}

// What the completion function offers for `words` (the last one is being completed).
names completions(const std::string& script, const std::string& function, const std::vector<std::string>& words) {
  std::string array;
  for (const auto& w : words) array += " '" + w + "'";
  const std::string cmd = "source '" + script + "'; COMP_WORDS=(" + array + "); COMP_CWORD=" +
                          std::to_string(words.size() - 1) + "; " + function + "; printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto r = run_program("/bin/bash", {"-c", cmd});
  REQUIRE(r.exit_code == 0);
  names out;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.insert(l);
  }
  return out;
}

// "" when the sets agree; otherwise what each lacks, so a failure names the options.
std::string difference(const names& listed, const names& help) {
  std::string only_help, only_listed;
  for (const auto& n : help) {
    if (!listed.count(n)) only_help += " " + n;
  }
  for (const auto& n : listed) {
    if (!help.count(n)) only_listed += " " + n;
  }
  if (only_help.empty() && only_listed.empty()) return "";
  return "only in --help:" + (only_help.empty() ? " -" : only_help) +
         "; only here:" + (only_listed.empty() ? " -" : only_listed);
}

const std::vector<std::string> load_subcommands{"echo", "idle", "churn", "chat"};

}  // namespace

TEST_CASE("the simul-server man page lists exactly the options of simul-server --help") {
  const auto page = man_options(build_dir + "/simul-server.1");
  REQUIRE(page.count("simul-server"));
  CHECK(difference(page.at("simul-server"), help_options(SIMUL_SERVER_BIN, {"--help"})) == "");
}

TEST_CASE("the simul-load man page lists each subcommand's options exactly as its --help does") {
  const auto page = man_options(build_dir + "/simul-load.1");
  REQUIRE(page.count("simul-load"));
  CHECK(difference(page.at("simul-load"), help_options(SIMUL_LOAD_BIN, {"--help"})) == "");
  const auto help = run_program(SIMUL_LOAD_BIN, {"--help"}).out;
  CHECK(help_subcommands(help) == names(load_subcommands.begin(), load_subcommands.end()));
  for (const auto& sub : load_subcommands) {
    CAPTURE(sub);
    REQUIRE(page.count(sub));
    CHECK(difference(page.at(sub), help_options(SIMUL_LOAD_BIN, {sub, "--help"})) == "");
  }
}

TEST_CASE("bash completion offers the subcommands and exactly the long options of --help") {
  const std::string load = source_dir + "/packaging/completion/simul-load";
  const std::string server = source_dir + "/packaging/completion/simul-server";
  CHECK(completions(load, "_simul_load", {"simul-load", ""}) ==
        names(load_subcommands.begin(), load_subcommands.end()));
  CHECK(difference(completions(load, "_simul_load", {"simul-load", "-"}),
                   long_only(help_options(SIMUL_LOAD_BIN, {"--help"}))) == "");
  for (const auto& sub : load_subcommands) {
    CAPTURE(sub);
    CHECK(difference(completions(load, "_simul_load", {"simul-load", sub, "--quiet", "-"}),
                     long_only(help_options(SIMUL_LOAD_BIN, {sub, "--help"}))) == "");
  }
  CHECK(completions(load, "_simul_load", {"simul-load", "echo", "--target-model", ""}) == names{"async", "threaded"});
  CHECK(difference(completions(server, "_simul_server", {"simul-server", "-"}),
                   long_only(help_options(SIMUL_SERVER_BIN, {"--help"}))) == "");
  CHECK(completions(server, "_simul_server", {"simul-server", "--log-format", ""}) == names{"json", "text"});
}

TEST_CASE("both man pages render without groff warnings") {
  if (!have("/usr/bin/groff")) {
    MESSAGE("groff is not installed: not checked");
    return;
  }
  for (const char* page : {"simul-server.1", "simul-load.1"}) {
    CAPTURE(page);
    auto r = run_program("/usr/bin/groff", {"-man", "-Tutf8", "-ww", "-z", build_dir + "/" + page});
    CHECK(r.exit_code == 0);
    CHECK(r.err == "");
  }
}

TEST_CASE("the systemd unit passes systemd-analyze verify") {
  if (!have("/usr/bin/systemd-analyze")) {
    MESSAGE("systemd-analyze is not installed: not checked");
    return;
  }
  // The unit names the installed binary and config; point them at the build tree's.
  std::string unit = slurp(build_dir + "/simul-server.service");
  const std::string installed_bin = SIMUL_INSTALLED_BINDIR "/simul-server";
  const std::string installed_conf = SIMUL_INSTALLED_CONFDIR "/server.yaml";
  for (auto at = unit.find(installed_bin); at != std::string::npos; at = unit.find(installed_bin))
    unit.replace(at, installed_bin.size(), SIMUL_SERVER_BIN);
  for (auto at = unit.find(installed_conf); at != std::string::npos; at = unit.find(installed_conf))
    unit.replace(at, installed_conf.size(), source_dir + "/config/server.yaml");
  const auto path = simul::test::temp_path("simul-server.service");
  { std::ofstream(path) << unit; }
  auto r = run_program("/usr/bin/systemd-analyze", {"verify", "--man=no", path});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err == "");
}
