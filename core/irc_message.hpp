// IRC message parsing and formatting (RFC 1459/2812 framing rules, IRCv3 tags skipped).
// Sans-IO and allocation-light: a parsed message holds views into the caller's line.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace simul::core {

/// One or more complete wire lines (each ending in CRLF), immutable and shared by every recipient:
/// a broadcast to N clients is one allocation, not N copies.
using shared_line = std::shared_ptr<const std::string>;

inline shared_line make_shared_line(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

/// A parsed IRC line. Views point into the string passed to parse_message() and are valid only
/// while that string is alive and unchanged.
struct irc_message {
  static constexpr std::size_t max_params = 15;

  std::string_view prefix;   // without the leading ':'; empty when absent
  std::string command;       // letters uppercased ("PRIVMSG") or three digits ("001")
  std::array<std::string_view, max_params> param_storage{};
  std::size_t param_count = 0;
  bool has_trailing = false; // the last parameter was written with a leading ':'

  std::span<const std::string_view> params() const noexcept { return {param_storage.data(), param_count}; }
  std::size_t size() const noexcept { return param_count; }
  /// The i-th parameter, or an empty view when there are fewer.
  std::string_view param(std::size_t i) const noexcept {
    return i < param_count && i < max_params ? param_storage[i] : std::string_view{};
  }
};

/// Parses one line without its CR/LF. Leading IRCv3 tags ("@a=b;c ") are skipped.
/// Errors (errc): empty_message (nothing but spaces, or only tags), forbidden_byte (NUL, CR or LF
/// anywhere), bad_prefix (':' not followed by a name), bad_command (missing, or neither letters
/// nor exactly three digits), too_many_params (more than 15). On error `out` is unspecified.
/// Spaces between parameters may repeat (lenient, as most servers are).
std::error_code parse_message(std::string_view line, irc_message& out);

/// The command word of a line as written (not upper-cased, not checked): the first word after
/// the tags ("@...") and the prefix (":..."); "" when there is none. For a quick look at a line
/// without parsing it; parse_message() is the authority.
std::string_view command_word(std::string_view line) noexcept;

struct format_options {
  std::size_t max_bytes = 512;   // whole line including CRLF; longer lines are truncated
  bool force_trailing = false;   // write the last parameter with ':' even when not needed
};

/// Builds "[:prefix ]COMMAND p1 p2 ... [:]last\r\n".
/// The last parameter gets ':' when it is empty, contains a space, starts with ':' (or when
/// force_trailing). Earlier parameters must be non-empty, without spaces, not start with ':'.
/// No parameter may contain CR, LF or NUL (they are replaced by spaces defensively).
/// If the line would exceed max_bytes, the last parameter is cut (at a UTF-8 character boundary
/// when possible) so that the line including CRLF fits exactly; if the rest alone is too long,
/// the line is cut hard. The result always ends in CRLF and is never longer than max_bytes
/// (max_bytes below 3 is treated as 3).
std::string format_message(std::string_view prefix, std::string_view command,
                           std::span<const std::string_view> params, format_options opts = {});

inline std::string format_message(std::string_view prefix, std::string_view command,
                                  std::initializer_list<std::string_view> params,
                                  format_options opts = {}) {
  return format_message(prefix, command, std::span<const std::string_view>(params.begin(), params.size()),
                        opts);
}

/// ASCII case mapping (CASEMAPPING=ascii): 'A'-'Z' → 'a'-'z', nothing else.
std::string ascii_lower(std::string_view s);

/// True when s is a valid nickname per RFC 2812 (letter or special first; then letters, digits,
/// specials or '-') and not longer than max_len.
bool is_valid_nick(std::string_view s, std::size_t max_len) noexcept;

/// True when s is a valid room name: starts with '#', 2..max_len bytes, no space, comma, BEL,
/// NUL, CR, LF or ':' .
bool is_valid_channel(std::string_view s, std::size_t max_len) noexcept;

}  // namespace simul::core
