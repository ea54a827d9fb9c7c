// Fuzz target: core/irc_message. The input is one line for parse_message(); what it accepts must
// be well-formed (command, parameter shapes, views inside the line) and survive format_message()
// and a second parse unchanged. The same bytes, cut into a prefix, a command and parameters, must
// also format into one CRLF-terminated line within max_bytes, whatever they hold.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "core/irc_message.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace simul::core;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

bool is_one_line(const std::string& s, std::size_t max) {
  return s.size() >= 2 && s.size() <= std::max<std::size_t>(max, 3) && s.ends_with("\r\n") &&
         s.find_first_of(std::string_view("\r\n\0", 3)) == s.size() - 2;
}

void check_parsed(std::string_view line) {
  irc_message m;
  if (parse_message(line, m)) return;
  FUZZ_CHECK(line.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
  FUZZ_CHECK(!m.command.empty() && m.command.size() <= 32);
  const bool digits = std::all_of(m.command.begin(), m.command.end(), [](char c) { return c >= '0' && c <= '9'; });
  const bool upper = std::all_of(m.command.begin(), m.command.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  FUZZ_CHECK(upper || (digits && m.command.size() == 3));
  FUZZ_CHECK(m.size() <= irc_message::max_params);
  FUZZ_CHECK(inside(m.prefix, line));
  FUZZ_CHECK(m.prefix.find(' ') == std::string_view::npos);
  for (std::size_t i = 0; i < m.size(); ++i) {
    auto p = m.param(i);
    FUZZ_CHECK(inside(p, line));
    if (i + 1 < m.size() || !m.has_trailing) {  // a middle parameter
      FUZZ_CHECK(!p.empty() && p.front() != ':' && p.find(' ') == std::string_view::npos);
    }
  }
  FUZZ_CHECK(m.param(m.size()).empty());

  // Formatting what was parsed gives a line that parses back to the same message.
  const std::string wire = format_message(m.prefix, m.command, m.params(), {1u << 20, m.has_trailing});
  FUZZ_CHECK(is_one_line(wire, 1u << 20));
  irc_message again;
  const std::string_view body(wire.data(), wire.size() - 2);
  FUZZ_CHECK(!parse_message(body, again));
  FUZZ_CHECK(again.prefix == m.prefix);
  FUZZ_CHECK(again.command == m.command);
  FUZZ_CHECK(again.size() == m.size());
  for (std::size_t i = 0; i < m.size(); ++i) FUZZ_CHECK(again.param(i) == m.param(i));
}

// Cuts the input at spaces into prefix, command and up to 17 parameters (one more than the
// protocol allows) and formats them with a length limit taken from the first byte.
void check_formatted(std::string_view bytes) {
  if (bytes.empty()) return;
  const std::size_t max = static_cast<unsigned char>(bytes[0]) * 3;  // below 3 means 3
  bytes.remove_prefix(1);
  std::array<std::string_view, 19> parts{};
  std::size_t n = 0;
  while (n < parts.size()) {
    auto sp = bytes.find('\x01');  // the separator is a byte the parser does not care about
    parts[n++] = bytes.substr(0, sp);
    if (sp == std::string_view::npos) break;
    bytes.remove_prefix(sp + 1);
  }
  const bool force = n % 2 == 0;
  const auto prefix = parts[0];
  const auto command = n > 1 ? parts[1] : std::string_view("PRIVMSG");
  std::span<const std::string_view> params(parts.data() + std::min<std::size_t>(n, 2), n > 2 ? n - 2 : 0);
  const std::string wire = format_message(prefix, command, params, {max, force});
  FUZZ_CHECK(is_one_line(wire, max));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  check_parsed(line);
  check_formatted(line);
  return 0;
}
