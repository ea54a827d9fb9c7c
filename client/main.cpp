// simul-load: the load generator's entry point. Parses the command line, checks that the report
// files can be written, runs the scenario, prints the report (and writes --json, --histogram),
// and exits with the verdict's code.
#include <cstdio>
#include <exception>

#include "client/histogram_file.hpp"
#include "client/json_report.hpp"
#include "client/options.hpp"
#include "client/output_file.hpp"
#include "client/report.hpp"
#include "client/runner.hpp"

int main(int argc, char** argv) {
  using namespace simul::load;
  auto parsed = parse_options(argc, argv);
  if (!parsed.opts) return parsed.exit_code;
  const options& o = *parsed.opts;
  // A path that cannot be written is a usage error found now, not after the whole run.
  for (const auto* path : {&o.json_path, &o.histogram_path}) {
    if (path->empty() || *path == "-") continue;
    if (auto err = check_writable(*path); !err.empty()) {
      std::fprintf(stderr, "simul-load: error: %s %s\n", path == &o.json_path ? "--json" : "--histogram",
                   err.c_str());
      return 2;
    }
  }
  const bool json_to_stdout = o.json_path == "-";
  try {
    run_result r = run_load(o);
    judge(r);
    // With --json -, stdout carries the JSON alone and the human report goes to stderr.
    std::FILE* report = json_to_stdout ? stderr : stdout;
    std::fputs(text_report(r).c_str(), report);
    std::fflush(report);
    if (r.exit_code == 3 && !json_to_stdout) std::fprintf(stderr, "simul-load: %s\n", r.failures.front().c_str());
    int rc = r.exit_code;
    if (json_to_stdout) {
      std::fputs(json_report(r).c_str(), stdout);
      std::fflush(stdout);
    } else if (!o.json_path.empty()) {
      if (auto err = write_json_report(r, o.json_path); !err.empty()) {
        std::fprintf(stderr, "simul-load: %s\n", err.c_str());
        if (rc == 0) rc = 1;
      }
    }
    if (!o.histogram_path.empty()) {
      if (auto err = write_histogram(r.latency, o.histogram_path); !err.empty()) {
        std::fprintf(stderr, "simul-load: %s\n", err.c_str());
        if (rc == 0) rc = 1;
      }
    }
    return rc;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "simul-load: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simul-load: error: %s\n", e.what());
    return 1;
  }
}
