// chat_hub: PRIVMSG/NOTICE delivery, NICK changes, QUIT, disconnects and error replies.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("a room PRIVMSG is one shared buffer for every other member, not echoed to the sender") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.join_room(3, "carol", "#a");
  f.join_server(4, "dave");  // not in #a
  f.join_room(5, "eve", "#other");
  auto out = f.send(1, "PRIVMSG #a :hello all");
  REQUIRE(out.deliveries.size() == 1);
  CHECK(out.deliveries[0].to == std::vector<client_id>{2, 3});
  CHECK(*out.deliveries[0].line == ":alice!alice@127.0.0.1 PRIVMSG #a :hello all\r\n");
  CHECK(f.take(1).empty());
  CHECK(f.take(4).empty());
  CHECK(f.take(5).empty());
}

TEST_CASE("successive broadcasts reuse nothing by accident: each message is its own buffer") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  auto a = f.hub.on_line(1, "PRIVMSG #a :one");
  auto b = f.hub.on_line(1, "PRIVMSG #a :two");
  REQUIRE(a.deliveries.size() == 1);
  REQUIRE(b.deliveries.size() == 1);
  CHECK(a.deliveries[0].line.get() != b.deliveries[0].line.get());
  CHECK(*a.deliveries[0].line == ":alice!alice@127.0.0.1 PRIVMSG #a :one\r\n");
}

TEST_CASE("a PRIVMSG to a nick reaches only that user, whatever the case of the nick") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.join_server(2, "Bob");
  f.join_server(3, "carol");
  f.send(1, "PRIVMSG BOB :psst");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 PRIVMSG Bob :psst"});
  CHECK(f.take(1).empty());
  CHECK(f.take(3).empty());
}

TEST_CASE("a single-word message is still sent with a trailing colon") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(1, "PRIVMSG bob hi");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 PRIVMSG bob :hi"});
}

TEST_CASE("a comma list of targets delivers to each of them") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.join_server(3, "carol");
  f.send(1, "PRIVMSG #a,carol :both");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 PRIVMSG #a :both"});
  CHECK(f.take(3) == lines{":alice!alice@127.0.0.1 PRIVMSG carol :both"});
}

TEST_CASE("more than four targets: the extra ones get 407 and no delivery") {
  chat_fixture f;
  f.join_server(1, "alice");
  for (client_id id = 2; id <= 6; ++id) f.join_server(id, "u" + std::to_string(id));
  f.send(1, "PRIVMSG u2,u3,u4,u5,u6 :x");
  CHECK(f.take(1) == lines{":irc.test 407 alice u6 :Too many recipients"});
  CHECK(f.take(5).size() == 1);
  CHECK(f.take(6).empty());
}

TEST_CASE("a PRIVMSG to a missing nick or room is 401 No such nick/channel") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "PRIVMSG ghost :hi");
  CHECK(f.take(1) == lines{":irc.test 401 alice ghost :No such nick/channel"});
  f.send(1, "PRIVMSG #ghost :hi");
  CHECK(f.take(1) == lines{":irc.test 401 alice #ghost :No such nick/channel"});
}

TEST_CASE("a PRIVMSG to an unregistered connection's nick is 401") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.connect(2);
  f.send(2, "NICK halfway");
  f.send(1, "PRIVMSG halfway :hi");
  CHECK(f.take(1) == lines{":irc.test 401 alice halfway :No such nick/channel"});
  CHECK(f.take(2).empty());
}

TEST_CASE("sending to a room one is not in is 404 and nobody in it receives anything") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_server(2, "bob");
  f.send(2, "PRIVMSG #a :let me in");
  CHECK(f.take(2) == lines{":irc.test 404 bob #a :Cannot send to channel"});
  CHECK(f.take(1).empty());
}

TEST_CASE("PRIVMSG without a target is 411, without text 412") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "PRIVMSG");
  CHECK(f.take(1) == lines{":irc.test 411 alice :No recipient given (PRIVMSG)"});
  f.send(1, "PRIVMSG alice");
  CHECK(f.take(1) == lines{":irc.test 412 alice :No text to send"});
  f.send(1, "PRIVMSG alice :");
  CHECK(f.take(1) == lines{":irc.test 412 alice :No text to send"});
}

TEST_CASE("NOTICE is delivered like PRIVMSG but never causes an error reply") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.join_server(3, "carol");
  f.send(1, "NOTICE #a :note");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 NOTICE #a :note"});
  for (auto line : {"NOTICE", "NOTICE #a", "NOTICE ghost :x", "NOTICE #ghost :x"}) {
    f.send(1, line);
    CHECK_MESSAGE(f.take(1).empty(), line);
  }
  f.send(3, "NOTICE #a :outside");
  CHECK(f.take(3).empty());
  CHECK(f.take(1).empty());
}

TEST_CASE("a message made too long by the sender's prefix is truncated to max_line_bytes") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  const std::string text(510 - std::string("PRIVMSG #a :").size(), 'x');  // a maximal input line
  f.send(1, "PRIVMSG #a :" + text);
  auto got = f.take(2);
  REQUIRE(got.size() == 1);
  CHECK(got[0].size() == 510);
  CHECK(got[0].rfind(":alice!alice@127.0.0.1 PRIVMSG #a :xxxx", 0) == 0);
}

TEST_CASE("a NICK change is seen once by everyone sharing a room and by the user, not by others") {
  chat_fixture f;
  f.join_room(1, "alice", "#a,#b");
  f.join_room(2, "bob", "#a,#b");
  f.join_server(3, "carol");
  f.send(1, "NICK alicia");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 NICK :alicia"});
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 NICK :alicia"});
  CHECK(f.take(3).empty());
  f.send(2, "PRIVMSG alicia :found you");
  CHECK(f.take(1) == lines{":bob!bob@127.0.0.1 PRIVMSG alicia :found you"});
  f.send(3, "NICK alice");  // the old nick is free
  CHECK(f.take(3) == lines{":carol!carol@127.0.0.1 NICK :alice"});
}

TEST_CASE("a NICK change to a different case of one's own nick is allowed; the same nick is a no-op") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "NICK alice");
  CHECK(f.take(1).empty());
  f.send(1, "NICK ALICE");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 NICK :ALICE"});
  CHECK(f.hub.nick(1) == "ALICE");
}

TEST_CASE("QUIT: peers sharing a room see it once, the quitter gets ERROR and close is set") {
  chat_fixture f;
  f.join_room(1, "alice", "#a,#b");
  f.join_room(2, "bob", "#a,#b");
  f.join_server(3, "carol");
  auto out = f.send(1, "QUIT :bye now");
  CHECK(out.close);
  CHECK(f.take(1) == lines{"ERROR :Closing Link: 127.0.0.1 (bye now)"});
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 QUIT :bye now"});
  CHECK(f.take(3).empty());
  CHECK(f.hub.connections() == 2);
  CHECK(f.hub.rooms() == 2);
  CHECK(f.hub.disconnect(1, "eof").deliveries.empty());  // already gone
}

TEST_CASE("QUIT without a reason uses Client Quit, and works before registration") {
  chat_fixture f;
  f.connect(1);
  auto out = f.send(1, "QUIT");
  CHECK(out.close);
  CHECK(f.take(1) == lines{"ERROR :Closing Link: 127.0.0.1 (Client Quit)"});
  CHECK(f.hub.connections() == 0);
}

TEST_CASE("a vanished connection's peers see QUIT with the given reason") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  auto out = f.hub.disconnect(1, "Ping timeout");
  f.collect(out);
  CHECK_FALSE(out.close);
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 QUIT :Ping timeout"});
  CHECK(f.take(1).empty());
}

TEST_CASE("make_error_and_close sends ERROR, tells peers and asks for a close") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  auto out = f.hub.make_error_and_close(1, "SendQ exceeded");
  f.collect(out);
  CHECK(out.close);
  CHECK(f.take(1) == lines{"ERROR :SendQ exceeded"});
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 QUIT :SendQ exceeded"});
  CHECK_FALSE(f.hub.is_registered(1));
}

TEST_CASE("shutdown sends one shared ERROR to every connection and clears all state") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.connect(3);
  auto out = f.hub.shutdown("Server shutting down");
  REQUIRE(out.deliveries.size() == 1);
  CHECK(*out.deliveries[0].line == "ERROR :Server shutting down\r\n");
  CHECK(out.deliveries[0].to == std::vector<client_id>{1, 2, 3});
  CHECK(out.close);
  CHECK(f.hub.connections() == 0);
  CHECK(f.hub.rooms() == 0);
}

TEST_CASE("make_ping builds PING with the server name") {
  chat_fixture f;
  CHECK(*f.hub.make_ping() == "PING :irc.test\r\n");
}

TEST_CASE("PING is answered with PONG, without a token with 409, and PONG is accepted silently") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "PING :LAG123");
  CHECK(f.take(1) == lines{":irc.test PONG irc.test :LAG123"});
  f.send(1, "PING");
  CHECK(f.take(1) == lines{":irc.test 409 alice :No origin specified"});
  f.send(1, "PONG :irc.test");
  CHECK(f.take(1).empty());
}

TEST_CASE("an unknown command after registration is 421") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "FROBNICATE now");
  CHECK(f.take(1) == lines{":irc.test 421 alice FROBNICATE :Unknown command"});
  f.send(1, "123 x");
  CHECK(f.take(1) == lines{":irc.test 421 alice 123 :Unknown command"});
}

TEST_CASE("an overlong input line is answered with 417 and the connection stays") {
  chat_fixture f;
  f.connect(1);
  f.collect(f.hub.on_line_too_long(1));
  CHECK(f.take(1) == lines{":irc.test 417 * :Input line was too long"});
  f.join_server(2, "bob");
  auto out = f.hub.on_line_too_long(2);
  f.collect(out);
  CHECK_FALSE(out.close);
  CHECK(f.take(2) == lines{":irc.test 417 bob :Input line was too long"});
  CHECK(f.hub.is_registered(2));
}

TEST_CASE("malformed lines get error replies: NUL is 400, a junk command 421, an empty line nothing") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, std::string("PRIVMSG #a :x\0y", 15));
  CHECK(f.take(1) == lines{":irc.test 400 alice * :forbidden byte in line"});
  f.send(1, "PRIVMSG #a :x\ry");
  CHECK(f.take(1) == lines{":irc.test 400 alice * :forbidden byte in line"});
  f.send(1, ": NICK x");
  CHECK(f.take(1) == lines{":irc.test 400 alice * :malformed prefix"});
  f.send(1, "@tag=1 :pre N1CK x");
  CHECK(f.take(1) == lines{":irc.test 421 alice N1CK :Unknown command"});
  f.send(1, "   ");
  CHECK(f.take(1).empty());
  f.send(1, "A 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16");
  CHECK(f.take(1) == lines{":irc.test 400 alice * :too many parameters"});
}

TEST_CASE("a malformed command before registration is 451") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "\x01\x02 junk");
  CHECK(f.take(1) == lines{":irc.test 451 * :You have not registered"});
}

TEST_CASE("random binary lines never crash the hub and every reply is a well-formed line") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.connect(3);
  std::uint64_t x = 88172645463325252ull;  // xorshift: deterministic junk
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const char* words[] = {"PRIVMSG", "JOIN", "PART", "NICK", "USER", "MODE", "WHO", "TOPIC",
                         "#a",      ",",    ":",    " ",    "alice", "bob", "0",    "CAP"};
  for (int i = 0; i < 5000; ++i) {
    std::string line;
    const auto len = next() % 40;
    for (std::uint64_t j = 0; j < len; ++j) {
      if (next() % 3 == 0) {
        line += words[next() % 16];
      } else {
        line.push_back(static_cast<char>(next() % 256));
      }
    }
    const client_id who = 1 + next() % 3;
    if (f.hub.nick(who).empty()) f.connect(who);
    f.send(who, line.substr(0, 510));
  }
  CHECK(f.hub.connections() <= 3);
}
