// irc_message: strict parsing and length-safe formatting of IRC lines.
#include "core/irc_message.hpp"

#include "core/errc.hpp"

namespace simul::core {
namespace {

bool is_letter(char c) noexcept { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
// RFC 2812 "special": [ ] \ ` _ ^ { | }
bool is_special(char c) noexcept {
  return (c >= '[' && c <= '`') || (c >= '{' && c <= '}');
}

// Index of the first byte that is not a space, at or after `pos`.
std::size_t skip_spaces(std::string_view s, std::size_t pos) noexcept {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  return pos;
}

// Moves `cut` back so that it does not split a UTF-8 sequence of `s` (at most 3 bytes back).
std::size_t utf8_boundary(std::string_view s, std::size_t cut) noexcept {
  if (cut >= s.size()) return cut;
  for (std::size_t c = cut, steps = 0; steps <= 3; ++steps) {
    if ((static_cast<unsigned char>(s[c]) & 0xC0) != 0x80) return c;  // s[c] starts a character
    if (c == 0) break;
    --c;
  }
  return cut;  // not UTF-8 (a long run of continuation bytes): cut where asked
}

void append_clean(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(c == '\0' || c == '\r' || c == '\n' ? ' ' : c);
}

}  // namespace

std::string_view command_word(std::string_view line) noexcept {
  auto word = [&line]() {
    auto start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) return std::string_view{};
    line.remove_prefix(start);
    auto w = line.substr(0, line.find(' '));
    line.remove_prefix(w.size());
    return w;
  };
  auto w = word();
  if (!w.empty() && w.front() == '@') w = word();
  if (!w.empty() && w.front() == ':') w = word();
  return w;
}

std::error_code parse_message(std::string_view line, irc_message& out) {
  out.prefix = {};
  out.command.clear();
  out.param_count = 0;
  out.has_trailing = false;

  if (line.find_first_of(std::string_view("\0\r\n", 3)) != std::string_view::npos) return errc::forbidden_byte;

  std::size_t pos = skip_spaces(line, 0);
  if (pos < line.size() && line[pos] == '@') {  // IRCv3 tags: ignored
    auto sp = line.find(' ', pos);
    if (sp == std::string_view::npos) return errc::empty_message;
    pos = skip_spaces(line, sp);
  }
  if (pos == line.size()) return errc::empty_message;

  if (line[pos] == ':') {
    auto sp = line.find(' ', pos);
    auto end = sp == std::string_view::npos ? line.size() : sp;
    if (end == pos + 1) return errc::bad_prefix;
    out.prefix = line.substr(pos + 1, end - pos - 1);
    pos = skip_spaces(line, end);
    if (pos == line.size()) return errc::bad_command;
  }

  auto cmd_end = line.find(' ', pos);
  if (cmd_end == std::string_view::npos) cmd_end = line.size();
  auto cmd = line.substr(pos, cmd_end - pos);
  bool letters = true, digits = cmd.size() == 3;
  for (char c : cmd) {
    letters = letters && is_letter(c);
    digits = digits && is_digit(c);
  }
  if (!letters && !digits) return errc::bad_command;
  if (cmd.size() > 32) return errc::bad_command;  // no real command is this long
  out.command.reserve(cmd.size());
  for (char c : cmd) out.command.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);

  pos = skip_spaces(line, cmd_end);
  while (pos < line.size()) {
    if (out.param_count == irc_message::max_params) return errc::too_many_params;
    if (line[pos] == ':') {
      out.param_storage[out.param_count++] = line.substr(pos + 1);
      out.has_trailing = true;
      break;
    }
    auto end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    out.param_storage[out.param_count++] = line.substr(pos, end - pos);
    pos = skip_spaces(line, end);
  }
  return {};
}

std::string format_message(std::string_view prefix, std::string_view command,
                           std::span<const std::string_view> params, format_options opts) {
  const std::size_t max = opts.max_bytes < 3 ? 3 : opts.max_bytes;
  std::string out;
  std::size_t est = prefix.size() + command.size() + 6;
  for (auto p : params) est += p.size() + 2;
  out.reserve(est < max ? est : max);

  if (!prefix.empty()) {
    out.push_back(':');
    append_clean(out, prefix);
    out.push_back(' ');
  }
  append_clean(out, command);
  for (std::size_t i = 0; i + 1 < params.size(); ++i) {
    out.push_back(' ');
    append_clean(out, params[i]);
  }
  if (!params.empty()) {
    auto last = params.back();
    out.push_back(' ');
    if (opts.force_trailing || last.empty() || last.front() == ':' ||
        last.find_first_of(std::string_view(" \r\n\0", 4)) != std::string_view::npos) {
      out.push_back(':');
    }
    const std::size_t room = max - 2;
    if (out.size() >= room) {
      out.resize(room);  // even the part before the last parameter is too long: cut hard
    } else {
      std::size_t take = last.size();
      if (out.size() + take > room) take = utf8_boundary(last, room - out.size());
      append_clean(out, last.substr(0, take));
    }
  } else if (out.size() > max - 2) {
    out.resize(max - 2);
  }
  out.append("\r\n");
  return out;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_valid_nick(std::string_view s, std::size_t max_len) noexcept {
  if (s.empty() || s.size() > max_len) return false;
  if (!is_letter(s[0]) && !is_special(s[0])) return false;
  for (char c : s.substr(1)) {
    if (!is_letter(c) && !is_digit(c) && !is_special(c) && c != '-') return false;
  }
  return true;
}

bool is_valid_channel(std::string_view s, std::size_t max_len) noexcept {
  if (s.size() < 2 || s.size() > max_len || s[0] != '#') return false;
  for (char c : s) {
    if (c == ' ' || c == ',' || c == '\x07' || c == '\0' || c == '\r' || c == '\n' || c == ':') return false;
  }
  return true;
}

}  // namespace simul::core
