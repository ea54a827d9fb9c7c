// Unit tests for core::parse_message, core::format_message and the name rules.
#include "core/irc_message.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/errc.hpp"

using namespace simul::core;

namespace {

std::vector<std::string> params_of(const irc_message& m) {
  return {m.params().begin(), m.params().end()};
}

}  // namespace

TEST_CASE("a line with prefix, command and trailing parameter is split into its parts") {
  irc_message m;
  REQUIRE(!parse_message(":nick!u@h PRIVMSG #room :hello there", m));
  CHECK(m.prefix == "nick!u@h");
  CHECK(m.command == "PRIVMSG");
  CHECK(params_of(m) == std::vector<std::string>{"#room", "hello there"});
  CHECK(m.has_trailing);
}

TEST_CASE("commands are uppercased and three-digit numerics are accepted") {
  irc_message m;
  REQUIRE(!parse_message("privMsg a b", m));
  CHECK(m.command == "PRIVMSG");
  CHECK(params_of(m) == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(m.has_trailing);
  REQUIRE(!parse_message("001 me :Welcome", m));
  CHECK(m.command == "001");
}

TEST_CASE("a trailing parameter may be empty, contain colons and keep inner spaces") {
  irc_message m;
  REQUIRE(!parse_message("TOPIC #a :", m));
  CHECK(params_of(m) == std::vector<std::string>{"#a", ""});
  REQUIRE(!parse_message("PRIVMSG #a ::) a  b :c", m));
  CHECK(m.param(1) == ":) a  b :c");
}

TEST_CASE("repeated spaces between parameters are tolerated") {
  irc_message m;
  REQUIRE(!parse_message("  NICK   bob  ", m));
  CHECK(m.command == "NICK");
  CHECK(params_of(m) == std::vector<std::string>{"bob"});
}

TEST_CASE("IRCv3 message tags are skipped") {
  irc_message m;
  REQUIRE(!parse_message("@time=2024-01-01T00:00:00Z;msgid=x :a!b@c PRIVMSG #r :hi", m));
  CHECK(m.prefix == "a!b@c");
  CHECK(m.command == "PRIVMSG");
  CHECK(m.param(1) == "hi");
  CHECK(parse_message("@only=tags", m) == errc::empty_message);
}

TEST_CASE("an empty or all-space line is an empty_message error") {
  irc_message m;
  CHECK(parse_message("", m) == errc::empty_message);
  CHECK(parse_message("    ", m) == errc::empty_message);
}

TEST_CASE("NUL, a bare CR or LF inside the line is a forbidden_byte error") {
  irc_message m;
  CHECK(parse_message(std::string("PRIVMSG #a :x\0y", 15), m) == errc::forbidden_byte);
  CHECK(parse_message("PRIVMSG #a :x\ry", m) == errc::forbidden_byte);
  CHECK(parse_message("PRIVMSG #a :x\ny", m) == errc::forbidden_byte);
}

TEST_CASE("a lone colon prefix is a bad_prefix error, a prefix without command a bad_command") {
  irc_message m;
  CHECK(parse_message(": PRIVMSG a b", m) == errc::bad_prefix);
  CHECK(parse_message(":nick", m) == errc::bad_command);
  CHECK(parse_message(":nick   ", m) == errc::bad_command);
}

TEST_CASE("a command that is neither letters nor three digits is a bad_command error") {
  irc_message m;
  CHECK(parse_message("PRIV1MSG a", m) == errc::bad_command);
  CHECK(parse_message("12 a", m) == errc::bad_command);
  CHECK(parse_message("1234 a", m) == errc::bad_command);
  CHECK(parse_message("\x01\x02\xff", m) == errc::bad_command);
  CHECK(parse_message(std::string(40, 'A'), m) == errc::bad_command);
}

TEST_CASE("fifteen parameters are accepted and a sixteenth is a too_many_params error") {
  irc_message m;
  std::string line = "CMD";
  for (int i = 0; i < 15; ++i) line += " p" + std::to_string(i);
  REQUIRE(!parse_message(line, m));
  CHECK(m.size() == 15);
  CHECK(m.param(14) == "p14");
  const std::string with_trailing = line.substr(0, line.rfind(' ')) + " :last one";  // m views into it
  CHECK(!parse_message(with_trailing, m));
  CHECK(m.param(14) == "last one");
  CHECK(parse_message(line + " p15", m) == errc::too_many_params);
  CHECK(parse_message(line + " :trailing", m) == errc::too_many_params);
}

TEST_CASE("param() of a missing index is empty") {
  irc_message m;
  REQUIRE(!parse_message("NICK", m));
  CHECK(m.size() == 0);
  CHECK(m.param(0).empty());
  CHECK(m.param(99).empty());
}

TEST_CASE("format puts a colon before the last parameter only when needed") {
  CHECK(format_message("srv", "PING", {"token"}) == ":srv PING token\r\n");
  CHECK(format_message("", "PRIVMSG", {"#a", "two words"}) == "PRIVMSG #a :two words\r\n");
  CHECK(format_message("", "TOPIC", {"#a", ""}) == "TOPIC #a :\r\n");
  CHECK(format_message("", "PRIVMSG", {"#a", ":)"}) == "PRIVMSG #a ::)\r\n");
  CHECK(format_message("", "QUIT", {}) == "QUIT\r\n");
}

TEST_CASE("format forces the trailing colon when asked") {
  CHECK(format_message("n!u@h", "PRIVMSG", {"#a", "hi"}, {512, true}) == ":n!u@h PRIVMSG #a :hi\r\n");
}

TEST_CASE("format then parse gives back the same parameters") {
  const std::vector<std::string_view> ps = {"#a", "b", ":odd  text "};
  auto line = format_message("pre", "notice", ps);
  irc_message m;
  REQUIRE(!parse_message(std::string_view(line).substr(0, line.size() - 2), m));
  CHECK(m.prefix == "pre");
  CHECK(m.command == "NOTICE");
  CHECK(params_of(m) == std::vector<std::string>{"#a", "b", ":odd  text "});
}

TEST_CASE("format truncates the last parameter so the line fits max_bytes including CRLF") {
  const std::string text(600, 'x');
  auto line = format_message("nick!user@host", "PRIVMSG", {"#room", text}, {512, true});
  CHECK(line.size() == 512);
  CHECK(line.substr(510) == "\r\n");
  CHECK(line.rfind(":nick!user@host PRIVMSG #room :xxx", 0) == 0);
}

TEST_CASE("format does not cut a UTF-8 character in half when truncating") {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "\xc3\xa9";  // é
  auto line = format_message("", "PRIVMSG", {"#r", text}, {100, true});
  CHECK(line.size() <= 100);
  const std::string body = line.substr(std::string("PRIVMSG #r :").size(), line.size() - 2 - 12);
  CHECK(body.size() % 2 == 0);
  CHECK(line.substr(line.size() - 2) == "\r\n");
}

TEST_CASE("format cuts hard when even the part before the last parameter is too long") {
  auto line = format_message(std::string(200, 'p'), "PRIVMSG", {"#r", "text"}, {64});
  CHECK(line.size() == 64);
  CHECK(line.substr(62) == "\r\n");
}

TEST_CASE("format replaces CR, LF and NUL inside parameters so one line stays one line") {
  auto line = format_message("", "PRIVMSG", {"#a", std::string_view("a\r\nb\0c", 6)});
  CHECK(line == "PRIVMSG #a :a  b c\r\n");
}

TEST_CASE("nicknames follow RFC 2812: letter or special first, then letters, digits, specials, dash") {
  CHECK(is_valid_nick("alice", 9));
  CHECK(is_valid_nick("[bot]`_^", 9));
  CHECK(is_valid_nick("a-1{|}\\", 9));
  CHECK_FALSE(is_valid_nick("", 9));
  CHECK_FALSE(is_valid_nick("1abc", 9));
  CHECK_FALSE(is_valid_nick("-abc", 9));
  CHECK_FALSE(is_valid_nick("a b", 9));
  CHECK_FALSE(is_valid_nick("a!b", 9));
  CHECK_FALSE(is_valid_nick("#chan", 9));
  CHECK_FALSE(is_valid_nick("\xc3\xa9t\xc3\xa9", 9));
  CHECK(is_valid_nick("abcdefghi", 9));
  CHECK_FALSE(is_valid_nick("abcdefghij", 9));
}

TEST_CASE("room names start with # and have no space, comma, colon, BEL or NUL") {
  CHECK(is_valid_channel("#a", 20));
  CHECK(is_valid_channel("#caf\xc3\xa9-1.2", 20));
  CHECK_FALSE(is_valid_channel("#", 20));
  CHECK_FALSE(is_valid_channel("a", 20));
  CHECK_FALSE(is_valid_channel("&local", 20));
  CHECK_FALSE(is_valid_channel("#a b", 20));
  CHECK_FALSE(is_valid_channel("#a,b", 20));
  CHECK_FALSE(is_valid_channel("#a:b", 20));
  CHECK_FALSE(is_valid_channel("#a\x07", 20));
  CHECK_FALSE(is_valid_channel(std::string_view("#a\0", 3), 20));
  CHECK(is_valid_channel("#" + std::string(19, 'x'), 20));
  CHECK_FALSE(is_valid_channel("#" + std::string(20, 'x'), 20));
}

TEST_CASE("ascii_lower maps only A-Z") {
  CHECK(ascii_lower("NiCK[]\\~") == "nick[]\\~");
  CHECK(ascii_lower("\xc3\x89") == "\xc3\x89");
}

TEST_CASE("command_word finds the command as written, after tags and prefix") {
  CHECK(command_word("PRIVMSG #a :hi") == "PRIVMSG");
  CHECK(command_word("@t=1 :nick!u@h ping :x") == "ping");
  CHECK(command_word("  WHO  #a") == "WHO");
  CHECK(command_word(":prefix-only").empty());
  CHECK(command_word("   ").empty());
}
