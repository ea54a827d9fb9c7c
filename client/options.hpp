// simul-load's command line: the options of every scenario, parsed with CLI11 and validated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/address_range.hpp"
#include "client/rate_schedule.hpp"

namespace simul::load {

enum class scenario_kind { echo, idle, churn, chat };

/// The scenario's name as typed on the command line ("echo", "idle", ...).
const char* scenario_name(scenario_kind kind);

/// One server to connect to: --targets entries, or --host and --port.
struct target_address {
  std::string host;
  std::uint16_t port = 0;
};

/// Parses --targets: "HOST:PORT,HOST:PORT,..." (a HOST without ":PORT" gets `default_port`).
/// Returns nullopt (and sets `error`) on an empty entry or a bad port.
std::optional<std::vector<target_address>> parse_targets(const std::string& spec, std::uint16_t default_port,
                                                         std::string& error);

/// Everything a run needs to know, after validation. Plain data; copied freely.
struct options {
  scenario_kind scenario = scenario_kind::echo;
  std::vector<std::string> args;  // the command line as given (for the JSON metadata)

  // Common to every scenario.
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;          // resolved to the scenario's default when not given
  std::string targets_spec;        // --targets as given
  std::vector<target_address> targets;  // --targets, else {--host, --port}: never empty after parsing
  unsigned processes = 0;          // --processes; 0 = as many as the connections need
  double duration_s = 10.0;
  unsigned threads = 0;            // resolved to the number of cores when not given
  double connect_rate = 0.0;       // new connections per second overall; 0 = as fast as possible
  double connect_timeout_s = 5.0;
  std::string source_spec;
  std::vector<ipv4> sources;       // from --source; empty = let the kernel choose
  int server_pid = 0;
  std::string json_path;           // "-" = stdout (the text report then goes to stderr)
  std::string histogram_path;      // --histogram: the latency distribution (.csv or .hgrm)
  bool quiet = false;
  bool progress = false;           // --progress: the live line even when stderr is not a terminal
  std::optional<std::uint64_t> max_errors;
  std::optional<double> max_p99_ms;
  std::string target_model;        // free-form label recorded in the JSON (e.g. "async")
  bool tls = false;                // --tls: every connection does a TLS handshake first
  std::string ca_file;             // --ca-file: verify the server against these CAs
  bool insecure = false;           // --insecure: do not verify the server

  // Scenario-specific.
  std::size_t connections = 0;     // echo, idle (default 10 / 100)
  std::size_t size = 64;           // echo, churn, chat: bytes per message
  double rate = 0.0;               // echo: msgs/s per connection (0 = closed loop);
                                   // churn: connections/s overall; chat: msgs/s per user
  double ramp_s = 0;               // --ramp: the rate rises linearly from 0 to --rate over this time
  std::vector<rate_stage> stages;  // --stages: replaces --rate and --ramp (rate = the highest target)
  std::size_t max_in_flight = 1000;  // churn
  std::size_t users = 10;          // chat
  std::size_t rooms = 1;           // chat

  /// Connections that must be up before the measured phase (0 for churn).
  std::size_t target_connections() const;
  /// The offered rate over the measured phase, from --rate, --ramp and --stages (needs rate > 0).
  rate_schedule schedule() const;
  /// True when the rate varies (--ramp or --stages).
  bool varying_rate() const { return ramp_s > 0 || !stages.empty(); }
};

/// Chat payload bounds: the header (tag, sender, sequence, timestamp) needs the minimum; the
/// maximum keeps the relayed line (with the server's ":nick!user@host PRIVMSG #room :" prefix)
/// under IRC's 512 bytes.
inline constexpr std::size_t chat_min_size = 48;
inline constexpr std::size_t chat_max_size = 400;

/// The outcome of parsing: options to run with, or an exit code (0 after --help/--version, 2 on
/// a usage error) with the message already printed.
struct parse_outcome {
  std::optional<options> opts;
  int exit_code = 0;
};

/// Parses argv. Prints help, version or the usage error itself (stdout / stderr).
parse_outcome parse_options(int argc, const char* const* argv);

/// Parses "10", "10s", "250ms", "2m", "1h", "1.5s" into seconds; nullopt if malformed or negative.
std::optional<double> parse_duration(const std::string& text);

}  // namespace simul::load
