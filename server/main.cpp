// simul-server: parse the command line, configure logging, start the chosen model, serve.
// Exit codes: 0 clean, 1 runtime failure, 2 usage or configuration error
// (with --check-config: 0 valid, 1 invalid, as `nginx -t` does).
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "server/common/config.hpp"
#include "server/common/logging.hpp"
#include "server/common/probe.hpp"
#include "server/common/server.hpp"
#include "server/workers/supervisor.hpp"

namespace {

bool has_arg(int argc, char** argv, const char* arg) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], arg) == 0) return true;
  return false;
}

// Whether the command line asks for JSON logs (when the config could not be read).
bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--log-format=json") == 0) return true;
    if (std::strcmp(argv[i], "--log-format") == 0 && i + 1 < argc && std::strcmp(argv[i + 1], "json") == 0) return true;
  }
  return false;
}

// A start-up error as one line on stderr: "error: ..." or, under --log-format json, a JSON log
// line like every other. Returns `code`.
int start_failed(bool json, const char* what, int code) {
  if (!json) {
    std::fprintf(stderr, "error: %s\n", what);
    return code;
  }
  simul::server::setup_logging({"info", "json", std::chrono::milliseconds(0)});
  spdlog::error("{}", what);
  spdlog::default_logger()->flush();
  return code;
}

// SIGHUP re-reads the file and re-applies the same flags, as at start-up. Empty without --config.
simul::server::config_reloader make_reloader(int argc, char** argv, const std::string& config_path) {
  using namespace simul::server;
  if (config_path.empty()) return {};
  return [argc, argv] {
    std::ostringstream out, err;
    auto again = parse_command_line(argc, argv, out, err);
    if (again.exit_now) throw config_error(err.str());
    return again.cfg;
  };
}

// workers > 1: the supervisor forks the workers and serves none itself.
int run_workers(const simul::server::command_line& cl, simul::server::config_reloader reloader) {
  using namespace simul::server;
  std::unique_ptr<supervisor> sup;
  try {
    sup = std::make_unique<supervisor>(cl.cfg, std::move(reloader));
  } catch (const std::exception& e) {
    return start_failed(cl.cfg.log.format == "json", e.what(), 2);
  }
  try {
    return sup->run();
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace simul::server;
  command_line cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const config_error& e) {
    return start_failed(json_requested(argc, argv), e.what(), has_arg(argc, argv, "--check-config") ? 1 : 2);
  }
  if (cl.exit_now) return cl.exit_code;
  if (!cl.probe.empty()) return probe_health(cl.probe);
  if (cl.check_config) {
    try {
      check_config_files(cl.cfg);
    } catch (const std::exception& e) {
      return start_failed(cl.cfg.log.format == "json", e.what(), 1);
    }
    std::cout << to_yaml(cl.cfg);
    return 0;
  }
  setup_logging(cl.cfg.log);
  if (cl.cfg.workers > 1) return run_workers(cl, make_reloader(argc, argv, cl.config_path));
  std::unique_ptr<server> srv;
  try {
    srv = make_server(cl.cfg);
  } catch (const std::exception& e) {
    return start_failed(cl.cfg.log.format == "json", e.what(), 2);
  }
  srv->set_reloader(make_reloader(argc, argv, cl.config_path));
  try {
    srv->run(true);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
  return 0;
}
