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

int main(int argc, char** argv) {
  using namespace simul::server;
  command_line cl;
  try {
    cl = parse_command_line(argc, argv);
  } catch (const config_error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    for (int i = 1; i < argc; ++i)
      if (std::strcmp(argv[i], "--check-config") == 0) return 1;
    return 2;
  }
  if (cl.exit_now) return cl.exit_code;
  if (!cl.probe.empty()) return probe_health(cl.probe);
  if (cl.check_config) {
    std::cout << to_yaml(cl.cfg);
    return 0;
  }
  setup_logging(cl.cfg.log);
  std::unique_ptr<server> srv;
  try {
    srv = make_server(cl.cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  if (!cl.config_path.empty()) {
    // SIGHUP re-reads the file and re-applies the same flags, as at start-up.
    srv->set_reloader([argc, argv] {
      std::ostringstream out, err;
      auto again = parse_command_line(argc, argv, out, err);
      if (again.exit_now) throw config_error(err.str());
      return again.cfg;
    });
  }
  try {
    srv->run(true);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
  return 0;
}
