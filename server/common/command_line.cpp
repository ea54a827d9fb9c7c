// simul-server's command line (CLI11): the config file is loaded first, flags override it, and
// the result is validated once, so a flag can fix what the file alone would get wrong.
#include <CLI/CLI.hpp>
#include <iostream>

#include "server/common/config.hpp"
#include "server/common/probe.hpp"

namespace simul::server {
namespace {

// HOST:PORT, where HOST may be a bracketed IPv6 address ("[::1]:9107").
std::string check_host_port(std::string& s) {
  std::string error;
  parse_host_port(s, error);
  return error;
}

// A port in base 10 (a leading zero is not octal): 0..65535, digits only.
std::string check_port(std::string& s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos || std::stoul(s) > 65535)
    return "must be a port number in base 10, 0..65535 (got " + s + ")";
  return {};
}

std::uint16_t to_port(const std::string& s) { return static_cast<std::uint16_t>(std::stoul(s, nullptr, 10)); }

}  // namespace

command_line parse_command_line(int argc, char** argv) {
  return parse_command_line(argc, argv, std::cout, std::cerr);
}

command_line parse_command_line(int argc, char** argv, std::ostream& out, std::ostream& err) {
  command_line cl;
  CLI::App app{
      "simul-server: a TCP echo and IRC chat server (async or threaded model).\n"
      "Flags override the config file; without --config the built-in defaults apply "
      "(equal to config/server.yaml).",
      "simul-server"};
  std::string model, bind, log_level, log_format;
  std::string echo_port, chat_port, metrics_port, redis;  // text: CLI11 would read "07007" as octal
  bool no_echo = false, no_chat = false, no_metrics = false;

  app.add_option("--config", cl.config_path, "YAML config file")->type_name("FILE");
  // Validators carry no description: the help text names the allowed values itself.
  std::vector<std::string> model_choices;
  for (const auto& m : model_table) model_choices.emplace_back(m.name);
  auto* o_model = app.add_option("--model", model, "Server model: " + model_names())
                      ->check(CLI::IsMember(model_choices).description(""))
                      ->type_name("MODEL");
  auto* o_bind = app.add_option("--bind", bind, "Address the listeners bind to")->type_name("ADDR");
  auto port_option = [&](const char* name, std::string& port, const char* what) {
    return app.add_option(name, port, std::string(what) + " port, 0..65535 (0 = any free port)")
        ->check(CLI::Validator(check_port, ""))
        ->type_name("N");
  };
  auto* o_echo = port_option("--echo-port", echo_port, "Echo");
  auto* o_chat = port_option("--chat-port", chat_port, "Chat (IRC)");
  auto* o_metrics = port_option("--metrics-port", metrics_port, "Metrics (HTTP)");
  app.add_flag("--no-echo", no_echo, "Disable the echo listener")->excludes(o_echo);
  app.add_flag("--no-chat", no_chat, "Disable the chat listener")->excludes(o_chat);
  app.add_flag("--no-metrics", no_metrics, "Disable the metrics listener")->excludes(o_metrics);
  auto* o_level =
      app.add_option("--log-level", log_level,
                     "Log level: trace debug info warn error critical off")
          ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"})
                      .description(""))
          ->type_name("LEVEL");
  auto* o_format = app.add_option("--log-format", log_format, "Log format: text or json")
                       ->check(CLI::IsMember({"text", "json"}).description(""))
                       ->type_name("FORMAT");
  auto* o_redis = app.add_option("--redis", redis,
                                 "Join the chat network on this Redis (cluster.redis; async model)")
                      ->check(CLI::Validator(check_host_port, ""))
                      ->type_name("HOST:PORT");
  app.add_flag("--check-config", cl.check_config,
               "Validate the configuration, print the effective config and exit");
  // Alone, --probe finds the metrics listener in the config (file and flags) the server uses.
  auto* o_probe =
      app.add_option("--probe", cl.probe,
                     "GET /healthz from a running server's metrics listener (without HOST:PORT: "
                     "the one this configuration sets); exit 0 if healthy")
          ->expected(0, 1)
          ->check(CLI::Validator(check_host_port, ""))
          ->type_name("[HOST:PORT]");
  app.add_flag("--version", cl.show_version, "Print the version and exit");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help is a success (exit 0); every other parse error is a usage error (exit 2).
    cl.exit_code = app.exit(e, out, err) == 0 ? 0 : 2;
    cl.exit_now = true;
    return cl;
  }
  if (cl.show_version) {
    out << "simul-server " SIMUL_VERSION " (" SIMUL_GIT_SHA ")\n";
    cl.exit_now = true;
    return cl;
  }

  config_origins origins;
  config cfg;
  if (!cl.config_path.empty()) cfg = parse_config_file(cl.config_path, origins);

  auto from = [&](const CLI::Option* o, const char* key) {
    if (o->count() == 0) return false;
    origins[key] = "option " + o->get_name();
    return true;
  };
  if (from(o_model, "model")) cfg.model = *parse_model(model);
  if (from(o_bind, "bind")) cfg.bind = bind;
  if (from(o_echo, "echo.port")) cfg.echo = {true, to_port(echo_port)};
  if (from(o_chat, "chat.port")) cfg.chat = {true, to_port(chat_port)};
  if (from(o_metrics, "metrics.port")) cfg.metrics = {true, to_port(metrics_port)};
  auto disable = [&](bool flag, listener_config& l, const char* key, const char* option) {
    if (!flag) return;
    l.enabled = false;
    origins[key] = std::string("option ") + option;
  };
  disable(no_echo, cfg.echo, "echo.enabled", "--no-echo");
  disable(no_chat, cfg.chat, "chat.enabled", "--no-chat");
  disable(no_metrics, cfg.metrics, "metrics.enabled", "--no-metrics");
  if (from(o_level, "log.level")) cfg.log.level = log_level;
  if (from(o_format, "log.format")) cfg.log.format = log_format;
  if (from(o_redis, "cluster.redis")) cfg.cluster.redis = redis;

  validate(cfg, origins);
  if (o_probe->count() > 0 && cl.probe.empty()) cl.probe = probe_target(cfg, origins);
  cl.cfg = std::move(cfg);
  return cl;
}

}  // namespace simul::server
