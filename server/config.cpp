// Loading, validating and printing the server configuration (yaml-cpp).
// One table, visit_fields(), lists every key with its rule; parsing, validation and to_yaml all
// walk it, so a key cannot be known to one and missing from another.
#include "server/config.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>

namespace simul::server {
namespace {

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = 1024 * kib;
constexpr std::uint64_t gib = 1024 * mib;
constexpr std::size_t max_config_bytes = mib;
constexpr std::size_t max_motd_bytes = 64 * kib;

// ---- rules -------------------------------------------------------------------------------------

struct int_rule {
  std::uint64_t min;
  std::uint64_t max;
};
struct real_rule {
  double above;  // exclusive lower bound
  double max;
};
// Returns an empty string when the text is acceptable, else the reason.
using text_check = std::string (*)(const std::string&);
struct text_rule {
  text_check check;
  bool plain;  // printed unquoted by to_yaml (enumerated words)
};

// A value shown in a message: quoted, escaped, cut short.
std::string show(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 40)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (s.size() > 40) out += "...";
  return out + "\"";
}

std::string int_reason(const int_rule& r, std::string_view got) {
  return "must be between " + std::to_string(r.min) + " and " + std::to_string(r.max) + " (got " +
         std::string(got) + ")";
}

std::string real_reason(const real_rule& r, std::string_view got) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, r.max, std::chars_format::fixed);
  return "must be greater than " + std::to_string(static_cast<long long>(r.above)) +
         " and at most " + std::string(buf, res.ptr) + " (got " + std::string(got) + ")";
}

std::string check_address(const std::string& s) {
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1)
    return {};
  return "must be an IPv4 or IPv6 address (got " + show(s) + ")";
}

// IRC server and network names travel as one token: no spaces, no colons.
std::string check_name(const std::string& s) {
  bool ok = !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
  });
  if (ok) return {};
  return "must be 1 to 63 letters, digits, '.', '-' or '_' (got " + show(s) + ")";
}

std::string check_motd(const std::string& s) {
  if (s.size() <= max_motd_bytes) return {};
  return "must be at most " + std::to_string(max_motd_bytes) + " bytes (got " +
         std::to_string(s.size()) + ")";
}

std::string check_any(const std::string&) { return {}; }

template <std::size_t N>
std::string one_of(const std::array<const char*, N>& words, const std::string& s) {
  if (std::any_of(words.begin(), words.end(), [&](const char* w) { return s == w; })) return {};
  std::string list;
  for (const char* w : words) list += (list.empty() ? "" : ", ") + std::string(w);
  return "must be one of " + list + " (got " + show(s) + ")";
}

std::string check_level(const std::string& s) {
  static constexpr std::array levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  return one_of(levels, s);
}

std::string check_format(const std::string& s) {
  static constexpr std::array formats{"text", "json"};
  return one_of(formats, s);
}

// ---- the table of keys
// ---------------------------------------------------------------------------

// Calls v(dotted_key, field[, rule]) for every key, in the order of config/server.yaml.
// Config is `config` or `const config`.
template <class Config, class Visitor>
void visit_fields(Config& c, Visitor&& v) {
  constexpr int_rule port{0, 65535};
  constexpr int_rule seconds{1, 86400};
  auto& l = c.limits;
  auto& t = c.timeouts;
  v("model", c.model);
  v("bind", c.bind, text_rule{check_address, false});
  v("echo.enabled", c.echo.enabled);
  v("echo.port", c.echo.port, port);
  v("chat.enabled", c.chat.enabled);
  v("chat.port", c.chat.port, port);
  v("chat.server_name", c.chat_service.server_name, text_rule{check_name, false});
  v("chat.network", c.chat_service.network, text_rule{check_name, false});
  v("chat.motd", c.chat_service.motd, text_rule{check_motd, false});
  v("chat.motd_file", c.chat_service.motd_file, text_rule{check_any, false});
  v("chat.nick_len", c.chat_service.nick_len, int_rule{9, 255});
  v("chat.channel_len", c.chat_service.channel_len, int_rule{2, 255});
  v("metrics.enabled", c.metrics.enabled);
  v("metrics.port", c.metrics.port, port);
  v("limits.max_connections", l.max_connections, int_rule{1, 1'000'000});
  v("limits.max_connections_per_ip", l.max_connections_per_ip, int_rule{0, 1'000'000});
  v("limits.max_line_bytes", l.max_line_bytes, int_rule{64, 65536});
  v("limits.sendq_hard_bytes", l.sendq_hard_bytes, int_rule{512, gib});
  v("limits.sendq_soft_bytes", l.sendq_soft_bytes, int_rule{512, gib});
  v("limits.sendq_soft_seconds", l.sendq_soft_seconds, seconds);
  v("limits.flood_burst", l.flood_burst, int_rule{1, 100'000});
  v("limits.flood_lines_per_second", l.flood_lines_per_second, real_rule{0, 1e6});
  v("limits.flood_max_backlog_bytes", l.flood_max_backlog_bytes, int_rule{64, 64 * mib});
  v("timeouts.registration_seconds", t.registration_seconds, seconds);
  v("timeouts.idle_seconds", t.idle_seconds, int_rule{1, 7 * 86400});
  v("timeouts.ping_interval_seconds", t.ping_interval_seconds, seconds);
  v("timeouts.ping_timeout_seconds", t.ping_timeout_seconds, seconds);
  v("shutdown.drain_seconds", c.drain_seconds, int_rule{0, 3600});
  v("threaded.stack_kib", c.threaded_stack_kib, int_rule{64, 65536});
  v("log.level", c.log.level, text_rule{check_level, true});
  v("log.format", c.log.format, text_rule{check_format, true});
  v("log.stats_interval_seconds", c.log.stats_interval_seconds, int_rule{0, 86400});
}

std::vector<std::string> all_keys() {
  std::vector<std::string> keys;
  config c;
  visit_fields(c, [&](std::string_view key, auto&&...) { keys.emplace_back(key); });
  return keys;
}

// ---- errors
// --------------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& where, std::string_view key, const std::string& reason) {
  std::string msg = where;
  if (!key.empty()) msg += (msg.empty() ? "" : ": ") + std::string(key);
  msg += (msg.empty() ? "" : ": ") + reason;
  throw config_error(msg);
}

std::string at(const std::string& name, const YAML::Mark& m) {
  if (m.is_null()) return name;
  return name + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return (n.Tag() == "!" ? "a string " : "") + show(n.Scalar());
    default:
      return "nothing";
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean max_line_bytes?)" for a near miss among the keys beside `dotted`.
std::string suggestion(const std::string& dotted, const std::vector<std::string>& keys) {
  auto dot = dotted.rfind('.');
  std::string prefix = dot == std::string::npos ? "" : dotted.substr(0, dot + 1);
  std::string last = dotted.substr(prefix.size());
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& k : keys) {
    if (k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string name = k.substr(prefix.size());
    name = name.substr(0, name.find('.'));
    auto common =
        std::mismatch(last.begin(), last.end(), name.begin(), name.end()).first - last.begin();
    auto d = edit_distance(last, name);
    bool near = d <= std::max<std::size_t>(2, last.size() / 3) ||
                static_cast<std::size_t>(common) >= std::max<std::size_t>(6, last.size() / 2);
    if (near && d < best_d) {
      best_d = d;
      best = name;
    }
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

// ---- YAML → config
// -------------------------------------------------------------------------------

// Collects the leaves of a document by dotted key, rejecting unknown and duplicate keys, then
// (as a visit_fields visitor) converts each one into its field.
class reader {
 public:
  reader(std::string name, config_origins& origins)
      : name_(std::move(name)), origins_(origins), keys_(all_keys()) {}

  void collect(const YAML::Node& map, const std::string& prefix) {
    for (const auto& kv : map) {
      const YAML::Node k = kv.first;
      const YAML::Node v = kv.second;
      if (!k.IsScalar()) fail(at(name_, k.Mark()), prefix, "keys must be plain names");
      std::string dotted = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
      if (auto seen = seen_.find(dotted); seen != seen_.end()) {
        fail(at(name_, k.Mark()), dotted,
             "duplicate key (first at line " + std::to_string(seen->second.line + 1) + ")");
      }
      seen_.emplace(dotted, k.Mark());
      if (std::find(keys_.begin(), keys_.end(), dotted) != keys_.end()) {
        leaves_.emplace(dotted, entry{k, v});
      } else if (is_section(dotted)) {
        if (v.IsNull()) continue;  // a section with every key commented out
        if (!v.IsMap())
          fail(at(name_, k.Mark()), dotted, "expected a map of settings, got " + describe(v));
        collect(v, dotted);
      } else {
        fail(at(name_, k.Mark()), dotted, "unknown key" + suggestion(dotted, keys_));
      }
    }
  }

  bool has(std::string_view key) const { return leaves_.find(key) != leaves_.end(); }
  std::string where(std::string_view key) const {
    return at(name_, leaves_.find(key)->second.key.Mark());
  }

  void operator()(std::string_view key, bool& out) {
    const YAML::Node* v = value(key);
    if (!v) return;
    static constexpr std::array yes{"true", "True", "TRUE"};
    static constexpr std::array no{"false", "False", "FALSE"};
    auto is = [&](const auto& words) {
      return std::any_of(words.begin(), words.end(),
                         [&](const char* w) { return v->Scalar() == w; });
    };
    if (!plain_scalar(*v) || !(is(yes) || is(no)))
      bad(key, "expected true or false, got " + describe(*v));
    out = is(yes);
  }

  template <std::unsigned_integral T>
  void operator()(std::string_view key, T& out, int_rule rule) {
    const YAML::Node* v = value(key);
    if (!v) return;
    const std::string& s = v->Scalar();
    std::size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    bool digits =
        s.size() > sign && std::all_of(s.begin() + static_cast<std::ptrdiff_t>(sign), s.end(),
                                       [](char c) { return c >= '0' && c <= '9'; });
    if (!plain_scalar(*v) || !digits) bad(key, "expected an integer, got " + describe(*v));
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data() + sign, s.data() + s.size(), n);
    if (ec != std::errc{} || (s[0] == '-' && n != 0) || n < rule.min || n > rule.max) {
      bad(key, int_reason(rule, s));
    }
    out = static_cast<T>(n);
  }

  void operator()(std::string_view key, double& out, real_rule rule) {
    const YAML::Node* v = value(key);
    if (!v) return;
    const std::string& s = v->Scalar();
    double d = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!plain_scalar(*v) || s.empty() || ec != std::errc{} || ptr != s.data() + s.size() ||
        !std::isfinite(d)) {
      bad(key, "expected a number, got " + describe(*v));
    }
    if (!(d > rule.above && d <= rule.max)) bad(key, real_reason(rule, s));
    out = d;
  }

  void operator()(std::string_view key, std::string& out, text_rule rule) {
    const YAML::Node* v = value(key);
    if (!v) return;
    if (!v->IsNull() && !v->IsScalar()) bad(key, "expected a string, got " + describe(*v));
    std::string s = v->IsNull() ? "" : v->Scalar();
    if (auto reason = rule.check(s); !reason.empty()) bad(key, reason);
    out = std::move(s);
  }

  void operator()(std::string_view key, model_kind& out) {
    const YAML::Node* v = value(key);
    if (!v) return;
    auto m = v->IsScalar() ? parse_model(v->Scalar()) : std::nullopt;
    if (!m) bad(key, "must be async or threaded (got " + describe(*v) + ")");
    out = *m;
  }

 private:
  struct entry {
    YAML::Node key;
    YAML::Node value;
  };

  bool is_section(const std::string& dotted) const {
    return std::any_of(keys_.begin(), keys_.end(), [&](const std::string& k) {
      return k.size() > dotted.size() && k.compare(0, dotted.size(), dotted) == 0 &&
             k[dotted.size()] == '.';
    });
  }

  // The value at `key`, recording where it was set; nullptr if the document does not set it.
  const YAML::Node* value(std::string_view key) {
    auto it = leaves_.find(key);
    if (it == leaves_.end()) return nullptr;
    origins_[std::string(key)] = at(name_, it->second.key.Mark());
    return &it->second.value;
  }

  static bool plain_scalar(const YAML::Node& n) { return n.IsScalar() && n.Tag() != "!"; }

  [[noreturn]] void bad(std::string_view key, const std::string& reason) const {
    fail(where(key), key, reason);
  }

  std::string name_;
  config_origins& origins_;
  std::vector<std::string> keys_;
  std::map<std::string, YAML::Mark, std::less<>> seen_;
  std::map<std::string, entry, std::less<>> leaves_;
};

// Reads a whole file of at most `max` bytes; on failure returns nullopt and sets `error`.
std::optional<std::string> read_file(const std::filesystem::path& path, std::size_t max,
                                     std::string& error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buf[8192];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f.get())) {
    text.append(buf, n);
    if (text.size() > max) {
      error = "larger than " + std::to_string(max) + " bytes";
      return std::nullopt;
    }
  }
  if (std::ferror(f.get())) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return text;
}

// chat.motd_file: read now, so a missing file stops start-up rather than the first client.
void load_motd(config& cfg, const reader& doc, const std::string& base_dir) {
  auto& chat = cfg.chat_service;
  if (!doc.has("chat.motd_file") || chat.motd_file.empty()) {
    if (doc.has("chat.motd")) chat.motd_file.clear();  // the document chose inline text
    return;
  }
  const std::string where = doc.where("chat.motd_file");
  if (doc.has("chat.motd") && !chat.motd.empty()) {
    fail(where, "chat.motd_file", "set chat.motd or chat.motd_file, not both");
  }
  std::filesystem::path p(chat.motd_file);
  if (p.is_relative()) p = std::filesystem::path(base_dir.empty() ? "." : base_dir) / p;
  p = std::filesystem::absolute(p).lexically_normal();
  std::string error;
  auto text = read_file(p, max_motd_bytes, error);
  if (!text) fail(where, "chat.motd_file", "cannot read " + show(p.string()) + ": " + error);
  chat.motd = std::move(*text);
  chat.motd_file = p.string();
}

// ---- config → YAML
// -------------------------------------------------------------------------------

std::string quote(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

class writer {
 public:
  std::string text = "# simul-server effective configuration\n";

  void operator()(std::string_view key, bool v) { line(key, v ? "true" : "false"); }
  template <std::unsigned_integral T>
  void operator()(std::string_view key, T v, int_rule) {
    line(key, std::to_string(v));
  }
  void operator()(std::string_view key, double v, real_rule) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
    line(key, std::string(buf, res.ptr));
  }
  void operator()(std::string_view key, const std::string& v, text_rule rule) {
    line(key, rule.plain ? v : quote(v));
  }
  void operator()(std::string_view key, model_kind m) { line(key, to_string(m)); }

 private:
  void line(std::string_view key, const std::string& value) {
    auto dot = key.find('.');
    std::string_view section = dot == std::string_view::npos ? "" : key.substr(0, dot);
    if (section != section_) {
      section_ = section;
      if (!section.empty()) text += std::string(section) + ":\n";
    }
    text += section.empty() ? "" : "  ";
    text += key.substr(dot == std::string_view::npos ? 0 : dot + 1);
    text += ": " + value + "\n";
  }
  std::string section_;
};

// ---- validation
// ----------------------------------------------------------------------------------

class checker {
 public:
  explicit checker(const config_origins& origins) : origins_(origins) {}

  void operator()(std::string_view, bool) {}
  void operator()(std::string_view, model_kind) {}
  template <std::unsigned_integral T>
  void operator()(std::string_view key, T v, int_rule rule) {
    if (v < rule.min || v > rule.max) bad(key, int_reason(rule, std::to_string(v)));
  }
  void operator()(std::string_view key, double v, real_rule rule) {
    if (!(v > rule.above && v <= rule.max)) {
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof buf, v);
      bad(key, real_reason(rule, std::string(buf, res.ptr)));
    }
  }
  void operator()(std::string_view key, const std::string& v, text_rule rule) {
    if (auto reason = rule.check(v); !reason.empty()) bad(key, reason);
  }

  // Blames `key`, at its origin or else at `other`'s (the value that made it wrong).
  [[noreturn]] void bad(std::string_view key, const std::string& reason,
                        std::string_view other = {}) const {
    auto it = origins_.find(key);
    if (it == origins_.end() && !other.empty()) it = origins_.find(other);
    fail(it == origins_.end() ? "" : it->second, key, reason);
  }

 private:
  const config_origins& origins_;
};

void check_cross_fields(const config& cfg, const checker& check) {
  const auto& l = cfg.limits;
  if (l.sendq_soft_bytes > l.sendq_hard_bytes) {
    check.bad("limits.sendq_soft_bytes",
              "must not exceed limits.sendq_hard_bytes (" + std::to_string(l.sendq_soft_bytes) +
                  " > " + std::to_string(l.sendq_hard_bytes) + ")",
              "limits.sendq_hard_bytes");
  }
  // One reply line must fit in the send queue, and one input line in the backlog.
  for (auto [key, value] :
       {std::pair{"limits.sendq_hard_bytes", l.sendq_hard_bytes},
        std::pair{"limits.flood_max_backlog_bytes", l.flood_max_backlog_bytes}}) {
    if (value < l.max_line_bytes) {
      check.bad(key,
                "must be at least limits.max_line_bytes (" + std::to_string(value) + " < " +
                    std::to_string(l.max_line_bytes) + ")",
                "limits.max_line_bytes");
    }
  }
  struct listener {
    const char* name;
    const listener_config& cfg;
  };
  const std::array listeners{listener{"echo", cfg.echo}, listener{"chat", cfg.chat},
                             listener{"metrics", cfg.metrics}};
  if (std::none_of(listeners.begin(), listeners.end(), [](auto& s) { return s.cfg.enabled; })) {
    check.bad("echo.enabled", "at least one of echo, chat and metrics must be enabled",
              "chat.enabled");
  }
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = listeners[j];
      const auto& b = listeners[i];
      if (a.cfg.enabled && b.cfg.enabled && b.cfg.port != 0 && a.cfg.port == b.cfg.port) {
        std::string key = std::string(b.name) + ".port";
        check.bad(
            key,
            "same port as " + std::string(a.name) + ".port (" + std::to_string(b.cfg.port) + ")",
            std::string(a.name) + ".port");
      }
    }
  }
}

}  // namespace

// ---- public API
// ----------------------------------------------------------------------------------

const char* to_string(model_kind m) noexcept {
  return m == model_kind::threaded ? "threaded" : "async";
}

std::optional<model_kind> parse_model(std::string_view name) noexcept {
  if (name == "async") return model_kind::async;
  if (name == "threaded") return model_kind::threaded;
  return std::nullopt;
}

config parse_config_text(const std::string& yaml, const std::string& name,
                         const std::string& base_dir, config_origins& origins, config base) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    fail(at(name, e.mark), "", "invalid YAML: " + e.msg);
  }
  if (docs.empty() || docs[0].IsNull()) return base;  // empty file or only comments: defaults
  if (docs.size() > 1)
    fail(at(name, docs[1].Mark()), "", "expected one YAML document, found a second");
  if (!docs[0].IsMap()) {
    fail(at(name, docs[0].Mark()), "", "expected a map of settings, got " + describe(docs[0]));
  }
  reader doc(name, origins);
  doc.collect(docs[0], "");
  visit_fields(base, doc);
  load_motd(base, doc, base_dir);
  return base;
}

config parse_config_file(const std::string& path, config_origins& origins, config base) {
  std::string error;
  auto text = read_file(path, max_config_bytes, error);
  if (!text) fail(path, "", "cannot read config file: " + error);
  return parse_config_text(*text, path, std::filesystem::path(path).parent_path().string(), origins,
                           std::move(base));
}

config load_config_file(const std::string& path) {
  config_origins origins;
  config cfg = parse_config_file(path, origins);
  validate(cfg, origins);
  return cfg;
}

config load_config_text(const std::string& yaml, const std::string& name, config base) {
  config_origins origins;
  config cfg = parse_config_text(yaml, name, "", origins, std::move(base));
  validate(cfg, origins);
  return cfg;
}

void validate(const config& cfg) { validate(cfg, config_origins{}); }

void validate(const config& cfg, const config_origins& origins) {
  checker check(origins);
  visit_fields(cfg, check);
  check_cross_fields(cfg, check);
}

std::string to_yaml(const config& cfg) {
  config shown = cfg;
  // The file is named, not inlined: loading the output reads it again (motd_file is absolute).
  if (!shown.chat_service.motd_file.empty()) shown.chat_service.motd.clear();
  writer w;
  visit_fields(std::as_const(shown), w);
  return w.text;
}

}  // namespace simul::server
