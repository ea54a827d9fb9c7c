// options: the CLI11 definition of simul-load's subcommands and their validation.
#include "client/options.hpp"

#include <CLI/CLI.hpp>

#include "client/cli_diagnosis.hpp"

#include <array>
#include <cstdio>
#include <cmath>
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

std::optional<std::vector<target_address>> parse_targets(const std::string& spec, std::uint16_t default_port,
                                                         std::string& error) {
  std::vector<target_address> out;
  std::size_t from = 0;
  for (;;) {
    const auto comma = spec.find(',', from);
    const std::string item = spec.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    target_address t{item, default_port};
    // The last colon splits off the port, unless the host is a bracketed or bare IPv6 address.
    const auto colon = item.rfind(':');
    if (colon != std::string::npos && item.find(':') == colon) {
      t.host = item.substr(0, colon);
      const std::string port = item.substr(colon + 1);
      unsigned long v = 0;
      if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
          (v = std::stoul(port)) == 0 || v > 65535) {
        error = "bad port in '" + item + "' (expected HOST:PORT, PORT 1..65535)";
        return std::nullopt;
      }
      t.port = static_cast<std::uint16_t>(v);
    }
    if (t.host.empty()) {
      error = "empty host in '" + spec + "' (expected HOST:PORT,HOST:PORT,...)";
      return std::nullopt;
    }
    out.push_back(std::move(t));
    if (comma == std::string::npos) break;
    from = comma + 1;
  }
  return out;
}

namespace {

// Raw text of the options that need their own parsing, per subcommand, and the options whose
// presence (not only value) matters.
struct raw_options {
  std::string duration = "10s";
  std::string connect_timeout = "5s";
  std::string ramp;
  std::string stages;
  CLI::Option* duration_opt = nullptr;
  CLI::Option* rate_opt = nullptr;
};

// A number >= min (or > min): CLI11's own range checks print DBL_MAX as a 309-digit bound.
CLI::Validator number_from(double min, bool inclusive) {
  return CLI::Validator(
      [min, inclusive](std::string& text) -> std::string {
        double v = 0;
        std::size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != text.size() || !std::isfinite(v)) return "expected a number, got '" + text + "'";
        if (inclusive ? v < min : v <= min) {
          char buf[64];
          std::snprintf(buf, sizeof buf, inclusive ? "must be %g or more" : "must be greater than %g", min);
          return std::string(buf) + ", got " + text;
        }
        return {};
      },
      "");
}

// A whole number in [lo, hi].
CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        // Base 10 always: CLI11 would read "07007" as octal. (A transform, not a check: checks get a copy.)
        const auto nonzero = text.find_first_not_of('0');
        if (nonzero == std::string::npos) text = text.empty() ? text : "0";
        else text.erase(0, nonzero);
        const std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
          return "expected " + range + ", got '" + text + "'";
        try {
          const auto v = std::stoull(text);
          if (v >= lo && v <= hi) return {};
        } catch (const std::exception&) {
        }
        return "expected " + range + ", got " + text;
      },
      "");
}

void add_common(CLI::App& sub, options& o, raw_options& raw) {
  auto* host = sub.add_option("--host", o.host, "Server address or name")->type_name("HOST")->capture_default_str();
  auto* port = sub.add_option("--port", o.port, "Server port (default: 7007 echo/idle/churn, 6667 chat)")
                   ->type_name("PORT")->transform(whole_number(1, 65535));
  sub.add_option("--targets", o.targets_spec,
                 "Spread the connections round-robin over these servers, e.g. 127.0.0.1:6667,127.0.0.1:6668")
      ->type_name("LIST")->excludes(host)->excludes(port);
  sub.add_option("--processes", o.processes,
                 "Processes to spread the connections over (default: as many as the open-file limit needs)")
      ->type_name("N")->transform(whole_number(1, 256));
  raw.duration_opt = sub.add_option("--duration", raw.duration, "Measured run time, e.g. 10s, 500ms, 2m")
                         ->type_name("TIME")->capture_default_str();
  sub.add_option("--threads", o.threads, "Event-loop threads (default: all cores)")
      ->type_name("N")->transform(whole_number(1, 1024));
  sub.add_option("--connect-rate", o.connect_rate, "New connections per second (default: no limit)")
      ->type_name("R")->check(number_from(0, true));
  sub.add_option("--connect-timeout", raw.connect_timeout, "Per-connection connect timeout")
      ->type_name("TIME")->capture_default_str();
  sub.add_option("--source", o.source_spec,
                 "Bind outgoing sockets round-robin to these addresses, e.g. 127.0.0.2-127.0.0.40")
      ->type_name("RANGE");
  sub.add_option("--server-pid", o.server_pid, "Sample this process's RSS, threads and CPU from /proc")
      ->type_name("PID")->transform(whole_number(1, 1 << 30));
  sub.add_option("--json", o.json_path, "Write the full report as JSON to FILE ('-': stdout, report on stderr)")
      ->type_name("FILE");
  sub.add_option("--histogram", o.histogram_path,
                 "Write the latency distribution to FILE (.hgrm: HdrHistogram percentiles; else CSV of every bucket)")
      ->type_name("FILE");
  sub.add_flag("--quiet", o.quiet, "No live progress line");
  sub.add_flag("--progress", o.progress, "Live progress line even when stderr is not a terminal");
  sub.add_option("--max-errors", o.max_errors, "Exit 1 if more than N errors")
      ->type_name("N")->transform(whole_number(0, UINT64_MAX));
  sub.add_option("--max-p99", o.max_p99_ms, "Exit 1 if the p99 latency exceeds MS milliseconds")
      ->type_name("MS")->check(number_from(0, true));
  sub.add_option("--target-model", o.target_model, "Label of the server under test, for the JSON")
      ->type_name("LABEL");
  auto* tls = sub.add_flag("--tls", o.tls, "Connect over TLS (chat's default port becomes 6697)");
  auto* ca = sub.add_option("--ca-file", o.ca_file, "With --tls: verify the server against the CAs in FILE (PEM)")
                 ->type_name("FILE")->needs(tls);
  sub.add_flag("--insecure", o.insecure, "With --tls: do not verify the server's certificate")->needs(tls)->excludes(ca);
}

// --ramp and --stages, for the scenarios with a --rate.
void add_rate_shape(CLI::App& sub, raw_options& raw) {
  auto* ramp = sub.add_option("--ramp", raw.ramp, "Raise the rate linearly from 0 to --rate over TIME, then hold it")
                   ->type_name("TIME");
  auto* stages = sub.add_option("--stages", raw.stages,
                                "Rate stages instead of --rate, e.g. 10s:100,30s:100,10s:0 (linear from "
                                "one target to the next; --duration defaults to their sum)")
                     ->type_name("LIST");
  stages->excludes(ramp);
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
  if (o.port == 0) o.port = o.scenario == scenario_kind::chat ? (o.tls ? 6697 : 6667) : 7007;
  if (o.targets_spec.empty()) {
    o.targets = {{o.host, o.port}};
  } else {
    std::string error;
    auto targets = parse_targets(o.targets_spec, o.port, error);
    if (!targets) throw CLI::ValidationError("--targets", error);
    o.targets = std::move(*targets);
    o.host = o.targets.front().host;
    o.port = o.targets.front().port;
  }
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  if (!o.stages.empty() || !raw.stages.empty()) {
    if (raw.rate_opt && raw.rate_opt->count() > 0)
      throw CLI::ValidationError("--stages", "give either --rate or --stages (each stage names its rate)");
    std::string error;
    auto stages = parse_stages(raw.stages, error);
    if (!stages) throw CLI::ValidationError("--stages", error);
    o.stages = std::move(*stages);
    o.rate = 0;
    for (const auto& s : o.stages) o.rate = std::max(o.rate, s.target);
    if (raw.duration_opt && raw.duration_opt->count() == 0) o.duration_s = o.schedule().stages_duration();
  }
  if (!raw.ramp.empty()) {
    auto ramp = parse_duration(raw.ramp);
    if (!ramp || *ramp <= 0) throw CLI::ValidationError("--ramp", "expected a positive duration, got '" + raw.ramp + "'");
    if (o.rate <= 0) throw CLI::ValidationError("--ramp", "needs --rate (the rate to ramp up to)");
    if (*ramp > o.duration_s)
      throw CLI::ValidationError("--ramp", raw.ramp + " is longer than --duration " + raw.duration);
    o.ramp_s = *ramp;
  }
  if (o.json_path == "-" && o.histogram_path == "-")
    throw CLI::ValidationError("--histogram", "only --json can go to stdout ('-')");
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
  if (auto n = o.target_connections(); n > 0 && o.processes > n)
    throw CLI::ValidationError("--processes", std::to_string(o.processes) + " processes for " + std::to_string(n) +
                                                  " connections: give at most one process per connection");
  // No point in more event loops than connections.
  if (auto n = o.target_connections(); n > 0 && o.threads > n) o.threads = static_cast<unsigned>(n);
}

// The command line's shape, read back from CLI11, for the usage-error diagnosis.
cli_shape shape_of(const CLI::App& app) {
  auto options_of = [](const CLI::App& a) {
    std::vector<cli_shape::option_name> out;
    for (const auto* opt : a.get_options()) {
      const bool value = opt->get_type_size() > 0;
      for (const auto& l : opt->get_lnames()) out.push_back({"--" + l, value});
      for (const auto& s : opt->get_snames()) out.push_back({"-" + s, value});
    }
    return out;
  };
  cli_shape shape;
  shape.program = app.get_name();
  shape.global = options_of(app);
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    shape.subcommands.push_back({sub->get_name(), options_of(*sub)});
  return shape;
}

}  // namespace

rate_schedule options::schedule() const {
  if (!stages.empty()) return rate_schedule(stages);
  if (ramp_s > 0) return rate_schedule({{ramp_s, rate}});
  return rate_schedule(rate);
}

parse_outcome parse_options(int argc, const char* const* argv) {
  // One options (and raw text) per subcommand: CLI11 writes defaults into the bound variables when
  // the options are defined, so subcommands sharing variables would overwrite each other's defaults.
  std::array<options, 4> per;
  std::array<raw_options, 4> raw;
  const auto count = whole_number(1, 10'000'000);
  const auto bytes = whole_number(1, std::size_t{16} << 20);
  const std::array<scenario_kind, 4> kinds{scenario_kind::echo, scenario_kind::idle, scenario_kind::churn,
                                           scenario_kind::chat};

  CLI::App app{"simul-load: load generator for simul-server (echo and IRC chat)", "simul-load"};
  app.set_version_flag("--version", std::string("simul-load ") + SIMUL_VERSION + " (" + SIMUL_GIT_SHA + ")");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 a threshold failed, 2 usage error, 3 target connections not reached.\n"
      "Run 'simul-load SUBCOMMAND --help' for a subcommand's options.");

  auto* echo = app.add_subcommand("echo", "Echo round trips: closed loop, or open loop with --rate");
  echo->add_option("--connections", per[0].connections, "Concurrent connections")->type_name("N")->transform(count)->default_val(10);
  echo->add_option("--size", per[0].size, "Message size in bytes")->type_name("BYTES")->transform(bytes)->default_val(64);
  raw[0].rate_opt = echo->add_option("--rate", per[0].rate, "Messages/s per connection, open loop (default: closed loop)")
                        ->type_name("R")->check(number_from(0, true));

  auto* idle = app.add_subcommand("idle", "Open connections and hold them; report the server's cost");
  idle->add_option("--connections", per[1].connections, "Connections to hold")->type_name("N")->transform(count)->default_val(100);

  auto* churn = app.add_subcommand("churn", "Connect, one round trip, close, at --rate per second");
  raw[2].rate_opt = churn->add_option("--rate", per[2].rate, "New connections per second overall")
                        ->type_name("R")->check(number_from(0, false))->default_val(100);
  churn->add_option("--size", per[2].size, "Message size in bytes")->type_name("BYTES")->transform(bytes)->default_val(64);
  churn->add_option("--max-in-flight", per[2].max_in_flight, "Cap on unfinished connections")
      ->type_name("N")->transform(count)->default_val(1000);

  auto* chat = app.add_subcommand("chat", "IRC users in rooms exchanging sequence-numbered PRIVMSGs");
  chat->add_option("--users", per[3].users, "IRC users (connections)")->type_name("N")->transform(count)->default_val(10);
  chat->add_option("--rooms", per[3].rooms, "Rooms; user i joins #room<i % rooms>")->type_name("N")->transform(count)->default_val(1);
  raw[3].rate_opt = chat->add_option("--rate", per[3].rate, "PRIVMSGs/s per user")
                        ->type_name("R")->check(number_from(0, false))->default_val(1);
  chat->add_option("--size", per[3].size, "PRIVMSG text size in bytes")->type_name("BYTES")->transform(count)->default_val(64);

  const std::array<CLI::App*, 4> subs{echo, idle, churn, chat};
  for (std::size_t i = 0; i < subs.size(); ++i) {
    if (raw[i].rate_opt) add_rate_shape(*subs[i], raw[i]);
    add_common(*subs[i], per[i], raw[i]);
  }

  std::size_t i = 0;
  try {
    app.parse(argc, argv);
    while (i + 1 < subs.size() && !subs[i]->parsed()) ++i;
    options o = std::move(per[i]);
    o.scenario = kinds[i];
    for (int a = 0; a < argc; ++a) o.args.emplace_back(argv[a]);
    validate(o, raw[i]);
    return {std::move(o), 0};
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return {std::nullopt, app.exit(e)};  // --help, --version
    std::vector<std::string> args(argv + 1, argv + argc);
    const auto diagnosis = diagnose(shape_of(app), args);
    const CLI::App* sub = nullptr;
    for (const auto* s : subs) {
      if (s->parsed()) sub = s;
    }
    std::fprintf(stderr, "simul-load: error: %s\n", diagnosis ? diagnosis->c_str() : e.what());
    if (sub) std::fprintf(stderr, "Run 'simul-load %s --help' for its options.\n", sub->get_name().c_str());
    else std::fprintf(stderr, "Run 'simul-load --help' for the subcommands.\n");
    return {std::nullopt, 2};
  }
}

}  // namespace simul::load
