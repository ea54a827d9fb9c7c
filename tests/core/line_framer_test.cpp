// Unit tests for core::line_framer.
#include "core/line_framer.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/errc.hpp"

using simul::core::errc;
using simul::core::line_framer;

namespace {

// Pulls every available result: lines as text, errors as "<error>".
std::vector<std::string> drain(line_framer& f) {
  std::vector<std::string> out;
  while (auto r = f.next()) out.push_back(r->error ? "<" + r->error.message() + ">" : std::string(r->line));
  return out;
}

}  // namespace

TEST_CASE("CRLF and bare LF both end a line, and the terminator is stripped") {
  line_framer f(512);
  f.feed("NICK a\r\nUSER b\nPING x\r\n");
  CHECK(drain(f) == std::vector<std::string>{"NICK a", "USER b", "PING x"});
  CHECK(f.buffered() == 0);
}

TEST_CASE("input split byte by byte yields the same lines as one read") {
  const std::string text = "one\r\ntwo\nthree\r\n\r\nfour";
  line_framer whole(512), bytes(512);
  whole.feed(text);
  std::vector<std::string> split;
  for (char c : text) {
    bytes.feed(std::string_view(&c, 1));
    for (auto& l : drain(bytes)) split.push_back(l);
  }
  CHECK(split == drain(whole));
  CHECK(split == std::vector<std::string>{"one", "two", "three", ""});
  CHECK(bytes.buffered() == 4);  // "four" waits for its terminator
}

TEST_CASE("a line of exactly the limit including CRLF is accepted, one byte more is not") {
  line_framer f(16);
  f.feed(std::string(14, 'a') + "\r\n");
  auto ok = drain(f);
  REQUIRE(ok.size() == 1);
  CHECK(ok[0] == std::string(14, 'a'));
  f.feed(std::string(15, 'b') + "\r\n");
  CHECK(drain(f) == std::vector<std::string>{"<line too long>"});
}

TEST_CASE("an overlong line is reported once, discarded, and the next line survives") {
  line_framer f(16);
  SUBCASE("in one read") { f.feed(std::string(100, 'x') + "\r\nnext\r\n"); }
  SUBCASE("byte by byte") {
    for (char c : std::string(100, 'x') + "\r\nnext\r\n") f.feed(std::string_view(&c, 1));
  }
  CHECK(drain(f) == std::vector<std::string>{"<line too long>", "next"});
}

TEST_CASE("memory stays bounded while an endless line arrives") {
  line_framer f(512);
  for (int i = 0; i < 1000; ++i) {
    f.feed(std::string(1000, 'z'));
    drain(f);
    CHECK(f.buffered() <= 1000);
  }
  f.feed("\nok\n");
  CHECK(drain(f) == std::vector<std::string>{"ok"});
}

TEST_CASE("NUL and binary bytes pass through framing untouched") {
  line_framer f(512);
  f.feed(std::string("a\0b\xff\r\n", 6));
  auto lines = drain(f);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == std::string("a\0b\xff", 4));
}

TEST_CASE("the error category names its codes") {
  CHECK(make_error_code(errc::line_too_long).message() == "line too long");
  CHECK(std::string(make_error_code(errc::sendq_exceeded).category().name()) == "simul");
}
