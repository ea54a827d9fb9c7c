// Test helper for the chat hub tests: a hub plus per-client inboxes of received lines.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/chat_hub.hpp"

namespace simul::core::test {

using lines = std::vector<std::string>;

inline hub_config test_config() {
  hub_config c;
  c.server_name = "irc.test";
  c.network = "TestNet";
  c.motd = "";
  c.nick_len = 9;
  c.channel_len = 20;
  c.max_line_bytes = 512;
  c.version = "simul-test";
  return c;
}

struct chat_fixture {
  explicit chat_fixture(hub_config c = test_config()) : hub(with_clock(std::move(c), this)) {}

  /// The hub's clock reads `now` (unless the test set its own clock).
  static hub_config with_clock(hub_config c, chat_fixture* self) {
    if (!c.clock) c.clock = [self] { return self->now; };
    return c;
  }

  /// Records every delivery's lines (without CRLF) in the inboxes of its recipients.
  void collect(const hub_output& out) {
    for (const auto& d : out.deliveries) {
      REQUIRE(d.line);
      const std::string& s = *d.line;
      REQUIRE(s.size() >= 2);
      CHECK(s.size() <= hub.config().max_line_bytes);
      CHECK(s.substr(s.size() - 2) == "\r\n");
      CHECK(s.find('\n') == s.size() - 1);  // exactly one line per delivery
      CHECK(!d.to.empty());
      for (auto id : d.to) inbox[id].push_back(s.substr(0, s.size() - 2));
    }
  }

  hub_output send(client_id id, std::string_view line) {
    last = hub.on_line(id, line);
    collect(last);
    return last;
  }

  void connect(client_id id, std::string host = "127.0.0.1") { hub.connect(id, std::move(host)); }

  /// Connects and registers `nick` (user name = nick), then forgets the welcome burst.
  void join_server(client_id id, const std::string& nick) {
    connect(id);
    send(id, "NICK " + nick);
    send(id, "USER " + nick + " 0 * :Real " + nick);
    REQUIRE(hub.is_registered(id));
    inbox[id].clear();
  }

  /// Registers and joins a room, then forgets everything received so far by everybody.
  void join_room(client_id id, const std::string& nick, const std::string& room) {
    if (!hub.is_registered(id)) join_server(id, nick);
    send(id, "JOIN " + room);
    clear_all();
  }

  lines take(client_id id) { return std::exchange(inbox[id], {}); }
  void clear_all() { inbox.clear(); }

  /// The numeric (or command) of each line of `ls`: the second word.
  static std::vector<std::string> commands(const lines& ls) {
    std::vector<std::string> out;
    for (const auto& l : ls) {
      auto a = l.find(' ');
      auto b = l.find(' ', a + 1);
      out.push_back(l.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1));
    }
    return out;
  }

  chat_hub hub;
  std::int64_t now = 1700000000;  // the hub's wall clock, seconds since the epoch
  std::map<client_id, lines> inbox;
  hub_output last;
};

// "secret", hashed with `openssl passwd -6 -salt simulsalt secret`: a test operator's password.
inline constexpr const char* sha512_secret =
    "$6$simulsalt$rUwkpYCMMkT8UZEaRYSwvNpCnoU.qctdTpaOrPuE8fpVGX2GoQMrkFmL6BhQbiblEu3JF/xguKxCWysdA3zFH1";

// alice (1) creates #a and is its operator; bob (2) is a plain member; carol (3) is outside.
struct room_of_three : chat_fixture {
  room_of_three() {
    join_room(1, "alice", "#a");
    join_room(2, "bob", "#a");
    join_server(3, "carol");
    clear_all();
  }
};

/// A deterministic pseudo-random sequence (xorshift64) for the random sessions.
struct xorshift {
  std::uint64_t x;
  std::uint64_t operator()() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
};

/// A random session's command template with each whole-word placeholder filled in: R by one of
/// `rooms`, N by one of `nicks` ("KICK R N,N :x" → "KICK #a n2,ghost :x").
inline std::string fill_placeholders(std::string line, std::span<const char* const> rooms,
                                     std::span<const char* const> nicks, xorshift& next) {
  for (auto pos = line.find_first_of("RN"); pos != std::string::npos; pos = line.find_first_of("RN", pos + 1)) {
    if (pos > 0 && line[pos - 1] != ' ' && line[pos - 1] != ',') continue;  // only whole-word placeholders
    if (pos + 1 < line.size() && line[pos + 1] != ' ' && line[pos + 1] != ',' && line[pos + 1] != '!') continue;
    const std::string value = line[pos] == 'R' ? rooms[next() % rooms.size()] : nicks[next() % nicks.size()];
    line.replace(pos, 1, value);
  }
  return line;
}

}  // namespace simul::core::test

namespace doctest {
template <>
struct StringMaker<simul::core::test::lines> {
  static String convert(const simul::core::test::lines& ls) {
    std::string s = "{";
    for (const auto& l : ls) s += "\n  \"" + l + "\"";
    s += "\n}";
    return String(s.c_str());
  }
};
}  // namespace doctest
