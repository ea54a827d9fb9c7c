// chat_hub: JOIN with keys and limits, KICK and INVITE (invite-only rooms).
#include <doctest/doctest.h>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("+k: JOIN needs the key (475 without it or with a wrong one); keys pair with rooms in order") {
  room_of_three f;
  f.send(1, "MODE #a +k sesame");
  f.join_room(4, "dave", "#b");
  f.clear_all();
  f.send(3, "JOIN #a");
  CHECK(f.take(3) == lines{":irc.test 475 carol #a :Cannot join channel (+k)"});
  f.send(3, "JOIN #a wrong");
  CHECK(f.take(3) == lines{":irc.test 475 carol #a :Cannot join channel (+k)"});
  CHECK(f.take(1).empty());
  f.send(3, "JOIN #a,#b sesame");
  CHECK(chat_fixture::commands(f.take(3)) == std::vector<std::string>{"JOIN", "353", "366", "JOIN", "353", "366"});
  CHECK(f.take(1) == lines{":carol!carol@127.0.0.1 JOIN #a"});
  CHECK(f.take(4) == lines{":carol!carol@127.0.0.1 JOIN #b"});
}

TEST_CASE("+l: JOIN of a full room is 471") {
  room_of_three f;
  f.send(1, "MODE #a +l 2");
  f.clear_all();
  f.send(3, "JOIN #a");
  CHECK(f.take(3) == lines{":irc.test 471 carol #a :Cannot join channel (+l)"});
  CHECK(f.take(1).empty());
}

TEST_CASE("+i: JOIN without an invitation is 473") {
  room_of_three f;
  f.send(1, "MODE #a +i");
  f.clear_all();
  f.send(3, "JOIN #a");
  CHECK(f.take(3) == lines{":irc.test 473 carol #a :Cannot join channel (+i)"});
  CHECK(f.take(1).empty());
  CHECK(f.take(2).empty());
}

TEST_CASE("INVITE: the inviter gets 341, the invited an INVITE line, nobody else anything") {
  room_of_three f;
  f.send(1, "MODE #a +i");
  f.clear_all();
  f.send(1, "INVITE carol #a");
  CHECK(f.take(1) == lines{":irc.test 341 alice carol #a"});
  CHECK(f.take(3) == lines{":alice!alice@127.0.0.1 INVITE carol #a"});
  CHECK(f.take(2).empty());
  f.send(3, "JOIN #a");
  CHECK(chat_fixture::commands(f.take(3)) == std::vector<std::string>{"JOIN", "353", "366"});
  CHECK(f.take(2) == lines{":carol!carol@127.0.0.1 JOIN #a"});
}

TEST_CASE("an invitation is used up by the JOIN and also lets an invited user past a ban") {
  room_of_three f;
  f.send(1, "MODE #a +ib carol");
  f.send(1, "INVITE carol #a");
  f.send(3, "JOIN #a");
  f.send(3, "PART #a");
  f.clear_all();
  f.send(3, "JOIN #a");
  CHECK(f.take(3) == lines{":irc.test 474 carol #a :Cannot join channel (+b)"});
}

TEST_CASE("INVITE errors: 461, 401, 403, 442, 443, and 482 into a +i room for non-operators") {
  room_of_three f;
  f.send(2, "INVITE carol");
  CHECK(f.take(2) == lines{":irc.test 461 bob INVITE :Not enough parameters"});
  f.send(2, "INVITE ghost #a");
  CHECK(f.take(2) == lines{":irc.test 401 bob ghost :No such nick/channel"});
  f.send(2, "INVITE carol #none");
  CHECK(f.take(2) == lines{":irc.test 403 bob #none :No such channel"});
  f.send(3, "INVITE bob #a");
  CHECK(f.take(3) == lines{":irc.test 442 carol #a :You're not on that channel"});
  f.send(2, "INVITE alice #a");
  CHECK(f.take(2) == lines{":irc.test 443 bob alice #a :is already on channel"});
  f.send(1, "MODE #a +i");
  f.clear_all();
  f.send(2, "INVITE carol #a");
  CHECK(f.take(2) == lines{":irc.test 482 bob #a :You're not channel operator"});
  CHECK(f.take(3).empty());
}

TEST_CASE("a member may INVITE into a room that is not +i") {
  room_of_three f;
  f.send(2, "INVITE carol #a");
  CHECK(f.take(2) == lines{":irc.test 341 bob carol #a"});
  CHECK(f.take(3) == lines{":bob!bob@127.0.0.1 INVITE carol #a"});
}

TEST_CASE("INVITE of an away user also answers 301 with the away message") {
  room_of_three f;
  f.send(3, "AWAY :at lunch");
  f.clear_all();
  f.send(1, "INVITE carol #a");
  CHECK(f.take(1) == lines{":irc.test 341 alice carol #a", ":irc.test 301 alice carol :at lunch"});
}

TEST_CASE("KICK is seen by every member, the kicked one included, who then is out of the room") {
  room_of_three f;
  f.send(1, "KICK #a bob :behave");
  const lines want{":alice!alice@127.0.0.1 KICK #a bob :behave"};
  CHECK(f.take(1) == want);
  CHECK(f.take(2) == want);
  CHECK(f.take(3).empty());
  f.send(1, "PRIVMSG #a :still there?");
  CHECK(f.take(2).empty());
  f.send(2, "PRIVMSG #a :let me in");
  CHECK(f.take(2) == lines{":irc.test 404 bob #a :Cannot send to channel"});
}

TEST_CASE("KICK without a reason uses the kicker's nick; several nicks kick each of them") {
  room_of_three f;
  f.join_room(3, "carol", "#a");
  f.send(1, "KICK #a bob,carol");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 KICK #a bob :alice", ":alice!alice@127.0.0.1 KICK #a carol :alice"});
  CHECK(f.take(3) == lines{":alice!alice@127.0.0.1 KICK #a bob :alice", ":alice!alice@127.0.0.1 KICK #a carol :alice"});
  f.send(1, "NAMES #a");
  CHECK(f.take(1)[0] == ":irc.test 353 alice = #a :@alice");
}

TEST_CASE("KICK with as many rooms as nicks pairs them up") {
  room_of_three f;
  f.join_room(2, "bob", "#b");
  f.send(2, "KICK #b,#a bob,alice");
  CHECK(f.take(2) == lines{
                         ":bob!bob@127.0.0.1 KICK #b bob :bob",
                         ":irc.test 482 bob #a :You're not channel operator",
                     });
  CHECK(f.hub.rooms() == 1);  // #b was deleted when its last member left
}

TEST_CASE("KICK errors: 461, 403, 442, 482, 401, 441; nobody else hears of them") {
  room_of_three f;
  f.send(1, "KICK #a");
  CHECK(f.take(1) == lines{":irc.test 461 alice KICK :Not enough parameters"});
  f.send(1, "KICK #none bob");
  CHECK(f.take(1) == lines{":irc.test 403 alice #none :No such channel"});
  f.send(3, "KICK #a bob");
  CHECK(f.take(3) == lines{":irc.test 442 carol #a :You're not on that channel"});
  f.send(2, "KICK #a alice");
  CHECK(f.take(2) == lines{":irc.test 482 bob #a :You're not channel operator"});
  f.send(1, "KICK #a ghost");
  CHECK(f.take(1) == lines{":irc.test 401 alice ghost :No such nick/channel"});
  f.send(1, "KICK #a carol");
  CHECK(f.take(1) == lines{":irc.test 441 alice carol #a :They aren't on that channel"});
  CHECK(f.take(2).empty());
  CHECK(f.take(3).empty());
}

TEST_CASE("a kicked operator loses the status: rejoining a room that exists does not make one op") {
  room_of_three f;
  f.send(1, "MODE #a +o bob");
  f.send(2, "KICK #a alice");
  f.send(1, "JOIN #a");
  f.clear_all();
  f.send(1, "NAMES #a");
  CHECK(f.take(1)[0] == ":irc.test 353 alice = #a :@bob alice");
}
