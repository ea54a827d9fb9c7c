// chat_hub: MODE, WHO, WHOIS, USERHOST, ISON, MOTD and LUSERS.
#include <doctest/doctest.h>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("MODE on a room answers 324 with its modes (+n and +t by default) and 329 with its creation time") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.send(1, "MODE #A");
  CHECK(f.take(1) == lines{":irc.test 324 alice #a +nt", ":irc.test 329 alice #a 1700000000"});
}

TEST_CASE("MODE b on a room answers an empty ban list with 368") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.send(1, "MODE #a b");
  CHECK(f.take(1) == lines{":irc.test 368 alice #a :End of channel ban list"});
}

TEST_CASE("changing a room's modes is 482 for a member who is not its operator") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(2, "MODE #a -t");
  CHECK(f.take(2) == lines{":irc.test 482 bob #a :You're not channel operator"});
  CHECK(f.take(1).empty());
}

TEST_CASE("MODE on a missing room is 403, without a target 461") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "MODE #none");
  CHECK(f.take(1) == lines{":irc.test 403 alice #none :No such channel"});
  f.send(1, "MODE");
  CHECK(f.take(1) == lines{":irc.test 461 alice MODE :Not enough parameters"});
}

TEST_CASE("MODE on one's own nick answers 221 and accepts +i, echoing the change") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "MODE alice");
  CHECK(f.take(1) == lines{":irc.test 221 alice +"});
  f.send(1, "MODE alice +i");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE alice :+i"});
  f.send(1, "MODE Alice +i");
  CHECK(f.take(1).empty());
  f.send(1, "MODE alice");
  CHECK(f.take(1) == lines{":irc.test 221 alice +i"});
}

TEST_CASE("an unknown user mode flag is 501, another user's modes 502, a missing nick 401") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(1, "MODE alice +z");
  CHECK(f.take(1) == lines{":irc.test 501 alice :Unknown MODE flag"});
  f.send(1, "MODE bob");
  CHECK(f.take(1) == lines{":irc.test 502 alice :Cant change mode for other users"});
  f.send(1, "MODE ghost");
  CHECK(f.take(1) == lines{":irc.test 401 alice ghost :No such nick/channel"});
}

TEST_CASE("WHO on a room lists each member with 352 then 315") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(2, "WHO #a");
  CHECK(f.take(2) == lines{
                         ":irc.test 352 bob #a alice 127.0.0.1 irc.test alice H@ :0 Real alice",
                         ":irc.test 352 bob #a bob 127.0.0.1 irc.test bob H :0 Real bob",
                         ":irc.test 315 bob #a :End of WHO list",
                     });
}

TEST_CASE("WHO on a nick answers one 352 with * as the room; unknown masks only 315") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "WHO ALICE");
  CHECK(f.take(1) == lines{
                         ":irc.test 352 alice * alice 127.0.0.1 irc.test alice H :0 Real alice",
                         ":irc.test 315 alice ALICE :End of WHO list",
                     });
  f.send(1, "WHO #none");
  CHECK(f.take(1) == lines{":irc.test 315 alice #none :End of WHO list"});
  f.send(1, "WHO");
  CHECK(f.take(1) == lines{":irc.test 315 alice * :End of WHO list"});
}

TEST_CASE("WHOIS answers 311, 319, 312, 317, 318; a missing nick 401 and 318; no nick 431") {
  chat_fixture f;
  f.join_room(1, "alice", "#a,#b");
  f.join_server(2, "bob");
  f.send(2, "WHOIS alice");
  CHECK(f.take(2) == lines{
                         ":irc.test 311 bob alice alice 127.0.0.1 * :Real alice",
                         ":irc.test 319 bob alice :@#a @#b",
                         ":irc.test 312 bob alice irc.test :TestNet",
                         ":irc.test 317 bob alice 0 1700000000 :seconds idle, signon time",
                         ":irc.test 318 bob alice :End of WHOIS list",
                     });
  f.send(2, "WHOIS ghost");
  CHECK(f.take(2) == lines{
                         ":irc.test 401 bob ghost :No such nick/channel",
                         ":irc.test 318 bob ghost :End of WHOIS list",
                     });
  f.send(2, "WHOIS");
  CHECK(f.take(2) == lines{":irc.test 431 bob :No nickname given"});
}

TEST_CASE("USERHOST answers 302 with the nicks that exist") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(1, "USERHOST bob ghost");
  CHECK(f.take(1) == lines{":irc.test 302 alice :bob=+bob@127.0.0.1"});
  f.send(1, "USERHOST");
  CHECK(f.take(1) == lines{":irc.test 461 alice USERHOST :Not enough parameters"});
}

TEST_CASE("ISON answers 303 with the nicks that are online") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(1, "ISON :BOB ghost alice");
  CHECK(f.take(1) == lines{":irc.test 303 alice :bob alice"});
  f.send(1, "ISON ghost");
  CHECK(f.take(1) == lines{":irc.test 303 alice :"});
}

TEST_CASE("MOTD sends the message of the day again, or 422 when there is none") {
  auto cfg = test_config();
  cfg.motd = "only line";
  chat_fixture f(cfg);
  f.join_server(1, "alice");
  f.send(1, "MOTD");
  CHECK(chat_fixture::commands(f.take(1)) == std::vector<std::string>{"375", "372", "376"});
  chat_fixture g;
  g.join_server(1, "alice");
  g.send(1, "MOTD");
  CHECK(g.take(1) == lines{":irc.test 422 alice :MOTD File is missing"});
}

TEST_CASE("LUSERS counts users, unknown connections and rooms") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_server(2, "bob");
  f.connect(3);
  f.send(1, "LUSERS");
  CHECK(f.take(1) == lines{
                         ":irc.test 251 alice :There are 2 users and 0 invisible on 1 servers",
                         ":irc.test 253 alice 1 :unknown connection(s)",
                         ":irc.test 254 alice 1 :channels formed",
                         ":irc.test 255 alice :I have 2 clients and 0 servers",
                         ":irc.test 265 alice 2 2 :Current local users 2, max 2",
                         ":irc.test 266 alice 2 2 :Current global users 2, max 2",
                     });
}

TEST_CASE("with max_line_bytes at min_line_bytes no reply cuts a nick, host or room name") {
  // Found by tests/fuzz/chat_session_fuzz.cpp: a 64-byte line limit with long nicks allowed
  // cut the nick in 001, so the client was told a nick that was not its own.
  hub_config c = test_config();
  c.nick_len = 40;
  c.channel_len = 60;
  c.max_line_bytes = min_line_bytes(c);
  CHECK(c.max_line_bytes > 200);
  CHECK(min_line_bytes(test_config()) < 512);  // the defaults fit with room to spare
  chat_fixture f(c);
  const std::string nick(40, 'n'), room = "#" + std::string(59, 'r'), host(max_host_len + 10, 'h');
  f.hub.connect(1, host);
  f.send(1, "NICK " + nick);
  f.send(1, "USER uuuuuuuuuuuuuuuu 0 * :" + std::string(100, 'R'));
  REQUIRE(f.hub.is_registered(1));
  const auto welcome = f.take(1);
  CHECK(welcome[0].starts_with(":irc.test 001 " + nick + " :"));
  CHECK(welcome[4].ends_with(" :are supported by this server"));  // 005 whole
  f.send(1, "JOIN " + room);
  f.take(1);
  f.send(1, "WHO " + room);
  const auto who = f.take(1);
  REQUIRE(who.size() == 2);
  const std::string shown_host(max_host_len, 'h');
  CHECK(who[0].starts_with(":irc.test 352 " + nick + " " + room + " uuuuuuuuuuuuuuuu " + shown_host +
                           " irc.test " + nick + " H@ :0 "));
  CHECK(who[0].size() + 2 <= c.max_line_bytes);
}
