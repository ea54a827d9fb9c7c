// The server's effective configuration: built-in defaults (equal to config/server.yaml),
// overridden by a YAML file, overridden by command-line flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.hpp"
#include "server/common/models.hpp"

namespace simul::server {

struct listener_config {
  bool enabled = true;
  std::uint16_t port = 0;  // 0 = any free port (tests)
};

struct chat_config {
  std::string server_name = "simul.local";  // prefix of server replies
  std::string network = "simul";            // ISUPPORT NETWORK=
  std::string motd;                          // inline text; empty = none (422) unless motd_file
  std::string motd_file;                     // read once at start-up
  // After loading, `motd` holds the text to send (the file's contents when motd_file is set)
  // and motd_file the file's absolute path.
  std::uint32_t nick_len = 30;               // ISUPPORT NICKLEN=
  std::uint32_t channel_len = 50;            // ISUPPORT CHANNELLEN=
  std::string operators;                     // OPER accounts: "name hash [mask], ..." (docs/CHAT.md)
};

/// TLS (async model only). Configured when cert_file is set; then chat.tls_port (6697) and
/// echo.tls_port (off by default) serve the same sessions over TLS 1.2/1.3.
struct tls_config {
  std::string cert_file;                // PEM: the certificate, optionally followed by its chain
  std::string key_file;                 // PEM: its private key (ECDSA or RSA)
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);  // timeouts.tls_handshake_seconds
  // limits.tls_refusal_handshakes: TLS clients refused over a connection limit that may be in
  // their handshake at once to be told why; beyond it (or 0) they are closed without a reason.
  std::uint32_t refusal_handshakes = 64;
  // The TLS listeners. In a file, chat.tls_port / echo.tls_port 0 means off; programmatic
  // configs (tests) may set enabled with port 0 for any free port, as for the other listeners.
  listener_config chat{true, 6697};
  listener_config echo{false, 0};

  bool configured() const noexcept { return !cert_file.empty(); }
};

/// The chat network (async model only): every server on one Redis is one chat network
/// (docs/CLUSTER.md). Restart-only keys.
struct cluster_config {
  std::string redis;  // "HOST:PORT" of the network's Redis; empty = standalone (no Redis)
  std::chrono::milliseconds lease = std::chrono::seconds(30);  // lease_seconds: a silent node is down after this
  std::string node;   // the node's name in logs and split reasons; empty = hostname:pid
  std::uint64_t max_queue_bytes = 4 * 1024 * 1024;  // commands waiting for Redis; over it lines are refused

  bool enabled() const noexcept { return !redis.empty(); }
};

struct log_config {
  std::string level = "info";              // trace debug info warn error critical off
  std::string format = "text";             // text | json
  std::chrono::milliseconds stats_interval = std::chrono::seconds(10);  // stats_interval_seconds; 0 = off
};

struct config {
  model_kind model = model_kind::async;
  // Worker processes (async model): 1 = this process serves; N > 1 = a supervisor forks N
  // single-threaded workers sharing every port through SO_REUSEPORT (server/workers/).
  std::uint32_t workers = 1;
  std::string bind = "127.0.0.1";
  listener_config echo{true, 7007};
  listener_config chat{true, 6667};
  listener_config metrics{true, 9107};
  chat_config chat_service;
  core::limits limits;
  core::timeouts timeouts;
  std::chrono::milliseconds drain_time = std::chrono::seconds(10);  // shutdown.drain_seconds
  // timeouts.worker_scrape_seconds: how long one scrape of the supervisor's /metrics waits for
  // each worker's figures; a worker slower than that is left out of that scrape.
  std::chrono::milliseconds worker_scrape_timeout = std::chrono::seconds(1);
  // timeouts.worker_start_seconds: how long a worker may take from its fork to its ready line;
  // past it, at the first start the server gives up, after a restart the worker is killed and
  // started again.
  std::chrono::milliseconds worker_start_timeout = std::chrono::seconds(30);
  std::uint32_t threaded_stack_kib = 256;  // threaded.stack_kib: stack size per connection thread
  log_config log;
  tls_config tls;
  cluster_config cluster;
};

/// A configuration error. what() is one line naming the cause, e.g.
/// "server.yaml:12:3: limits.max_line_bytes: must be between 64 and 65536 (got 10)".
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Reads and validates a YAML file over the defaults. Throws config_error.
config load_config_file(const std::string& path);

/// Parses YAML text (name is used in error messages). Throws config_error.
config load_config_text(const std::string& yaml, const std::string& name, config base = {});

/// Validates cross-field constraints (ports, soft <= hard, ...). Throws config_error.
void validate(const config& cfg);

/// Where each value came from, by dotted key: "server.yaml:12:3" or "option --chat-port".
/// validate() names it in its messages; keys not listed hold built-in or programmatic values.
using config_origins = std::map<std::string, std::string, std::less<>>;

/// As validate(cfg), naming where a bad value was set.
void validate(const config& cfg, const config_origins& origins);

/// Layering without the final validate(), for "file, then flags, then validate". Type errors,
/// unknown keys and per-key ranges still throw config_error; cross-field checks are left to
/// validate(). Records in `origins` where each key was set. A relative chat.motd_file is read
/// relative to `base_dir` (the config file's directory; empty = the current directory).
config parse_config_file(const std::string& path, config_origins& origins, config base = {});
config parse_config_text(const std::string& yaml, const std::string& name,
                         const std::string& base_dir, config_origins& origins, config base = {});

/// The effective config as YAML with the same keys as config/server.yaml.
std::string to_yaml(const config& cfg);

/// Every key of the key table with its value as YAML text, in the order of config/server.yaml.
std::vector<std::pair<std::string, std::string>> config_values(const config& cfg);

/// What the command line asked for.
struct command_line {
  config cfg;
  bool check_config = false;  // --check-config: print effective config and exit
  bool show_version = false;
  bool exit_now = false;      // --help / --version handled: exit with exit_code
  int exit_code = 0;
  std::string config_path;    // --config FILE; empty = built-in defaults
  std::string probe;          // --probe HOST:PORT, or the metrics listener of `cfg` when
                              // --probe is alone (empty = not asked)
};

/// Parses argv (CLI11): --config FILE first, then flags override. Throws config_error on a bad
/// config file; usage errors print CLI11's message and set exit_now with exit_code 2.
command_line parse_command_line(int argc, char** argv);

/// As above, printing help and version to `out` and usage errors to `err` (for tests).
command_line parse_command_line(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace simul::server
