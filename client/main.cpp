// simul-load: the load generator's entry point. Parses the command line, runs the scenario,
// prints the report (and writes --json), and exits with the verdict's code.
#include <cstdio>
#include <exception>

#include "client/json_report.hpp"
#include "client/options.hpp"
#include "client/report.hpp"
#include "client/runner.hpp"

int main(int argc, char** argv) {
  using namespace simul::load;
  auto parsed = parse_options(argc, argv);
  if (!parsed.opts) return parsed.exit_code;
  const options& o = *parsed.opts;
  try {
    run_result r = run_load(o);
    judge(r);
    std::fputs(text_report(r).c_str(), stdout);
    std::fflush(stdout);
    if (r.exit_code == 3) std::fprintf(stderr, "simul-load: %s\n", r.failures.front().c_str());
    if (!o.json_path.empty()) {
      if (auto err = write_json_report(r, o.json_path); !err.empty()) {
        std::fprintf(stderr, "simul-load: %s\n", err.c_str());
        return r.exit_code != 0 ? r.exit_code : 1;
      }
    }
    return r.exit_code;
  } catch (const usage_error& e) {
    std::fprintf(stderr, "simul-load: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simul-load: error: %s\n", e.what());
    return 1;
  }
}
