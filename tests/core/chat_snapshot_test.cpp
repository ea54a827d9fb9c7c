// chat_hub::save()/load(): a snapshot carries the whole chat state, so a hub loaded from it
// answers every later input exactly as the original does; bad snapshots are refused cleanly.
// Also chat_hub::set_time(), the per-call clock a cluster node uses.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"
#include "core/chat_state.hpp"

using namespace simul::core;
using namespace simul::core::test;

namespace {

// "secret" with the fewest SHA-512 rounds allowed: OPER is tried often in the random sessions.
constexpr const char* cheap_secret =
    "$6$rounds=1000$simulsalt$V8IOHNaWAdk9umuGi.PczeMNLLSz0dW/NLLnH0lr7XpFoBWKwyt2cvVpbfF9nVEUHnM3No7nFqyy0ldOMKUiN/";

hub_config snapshot_config() {
  auto cfg = test_config();
  cfg.operators.push_back({"root", cheap_secret, "*"});
  cfg.max_rooms_per_user = 3;
  return cfg;
}

/// One hub output as comparable text: each delivery's line and its recipients as a set, in
/// order, then the flags.
std::string describe(const hub_output& out) {
  std::string s;
  for (const auto& d : out.deliveries) {
    auto to = d.to;
    std::sort(to.begin(), to.end());
    s += *d.line;
    s += " ->";
    for (auto id : to) s += " " + std::to_string(id);
    s += "\n";
  }
  auto others = out.close_others;
  std::sort(others.begin(), others.end());
  s += out.close ? "close" : "open";
  s += out.registered_now ? " registered" : "";
  for (auto id : others) s += " kill:" + std::to_string(id);
  return s;
}

/// A rich state: rooms with every mode, bans, topics, voices and ops, invitations, an away
/// user, an operator, WHOWAS history, an unregistered client with a nick, one in CAP.
void build_rich_state(chat_fixture& f) {
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.join_room(3, "carol", "#b");
  f.join_room(2, "bob", "#b");
  f.send(1, "MODE #a +imstkl sesame 10");
  f.send(1, "MODE #a +v bob");
  f.send(1, "MODE #a +b evil!*@*");
  f.send(1, "TOPIC #a :the topic");
  f.send(1, "INVITE carol #a");
  f.send(3, "MODE #b +o bob");
  f.send(3, "AWAY :gone fishing");
  f.send(2, "OPER root secret");
  f.send(2, "MODE bob +iw");
  f.join_server(4, "dave");
  f.now += 10;
  f.send(4, "NICK dave2");
  f.join_server(5, "erin");
  f.send(5, "QUIT :bye");
  f.connect(6, "10.0.0.6");
  f.send(6, "NICK frank");  // no USER: not registered
  f.connect(7, "10.0.0.7");
  f.send(7, "CAP LS 302");
  f.send(7, "CAP REQ :multi-prefix");
  f.send(7, "NICK gina");
  f.send(7, "USER gina 0 * :Gina");  // waits for CAP END
  f.connect(8);                       // nothing sent yet
  f.clear_all();
}

std::string refusal(chat_hub& hub, std::string_view snapshot) {
  auto r = hub.load(snapshot);
  CHECK_FALSE(r.ok);
  return r.reason;
}

}  // namespace

TEST_CASE("a snapshot of a rich hub loads into another hub that then answers alike") {
  chat_fixture a(snapshot_config());
  build_rich_state(a);
  const std::string snap = a.hub.save();
  CHECK(snap.starts_with("SIMULHUB"));

  chat_fixture b(snapshot_config());
  b.join_room(9, "zed", "#z");  // replaced wholesale by the load
  auto r = b.hub.load(snap);
  REQUIRE_MESSAGE(r.ok, r.reason);
  CHECK(b.hub.save() == snap);
  CHECK(b.hub.users() == a.hub.users());
  CHECK(b.hub.rooms() == a.hub.rooms());
  CHECK(b.hub.connections() == a.hub.connections());
  CHECK(b.hub.nick(6) == "frank");
  CHECK_FALSE(b.hub.is_registered(6));
  CHECK(b.hub.nick(9).empty());

  // The same queries and changes, answered identically (the clocks agree).
  b.now = a.now;
  for (const char* line : {"NAMES", "WHO *", "WHOIS carol", "WHOWAS dave", "WHOWAS erin", "LIST", "MODE #a",
                           "MODE #a b", "TOPIC #a", "LUSERS", "JOIN #a", "PRIVMSG #a :hi", "KICK #b carol",
                           "KILL alice :k", "NICK bobby", "PART #b"}) {
    CAPTURE(line);
    CHECK(describe(b.send(2, line)) == describe(a.send(2, line)));
  }
  // carol joins #a with her invitation; gina finishes CAP; frank registers; 8 starts.
  for (auto [id, line] : std::vector<std::pair<client_id, const char*>>{
           {3, "JOIN #a sesame"}, {7, "CAP END"}, {6, "USER frank 0 * :F"}, {8, "NICK alice"}, {8, "USER a 0 * :A"},
           {7, "NAMES #a"}, {3, "WHOIS gina"}, {1, "NICK x"}}) {
    CAPTURE(line);
    CHECK(describe(b.send(id, line)) == describe(a.send(id, line)));
  }
  CHECK(b.hub.save() == a.hub.save());
}

TEST_CASE("random sessions: a hub loaded mid-session goes on exactly like the original") {
  const auto cfg = snapshot_config();
  xorshift next{0x2545F4914F6CDD1Dull};  // deterministic
  constexpr client_id clients = 16;
  const char* nicks[] = {"n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "N1", "ghost"};
  const char* rooms[] = {"#a", "#b", "#A,#c", "#c", "#d", "#none"};
  const char* commands[] = {
      "JOIN R", "JOIN R key", "JOIN R", "PART R", "PART R :bye", "KICK R N", "KICK R N,N :x", "INVITE N R",
      "MODE R +o N", "MODE R -o N", "MODE R +v N", "MODE R -v N", "MODE R +imnst", "MODE R -imnst",
      "MODE R +k key", "MODE R -k key", "MODE R +l 3", "MODE R -l", "MODE R +b N", "MODE R -b N!*@*",
      "MODE R +b *!*@10.*", "MODE R b", "MODE R", "TOPIC R :t", "TOPIC R", "PRIVMSG R :hi", "NOTICE N :hi",
      "PRIVMSG N,R :hi", "AWAY :a", "AWAY", "WHO R", "WHO N", "WHO *", "WHOIS N", "WHOWAS N", "LIST", "LIST R",
      "NAMES", "NAMES R", "LUSERS", "MODE N +iw", "MODE N -i", "MODE N -o", "OPER root secret", "KILL N :k",
      "WALLOPS :w", "NICK N", "QUIT :q", "PING x", "ISON N", "USERHOST N", "CAP LS", "CAP REQ :multi-prefix",
      "CAP END", "TIME", "MOTD", "bogus",
  };
  // One step of the session, as text, so that both hubs get exactly the same one.
  struct step {
    char kind;  // 'c' connect, 'l' line, 'x' disconnect, 'e' error-and-close
    client_id id;
    std::string text;
    std::int64_t time;
  };
  std::int64_t now = 1700000000;
  std::vector<bool> connected(clients + 1, false);
  auto make_step = [&]() -> step {
    now += static_cast<std::int64_t>(next() % 3);
    const client_id who = 1 + next() % clients;
    if (!connected[who]) {
      connected[who] = true;
      return {'c', who, "10.0.0." + std::to_string(next() % 4), now};
    }
    const auto roll = next() % 100;
    if (roll < 2) {
      connected[who] = false;
      return {'x', who, "Connection reset", now};
    }
    if (roll < 3) {
      connected[who] = false;
      return {'e', who, "Ping timeout", now};
    }
    if (roll < 12) {  // registration lines, so many clients are users and some stay half-way
      const char* reg[] = {"NICK N", "USER u 0 * :Real name", "NICK N"};
      return {'l', who, fill_placeholders(reg[next() % 3], rooms, nicks, next), now};
    }
    const std::string line = fill_placeholders(commands[next() % std::size(commands)], rooms, nicks, next);
    if (line == "QUIT :q") connected[who] = false;
    return {'l', who, line, now};
  };
  auto apply = [](chat_hub& hub, const step& s) {
    hub.set_time(s.time);
    switch (s.kind) {
      case 'c':
        hub.connect(s.id, s.text);
        return std::string("connected");
      case 'x':
        return describe(hub.disconnect(s.id, s.text));
      case 'e':
        return describe(hub.make_error_and_close(s.id, s.text));
      default:
        return describe(hub.on_line(s.id, s.text));
    }
  };

  chat_hub a(cfg);
  int compared = 0, nonempty = 0;
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    for (int i = 0; i < 700; ++i) {
      const step s = make_step();
      apply(a, s);
      if (s.kind == 'l' && a.nick(s.id).empty()) connected[s.id] = false;  // KILLed by someone else, or QUIT
      for (client_id id = 1; id <= clients; ++id) {
        if (connected[id] && a.nick(id).empty()) connected[id] = false;
      }
    }
    // B starts from A's snapshot; both get the same 700 steps.
    chat_hub b(cfg);
    const std::string snap = a.save();
    auto r = b.load(snap);
    REQUIRE_MESSAGE(r.ok, r.reason);
    REQUIRE(b.save() == snap);
    for (int i = 0; i < 700; ++i) {
      const step s = make_step();
      const std::string out_a = apply(a, s);
      const std::string out_b = apply(b, s);
      CAPTURE(s.text);
      REQUIRE(out_b == out_a);
      ++compared;
      nonempty += out_a.find("\r\n") != std::string::npos ? 1 : 0;
      for (client_id id = 1; id <= clients; ++id) {
        if (connected[id] && a.nick(id).empty()) connected[id] = false;
      }
    }
    CHECK(b.save() == a.save());
  }
  CHECK(compared == 6 * 700);
  CHECK(nonempty > 1000);  // the sessions did produce traffic
  CHECK(a.users() > 0);
}

TEST_CASE("truncated, corrupted or foreign snapshots are refused and the hub is unchanged") {
  chat_fixture a(snapshot_config());
  build_rich_state(a);
  const std::string snap = a.hub.save();

  chat_fixture b(snapshot_config());
  b.join_room(9, "zed", "#z");
  const std::string before = b.hub.save();

  SUBCASE("every truncation") {
    for (std::size_t n = 0; n < snap.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(b.hub.load(snap.substr(0, n)));
    }
  }
  SUBCASE("every flipped byte") {
    for (std::size_t i = 0; i < snap.size(); ++i) {
      std::string bad = snap;
      bad[i] = static_cast<char>(bad[i] ^ 0x41);
      CAPTURE(i);
      CHECK_FALSE(b.hub.load(bad));
    }
  }
  SUBCASE("appended bytes") { CHECK_FALSE(b.hub.load(snap + "x")); }
  SUBCASE("not a snapshot") {
    CHECK(refusal(b.hub, "") == "not a hub snapshot");
    CHECK(refusal(b.hub, "hello, world, this is text") == "not a hub snapshot");
  }
  SUBCASE("another version") {
    std::string body = snap.substr(0, snap.size() - 8);
    body[8] = 2;  // the version follows the magic
    CHECK(refusal(b.hub, seal_snapshot(body)) == "unsupported version 2");
  }
  SUBCASE("well-formed but inconsistent: a member that is not a client") {
    chat_fixture c(snapshot_config());
    c.join_room(1, "alice", "#a");
    std::string body = c.hub.save();
    body.resize(body.size() - 8);
    // The room's one member id (1) is the byte after the member count; make it 2.
    const std::string tail = std::string("\x01\x01\x01", 3);  // 1 member, id 1, op
    const auto at = body.rfind(tail);
    REQUIRE(at != std::string::npos);
    body[at + 1] = 2;
    CHECK(refusal(b.hub, seal_snapshot(body)).find("bad member") != std::string::npos);
  }
  SUBCASE("well-formed but a string with a line break (found by the hub_snapshot fuzzer)") {
    chat_fixture c(snapshot_config());
    c.join_room(1, "alice", "#a");
    std::string body = c.hub.save();
    body.resize(body.size() - 8);
    for (const char bad : {'\n', '\r', '\0'}) {
      std::string broken = body;
      const auto at = broken.find("alice");
      REQUIRE(at != std::string::npos);
      broken[at + 2] = bad;  // "al?ce": the same length, so only the byte is wrong
      CAPTURE(static_cast<int>(bad));
      CHECK(refusal(b.hub, seal_snapshot(broken)) == "forbidden byte in a string");
    }
  }
  SUBCASE("well-formed but inconsistent: a huge count") {
    std::string body = "SIMULHUB";
    body += '\x01';                                           // version
    body += std::string("\x00\x01", 2);                       // max users, next serial
    body += std::string("\xff\xff\xff\xff\x0f", 5);           // clients: 2^32-1
    CHECK(refusal(b.hub, seal_snapshot(body)) == "bad count");
  }
  CHECK(b.hub.save() == before);
  CHECK(b.hub.nick(9) == "zed");
}

TEST_CASE("set_time: the hub reads the time it was given, not its clock, until reset") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.hub.set_time(1234);
  f.send(1, "TOPIC #a :hello");
  f.clear_all();
  f.send(1, "TOPIC #a");
  auto got = f.take(1);
  REQUIRE(got.size() == 2);
  CHECK(got[1].ends_with(" 1234"));
  f.hub.set_time(std::nullopt);
  f.send(1, "TOPIC #a :again");
  f.clear_all();
  f.send(1, "TOPIC #a");
  got = f.take(1);
  REQUIRE(got.size() == 2);
  CHECK(got[1].ends_with(" " + std::to_string(f.now)));
}
