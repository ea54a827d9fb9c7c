// The rules of the config key table (config_fields.hpp): range reasons, text checks, and the
// quoting and error helpers its reader, writer and validation share.
#include "server/common/config_fields.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include "core/chat_hub.hpp"
#include "server/common/probe.hpp"

namespace simul::server::config_detail {
namespace {

enum class control_chars { as_question_mark, escaped };

// `s` in double quotes with '"', '\\' and newlines escaped; other control characters as `control`
// says (a message only needs to stay on one line; YAML needs every byte back).
std::string double_quoted(std::string_view s, control_chars control) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (u >= 0x20 && u != 0x7f) {
      out += c;
    } else if (control == control_chars::as_question_mark) {
      out += '?';
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
  return out + "\"";
}

template <std::size_t N>
std::string one_of(const std::array<const char*, N>& words, const std::string& s) {
  if (std::any_of(words.begin(), words.end(), [&](const char* w) { return s == w; })) return {};
  std::string list;
  for (const char* w : words) list += (list.empty() ? "" : ", ") + std::string(w);
  return "must be one of " + list + " (got " + show(s) + ")";
}

}  // namespace

// ---- rules -------------------------------------------------------------------------------------

std::string int_rule::reason(std::string_view got) const {
  return "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
         clipped(got) + ")";
}

std::string real_rule::reason(std::string_view got) const {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, max, std::chars_format::fixed);
  return "must be greater than " + std::to_string(static_cast<long long>(above)) +
         " and at most " + std::string(buf, res.ptr) + " (got " + clipped(got) + ")";
}

std::string duration_rule::reason(std::string_view got) const {
  return std::string("must be ") + (zero_is_off ? "0 (off) or " : "") + "between " +
         show_duration(min) + " and " + show_duration(max) + " (got " + std::string(got) + ")";
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

std::string check_operators(const std::string& s) {
  std::vector<core::oper_account> accounts;
  return core::parse_oper_accounts(s, accounts);
}

std::string check_redis(const std::string& s) {
  if (s.empty()) return {};
  std::string error;
  if (parse_host_port(s, error)) return {};
  return "must be empty (standalone) or HOST:PORT of the network's Redis: " + error;
}

std::string check_node(const std::string& s) {
  bool ok = s.size() <= 63 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == ':';
  });
  if (ok) return {};
  return "must be empty (hostname:pid) or up to 63 letters, digits, '.', '-', '_' or ':' (got " + show(s) + ")";
}

std::string check_level(const std::string& s) {
  static constexpr std::array levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
  return one_of(levels, s);
}

std::string check_format(const std::string& s) {
  static constexpr std::array formats{"text", "json"};
  return one_of(formats, s);
}

// ---- text and errors ---------------------------------------------------------------------------

std::string show(std::string_view s) {
  constexpr std::size_t shown = 40;
  std::string out = double_quoted(s.substr(0, shown), control_chars::as_question_mark);
  if (s.size() > shown) out.insert(out.size() - 1, "...");
  return out;
}

std::string clipped(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = max;
  // Not inside a UTF-8 sequence (at most 3 continuation bytes back).
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80; ++i) --cut;
  return std::string(s.substr(0, cut)) + "...";
}

std::string one_line(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    // C1 controls (U+0080..U+009F) in UTF-8 are C2 80..C2 9F: terminals may act on them too.
    const bool c1 = u == 0xC2 && i + 1 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xE0) == 0x80;
    if (u >= 0x20 && u != 0x7f && !c1) {
      out += s[i];
    } else if (c1) {
      out += "\\u00";
      out += hex[static_cast<unsigned char>(s[++i]) >> 4];
      out += hex[static_cast<unsigned char>(s[i]) & 0xf];
    } else if (u == '\n') {
      out += "\\n";
    } else if (u == '\r') {
      out += "\\r";
    } else if (u == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 0xf];
    }
  }
  return out;
}

std::string quote(std::string_view s) { return double_quoted(s, control_chars::escaped); }

std::string format_real(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string format_duration(std::chrono::milliseconds v) {
  if (v.count() % 1000 == 0) return std::to_string(v.count() / 1000);
  return std::to_string(v.count()) + "ms";
}

std::string show_duration(std::chrono::milliseconds v) {
  if (v.count() % 1000 == 0) return std::to_string(v.count() / 1000) + "s";
  return std::to_string(v.count()) + "ms";
}

bool parse_duration(std::string_view text, std::chrono::milliseconds& out, bool& out_of_range) {
  out_of_range = false;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  const auto digits = std::min(text.find_first_not_of("0123456789"), text.size());
  if (digits == 0) return false;
  const std::string_view unit = text.substr(digits);
  std::int64_t scale = 0;  // milliseconds per unit
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60'000;
  } else {
    return false;
  }
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, n);
  constexpr std::int64_t limit = std::int64_t{1} << 50;  // ms: far above every range, no overflow
  if (ec != std::errc{} || n > limit / scale || (negative && n != 0)) {
    out_of_range = true;
    return true;
  }
  out = std::chrono::milliseconds(n * scale);
  return true;
}

void fail(const std::string& where, std::string_view key, const std::string& reason) {
  std::string msg = where;
  // Keys come from the document too: an unknown one may be long or hold any byte.
  if (!key.empty()) msg += (msg.empty() ? "" : ": ") + clipped(key, 64);
  msg += (msg.empty() ? "" : ": ") + reason;
  // One line, whatever the file name, key, value or yaml-cpp's message held.
  throw config_error(one_line(msg));
}

}  // namespace simul::server::config_detail
