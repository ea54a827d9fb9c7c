// options: the CLI11 definition of simul-load's subcommands and their validation.
#include "client/options.hpp"

#include <CLI/CLI.hpp>

#include <array>
#include <cmath>
#include <iostream>
#include <thread>

namespace simul::load {

const char* scenario_name(scenario_kind kind) {
  switch (kind) {
    case scenario_kind::echo: return "echo";
    case scenario_kind::idle: return "idle";
    case scenario_kind::churn: return "churn";
    case scenario_kind::chat: return "chat";
  }
  return "?";
}

std::size_t options::target_connections() const {
  switch (scenario) {
    case scenario_kind::echo:
    case scenario_kind::idle: return connections;
    case scenario_kind::chat: return users;
    case scenario_kind::churn: return 0;
  }
  return 0;
}

std::optional<double> parse_duration(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const std::string unit = text.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "ms") scale = 1e-3;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  else return std::nullopt;
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  return value * scale;
}

namespace {

// Raw text of the options that need their own parsing, per subcommand.
struct raw_options {
  std::string duration = "10s";
  std::string connect_timeout = "5s";
};

void add_common(CLI::App& sub, options& o, raw_options& raw) {
  auto threads = CLI::Range(1u, 1024u);
  auto pid = CLI::Range(1, 1 << 30);
  for (auto* v : {&threads, &pid}) v->description("");
  sub.add_option("--host", o.host, "Server address or name")->type_name("HOST")->capture_default_str();
  sub.add_option("--port", o.port, "Server port (default: 7007 echo/idle/churn, 6667 chat)")->type_name("PORT");
  sub.add_option("--duration", raw.duration, "Measured run time, e.g. 10s, 500ms, 2m")
      ->type_name("TIME")->capture_default_str();
  sub.add_option("--threads", o.threads, "Event-loop threads (default: all cores)")->type_name("N")->check(threads);
  sub.add_option("--connect-rate", o.connect_rate, "New connections per second (default: no limit)")
      ->type_name("R")->check(CLI::NonNegativeNumber.description(""));
  sub.add_option("--connect-timeout", raw.connect_timeout, "Per-connection connect timeout")
      ->type_name("TIME")->capture_default_str();
  sub.add_option("--source", o.source_spec,
                 "Bind outgoing sockets round-robin to these addresses, e.g. 127.0.0.2-127.0.0.40")
      ->type_name("RANGE");
  sub.add_option("--server-pid", o.server_pid, "Sample this process's RSS, threads and CPU from /proc")
      ->type_name("PID")->check(pid);
  sub.add_option("--json", o.json_path, "Write the full report as JSON to FILE")->type_name("FILE");
  sub.add_flag("--quiet", o.quiet, "No live progress line");
  sub.add_option("--max-errors", o.max_errors, "Exit 1 if more than N errors")->type_name("N");
  sub.add_option("--max-p99", o.max_p99_ms, "Exit 1 if the p99 latency exceeds MS milliseconds")
      ->type_name("MS")->check(CLI::NonNegativeNumber.description(""));
  sub.add_option("--target-model", o.target_model, "Label of the server under test, for the JSON")
      ->type_name("LABEL");
}

void validate(options& o, const raw_options& raw) {
  auto d = parse_duration(raw.duration);
  if (!d || *d <= 0 || *d > 7 * 24 * 3600.0)
    throw CLI::ValidationError("--duration", "expected a positive duration like 10s, got '" + raw.duration + "'");
  o.duration_s = *d;
  auto t = parse_duration(raw.connect_timeout);
  if (!t || *t <= 0 || *t > 3600.0)
    throw CLI::ValidationError("--connect-timeout", "expected a positive duration, got '" + raw.connect_timeout + "'");
  o.connect_timeout_s = *t;
  if (!o.source_spec.empty()) {
    std::string error;
    auto sources = parse_address_range(o.source_spec, error);
    if (!sources) throw CLI::ValidationError("--source", error);
    o.sources = std::move(*sources);
  }
  if (o.port == 0) o.port = o.scenario == scenario_kind::chat ? 6667 : 7007;
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  if (!std::isfinite(o.rate) || !std::isfinite(o.connect_rate))
    throw CLI::ValidationError("--rate", "must be a finite number");
  switch (o.scenario) {
    case scenario_kind::churn:
      if (o.rate <= 0) throw CLI::ValidationError("--rate", "churn needs a positive rate");
      break;
    case scenario_kind::chat:
      if (o.size < chat_min_size || o.size > chat_max_size)
        throw CLI::ValidationError("--size", "chat messages must be " + std::to_string(chat_min_size) +
                                                 ".." + std::to_string(chat_max_size) + " bytes");
      if (o.rooms > o.users) throw CLI::ValidationError("--rooms", "more rooms than users");
      break;
    default: break;
  }
  // No point in more event loops than connections.
  if (auto n = o.target_connections(); n > 0 && o.threads > n) o.threads = static_cast<unsigned>(n);
}

}  // namespace

parse_outcome parse_options(int argc, const char* const* argv) {
  // One options (and raw text) per subcommand: CLI11 writes defaults into the bound variables when
  // the options are defined, so subcommands sharing variables would overwrite each other's defaults.
  std::array<options, 4> per;
  std::array<raw_options, 4> raw;
  // CLI11's PositiveNumber prints DBL_MAX in its message; these read better.
  const CLI::Validator positive(
      [](const std::string& text) {
        try {
          return std::stod(text) > 0 ? std::string() : "must be greater than 0, got " + text;
        } catch (const std::exception&) {
          return "not a number: " + text;
        }
      },
      "");
  auto count = CLI::Range(std::size_t{1}, std::size_t{10'000'000});
  auto bytes = CLI::Range(std::size_t{1}, std::size_t{16} << 20);
  auto rate = CLI::NonNegativeNumber;
  for (auto* v : {&count, &bytes, &rate}) v->description("");
  const std::array<scenario_kind, 4> kinds{scenario_kind::echo, scenario_kind::idle, scenario_kind::churn,
                                           scenario_kind::chat};

  CLI::App app{"simul-load: load generator for simul-server (echo and IRC chat)", "simul-load"};
  app.set_version_flag("--version", std::string("simul-load ") + SIMUL_VERSION + " (" + SIMUL_GIT_SHA + ")");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 a threshold failed, 2 usage error, 3 target connections not reached.\n"
      "Run 'simul-load SUBCOMMAND --help' for a subcommand's options.");

  auto* echo = app.add_subcommand("echo", "Echo round trips: closed loop, or open loop with --rate");
  echo->add_option("--connections", per[0].connections, "Concurrent connections")->type_name("N")->check(count)->default_val(10);
  echo->add_option("--size", per[0].size, "Message size in bytes")->type_name("BYTES")->check(bytes)->default_val(64);
  echo->add_option("--rate", per[0].rate, "Messages/s per connection, open loop (default: closed loop)")
      ->type_name("R")->check(rate);

  auto* idle = app.add_subcommand("idle", "Open connections and hold them; report the server's cost");
  idle->add_option("--connections", per[1].connections, "Connections to hold")->type_name("N")->check(count)->default_val(100);

  auto* churn = app.add_subcommand("churn", "Connect, one round trip, close, at --rate per second");
  churn->add_option("--rate", per[2].rate, "New connections per second overall")->type_name("R")->check(positive)->default_val(100);
  churn->add_option("--size", per[2].size, "Message size in bytes")->type_name("BYTES")->check(bytes)->default_val(64);
  churn->add_option("--max-in-flight", per[2].max_in_flight, "Cap on unfinished connections")
      ->type_name("N")->check(count)->default_val(1000);

  auto* chat = app.add_subcommand("chat", "IRC users in rooms exchanging sequence-numbered PRIVMSGs");
  chat->add_option("--users", per[3].users, "IRC users (connections)")->type_name("N")->check(count)->default_val(10);
  chat->add_option("--rooms", per[3].rooms, "Rooms; user i joins #room<i % rooms>")->type_name("N")->check(count)->default_val(1);
  chat->add_option("--rate", per[3].rate, "PRIVMSGs/s per user")->type_name("R")->check(positive)->default_val(1);
  chat->add_option("--size", per[3].size, "PRIVMSG text size in bytes")->type_name("BYTES")->default_val(64);

  const std::array<CLI::App*, 4> subs{echo, idle, churn, chat};
  for (std::size_t i = 0; i < subs.size(); ++i) add_common(*subs[i], per[i], raw[i]);

  try {
    app.parse(argc, argv);
    std::size_t i = 0;
    while (i + 1 < subs.size() && !subs[i]->parsed()) ++i;
    options o = std::move(per[i]);
    o.scenario = kinds[i];
    for (int a = 0; a < argc; ++a) o.args.emplace_back(argv[a]);
    validate(o, raw[i]);
    return {std::move(o), 0};
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return {std::nullopt, rc == 0 ? 0 : 2};
  }
}

}  // namespace simul::load
