// The table of config keys and their rules, shared by the config's reader (config_reader.cpp),
// writer (config_writer.cpp) and validation (config.cpp); show_duration() also for log lines.
// One table, visit_fields(), lists every key with its rule; parsing, validation and to_yaml all
// walk it, so a key cannot be known to one and missing from another.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/common/config.hpp"

namespace simul::server::config_detail {

inline constexpr std::uint64_t kib = 1024;
inline constexpr std::uint64_t mib = 1024 * kib;
inline constexpr std::uint64_t gib = 1024 * mib;
inline constexpr std::size_t max_config_bytes = mib;
inline constexpr std::size_t max_motd_bytes = 64 * kib;

// ---- rules -------------------------------------------------------------------------------------

struct int_rule {
  std::uint64_t min;
  std::uint64_t max;

  bool allows(std::uint64_t v) const { return v >= min && v <= max; }
  /// "must be between MIN and MAX (got GOT)".
  std::string reason(std::string_view got) const;
};

struct real_rule {
  double above;  // exclusive lower bound
  double max;

  bool allows(double v) const { return v > above && v <= max; }
  /// "must be greater than ABOVE and at most MAX (got GOT)".
  std::string reason(std::string_view got) const;
};

// A duration: whole seconds (`10`) or a whole number with a unit (`250ms`, `2s`, `1m`).
struct duration_rule {
  std::chrono::milliseconds min;
  std::chrono::milliseconds max;
  bool zero_is_off = false;  // 0 is allowed too, below `min`, and turns the feature off

  bool allows(std::chrono::milliseconds v) const {
    return (zero_is_off && v.count() == 0) || (v >= min && v <= max);
  }
  /// "must be between MIN and MAX (got GOT)", or "must be 0 (off) or between ...".
  std::string reason(std::string_view got) const;
};

// Returns an empty string when the text is acceptable, else the reason.
using text_check = std::string (*)(const std::string&);
struct text_rule {
  text_check check;
  bool plain;  // printed unquoted by to_yaml (enumerated words)
};

std::string check_address(const std::string& s);  // an IPv4 or IPv6 address
std::string check_name(const std::string& s);     // an IRC server or network name
std::string check_motd(const std::string& s);     // at most max_motd_bytes
std::string check_any(const std::string& s);      // anything
std::string check_level(const std::string& s);    // a spdlog level name
std::string check_format(const std::string& s);   // text | json
std::string check_operators(const std::string& s);  // "name hash [mask], ..." with crypt(3) hashes
std::string check_redis(const std::string& s);      // empty, or HOST:PORT
std::string check_node(const std::string& s);       // empty, or a node name (printable, no spaces)

// ---- the table of keys -------------------------------------------------------------------------

// Calls v(dotted_key, field[, rule]) for every key, in the order of config/server.yaml.
// Config is `config` or `const config`.
template <class Config, class Visitor>
void visit_fields(Config& c, Visitor&& v) {
  constexpr int_rule port{0, 65535};
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  // At least 100 ms: shorter is a slip (5ms for 5s) or a busy timer, not a timeout anyone means.
  constexpr duration_rule timeout{milliseconds(100), seconds(86400)};
  auto& l = c.limits;
  auto& t = c.timeouts;
  v("model", c.model);
  v("workers", c.workers, int_rule{1, 256});
  v("bind", c.bind, text_rule{check_address, false});
  v("echo.enabled", c.echo.enabled);
  v("echo.port", c.echo.port, port);
  v("echo.tls_port", c.tls.echo.port, port);
  v("chat.enabled", c.chat.enabled);
  v("chat.port", c.chat.port, port);
  v("chat.tls_port", c.tls.chat.port, port);
  v("chat.server_name", c.chat_service.server_name, text_rule{check_name, false});
  v("chat.network", c.chat_service.network, text_rule{check_name, false});
  v("chat.motd", c.chat_service.motd, text_rule{check_motd, false});
  v("chat.motd_file", c.chat_service.motd_file, text_rule{check_any, false});
  v("chat.nick_len", c.chat_service.nick_len, int_rule{9, 255});
  v("chat.channel_len", c.chat_service.channel_len, int_rule{2, 255});
  v("chat.operators", c.chat_service.operators, text_rule{check_operators, false});
  v("metrics.enabled", c.metrics.enabled);
  v("metrics.port", c.metrics.port, port);
  v("limits.max_connections", l.max_connections, int_rule{1, 1'000'000});
  v("limits.max_connections_per_ip", l.max_connections_per_ip, int_rule{0, 1'000'000});
  v("limits.tls_refusal_handshakes", c.tls.refusal_handshakes, int_rule{0, 10'000});
  v("limits.max_line_bytes", l.max_line_bytes, int_rule{64, 65536});
  v("limits.sendq_hard_bytes", l.sendq_hard_bytes, int_rule{512, gib});
  v("limits.sendq_soft_bytes", l.sendq_soft_bytes, int_rule{512, gib});
  v("limits.sendq_soft_seconds", l.sendq_soft_duration, timeout);
  v("limits.flood_burst", l.flood_burst, int_rule{1, 100'000});
  v("limits.flood_lines_per_second", l.flood_lines_per_second, real_rule{0, 1e6});
  v("limits.flood_max_backlog_bytes", l.flood_max_backlog_bytes, int_rule{64, 64 * mib});
  v("timeouts.registration_seconds", t.registration, timeout);
  v("timeouts.idle_seconds", t.idle, duration_rule{milliseconds(100), seconds(7 * 86400)});
  v("timeouts.ping_interval_seconds", t.ping_interval, timeout);
  v("timeouts.ping_timeout_seconds", t.ping_timeout, timeout);
  v("timeouts.tls_handshake_seconds", c.tls.handshake_timeout, duration_rule{milliseconds(100), seconds(3600)});
  v("timeouts.worker_scrape_seconds", c.worker_scrape_timeout, duration_rule{milliseconds(100), seconds(60)});
  v("timeouts.worker_start_seconds", c.worker_start_timeout, duration_rule{milliseconds(100), seconds(3600)});
  v("shutdown.drain_seconds", c.drain_time, duration_rule{milliseconds(0), seconds(3600)});
  v("tls.cert_file", c.tls.cert_file, text_rule{check_any, false});
  v("tls.key_file", c.tls.key_file, text_rule{check_any, false});
  v("cluster.redis", c.cluster.redis, text_rule{check_redis, false});
  v("cluster.lease_seconds", c.cluster.lease, duration_rule{milliseconds(100), seconds(3600)});
  v("cluster.node", c.cluster.node, text_rule{check_node, false});
  v("cluster.max_queue_bytes", c.cluster.max_queue_bytes, int_rule{64 * kib, gib});
  v("threaded.stack_kib", c.threaded_stack_kib, int_rule{64, 65536});
  v("log.level", c.log.level, text_rule{check_level, true});
  v("log.format", c.log.format, text_rule{check_format, true});
  v("log.stats_interval_seconds", c.log.stats_interval, duration_rule{seconds(1), seconds(86400), true});
}

// ---- text and errors ---------------------------------------------------------------------------

/// A value shown in a message: quoted, escaped, cut short after 40 bytes.
std::string show(std::string_view s);

/// `s` cut after `max` bytes (not inside a UTF-8 character), with "..." when cut; unquoted.
std::string clipped(std::string_view s, std::size_t max = 40);

/// `s` with every control byte escaped as \n, \r, \t or \xHH (C1 controls, UTF-8 C2 80..9F,
/// as \u00HH): one printable line, for messages that may carry bytes from the input.
std::string one_line(std::string_view s);

/// A YAML double-quoted scalar that reads back as exactly `s`.
std::string quote(std::string_view s);

/// The shortest text that reads back as exactly `v` ("10", "0.5").
std::string format_real(double v);

/// A duration as the config file writes it: whole seconds as an integer ("10"), else "250ms".
std::string format_duration(std::chrono::milliseconds v);

/// A duration in a message, always with its unit: "10s", "250ms".
std::string show_duration(std::chrono::milliseconds v);

/// Reads "10" (seconds), "250ms", "2s" or "1m" (a sign allowed, as for integers) into `out`.
/// False when `text` is not of that form; `out_of_range` set when it is, but negative or too
/// large for any range.
bool parse_duration(std::string_view text, std::chrono::milliseconds& out, bool& out_of_range);

/// Throws config_error "WHERE: KEY: REASON" (WHERE and KEY left out when empty), as one line:
/// KEY is clipped to 64 bytes and control bytes anywhere are escaped (one_line()).
[[noreturn]] void fail(const std::string& where, std::string_view key, const std::string& reason);

}  // namespace simul::server::config_detail
