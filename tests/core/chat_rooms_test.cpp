// chat_hub: JOIN, PART, TOPIC, NAMES, LIST and room lifetime.
#include <doctest/doctest.h>

#include <algorithm>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("JOIN answers the joiner with JOIN, 353 and 366, and no 331 when there is no topic") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "JOIN #Room");
  CHECK(f.take(1) == lines{
                         ":alice!alice@127.0.0.1 JOIN #Room",
                         ":irc.test 353 alice = #Room :@alice",
                         ":irc.test 366 alice #Room :End of NAMES list",
                     });
  CHECK(f.hub.rooms() == 1);
}

TEST_CASE("JOIN is echoed to every member, the joiner included, as one shared buffer") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.join_server(3, "carol");
  auto out = f.send(3, "join #A");
  REQUIRE(!out.deliveries.empty());
  const auto& join = out.deliveries.front();
  CHECK(*join.line == ":carol!carol@127.0.0.1 JOIN #a\r\n");
  CHECK(join.to == std::vector<client_id>{1, 2, 3});
  CHECK(f.take(3)[1] == ":irc.test 353 carol = #a :@alice bob carol");
}

TEST_CASE("JOIN shows the topic with 332 and 333 when one is set") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.send(1, "TOPIC #a :the topic");
  f.join_server(2, "bob");
  f.send(2, "JOIN #a");
  auto got = f.take(2);
  REQUIRE(got.size() == 5);
  CHECK(got[1] == ":irc.test 332 bob #a :the topic");
  CHECK(got[2] == ":irc.test 333 bob #a alice 1700000000");
}

TEST_CASE("JOIN with a list joins each room, and joining again is ignored") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "JOIN #a,#b");
  CHECK(chat_fixture::commands(f.take(1)) ==
        std::vector<std::string>{"JOIN", "353", "366", "JOIN", "353", "366"});
  f.send(1, "JOIN #A");
  CHECK(f.take(1).empty());
  CHECK(f.hub.rooms() == 2);
}

TEST_CASE("JOIN of an invalid room name is 403 No such channel") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "JOIN nohash");
  CHECK(f.take(1) == lines{":irc.test 403 alice nohash :No such channel"});
  f.send(1, "JOIN #" + std::string(30, 'x'));
  CHECK(chat_fixture::commands(f.take(1)) == std::vector<std::string>{"403"});
  CHECK(f.hub.rooms() == 0);
}

TEST_CASE("JOIN without a parameter is 461") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "JOIN");
  CHECK(f.take(1) == lines{":irc.test 461 alice JOIN :Not enough parameters"});
}

TEST_CASE("JOIN 0 parts every room") {
  chat_fixture f;
  f.join_room(1, "alice", "#a,#b");
  f.join_room(2, "bob", "#b");
  f.send(1, "JOIN 0");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 PART #a", ":alice!alice@127.0.0.1 PART #b"});
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 PART #b"});
  CHECK(f.hub.rooms() == 1);
}

TEST_CASE("a room limit, when configured, refuses more rooms with 405") {
  auto cfg = test_config();
  cfg.max_rooms_per_user = 1;
  chat_fixture f(cfg);
  f.join_room(1, "alice", "#a");
  f.send(1, "JOIN #b");
  CHECK(f.take(1) == lines{":irc.test 405 alice #b :You have joined too many channels"});
}

TEST_CASE("PART is seen by all members including the parter, with its reason") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.join_server(3, "carol");
  f.send(2, "PART #a :see you");
  CHECK(f.take(1) == lines{":bob!bob@127.0.0.1 PART #a :see you"});
  CHECK(f.take(2) == lines{":bob!bob@127.0.0.1 PART #a :see you"});
  CHECK(f.take(3).empty());
}

TEST_CASE("PART of a room one is not in is 442, of a missing room 403, without a room 461") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_server(2, "bob");
  f.send(2, "PART #a");
  CHECK(f.take(2) == lines{":irc.test 442 bob #a :You're not on that channel"});
  f.send(2, "PART #nowhere");
  CHECK(f.take(2) == lines{":irc.test 403 bob #nowhere :No such channel"});
  f.send(2, "PART");
  CHECK(f.take(2) == lines{":irc.test 461 bob PART :Not enough parameters"});
}

TEST_CASE("a room is deleted when its last member leaves") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  REQUIRE(f.hub.rooms() == 1);
  f.send(1, "PART #a");
  CHECK(f.hub.rooms() == 0);
  f.join_room(1, "alice", "#b");
  f.collect(f.hub.disconnect(1, "gone"));
  CHECK(f.hub.rooms() == 0);
}

TEST_CASE("a recreated room forgets its old topic") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.send(1, "TOPIC #a :old");
  f.send(1, "PART #a");
  f.take(1);
  f.send(1, "JOIN #a");
  CHECK(chat_fixture::commands(f.take(1)) == std::vector<std::string>{"JOIN", "353", "366"});
  f.send(1, "TOPIC #a");
  CHECK(f.take(1) == lines{":irc.test 331 alice #a :No topic is set"});
}

TEST_CASE("TOPIC sets and broadcasts the topic to all members; a query returns 332 and 333, or 331") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(2, "TOPIC #a");
  CHECK(f.take(2) == lines{":irc.test 331 bob #a :No topic is set"});
  f.now += 5;
  f.send(1, "TOPIC #A :Hello world");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 TOPIC #a :Hello world"});
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 TOPIC #a :Hello world"});
  f.send(2, "TOPIC #a");
  CHECK(f.take(2) == lines{":irc.test 332 bob #a :Hello world", ":irc.test 333 bob #a alice 1700000005"});
}

TEST_CASE("TOPIC errors: 461 without a room, 403 for a missing room, 442 to set it from outside") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_server(2, "bob");
  f.send(2, "TOPIC");
  CHECK(f.take(2) == lines{":irc.test 461 bob TOPIC :Not enough parameters"});
  f.send(2, "TOPIC #none");
  CHECK(f.take(2) == lines{":irc.test 403 bob #none :No such channel"});
  f.send(2, "TOPIC #a :mine");
  CHECK(f.take(2) == lines{":irc.test 442 bob #a :You're not on that channel"});
  CHECK(f.take(1).empty());
}

TEST_CASE("NAMES lists a room's members then 366; a missing room gets only 366") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(2, "NAMES #a,#zzz");
  CHECK(f.take(2) == lines{
                         ":irc.test 353 bob = #a :@alice bob",
                         ":irc.test 366 bob #a :End of NAMES list",
                         ":irc.test 366 bob #zzz :End of NAMES list",
                     });
}

TEST_CASE("NAMES of a big room is split over several 353 lines within max_line_bytes") {
  chat_fixture f;
  for (client_id id = 1; id <= 120; ++id) f.join_room(id, "user" + std::to_string(id), "#big");
  f.send(1, "NAMES #big");
  auto got = f.take(1);
  REQUIRE(got.size() > 2);
  std::size_t names = 0;
  for (std::size_t i = 0; i + 1 < got.size(); ++i) {
    REQUIRE(got[i].rfind(":irc.test 353 user1 = #big :", 0) == 0);
    CHECK(got[i].size() + 2 <= 512);
    auto list = got[i].substr(got[i].find(" :") + 2);
    names += static_cast<std::size_t>(std::count(list.begin(), list.end(), ' ')) + 1;
  }
  CHECK(names == 120);
  CHECK(got.back() == ":irc.test 366 user1 #big :End of NAMES list");
}

TEST_CASE("LIST shows 321, one 322 per room with its user count and topic, 323") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(1, "TOPIC #a :talk");
  f.take(1);
  f.send(1, "LIST");
  CHECK(f.take(1) == lines{
                         ":irc.test 321 alice Channel :Users  Name",
                         ":irc.test 322 alice #a 2 :talk",
                         ":irc.test 323 alice :End of LIST",
                     });
  f.join_room(3, "carol", "#b");
  f.send(3, "LIST #b,#none");
  CHECK(f.take(3) == lines{
                         ":irc.test 321 carol Channel :Users  Name",
                         ":irc.test 322 carol #b 1 :",
                         ":irc.test 323 carol :End of LIST",
                     });
}

TEST_CASE("client id 0 is a client like any other: it sees its own JOIN and its room's messages") {
  chat_fixture f;
  f.join_server(0, "zero");
  f.join_server(1, "one");
  f.send(0, "JOIN #z");
  CHECK(f.take(0).front() == ":zero!zero@127.0.0.1 JOIN #z");
  f.send(1, "JOIN #z");
  f.take(0);
  f.take(1);
  f.send(1, "PRIVMSG #z :hi");
  CHECK(f.take(0) == lines{":one!one@127.0.0.1 PRIVMSG #z :hi"});
}
