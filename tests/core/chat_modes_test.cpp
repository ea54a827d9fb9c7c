// chat_hub: channel operators and voice, channel modes (n t m i s k l b) and user modes (i w o).
#include <doctest/doctest.h>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("the first member of a new room is its operator, later ones are not") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_server(2, "bob");
  f.send(2, "JOIN #a");
  CHECK(f.take(2)[1] == ":irc.test 353 bob = #a :@alice bob");
}

TEST_CASE("MODE +o gives operator status, broadcast to every member and nobody else") {
  room_of_three f;
  f.send(1, "MODE #a +o bob");
  const lines want{":alice!alice@127.0.0.1 MODE #a +o bob"};
  CHECK(f.take(1) == want);
  CHECK(f.take(2) == want);
  CHECK(f.take(3).empty());
  f.send(2, "NAMES #a");
  CHECK(f.take(2)[0] == ":irc.test 353 bob = #a :@alice @bob");
}

TEST_CASE("MODE -o and +v/-v change prefixes; several changes are one MODE line") {
  room_of_three f;
  f.send(1, "MODE #a +ov bob bob");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 MODE #a +ov bob bob"});
  f.clear_all();
  f.send(1, "MODE #a -o+t bob");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE #a -o bob"});  // +t was already set
  f.clear_all();
  f.send(2, "NAMES #a");
  CHECK(f.take(2)[0] == ":irc.test 353 bob = #a :@alice +bob");
  f.send(1, "MODE #a -v bob");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 MODE #a -v bob"});
}

TEST_CASE("setting a mode that is already set broadcasts nothing") {
  room_of_three f;
  f.send(1, "MODE #a +nt");
  CHECK(f.take(1).empty());
  CHECK(f.take(2).empty());
}

TEST_CASE("+o for a nick not in the room is 441, for a missing nick 401") {
  room_of_three f;
  f.send(1, "MODE #a +o carol");
  CHECK(f.take(1) == lines{":irc.test 441 alice carol #a :They aren't on that channel"});
  f.send(1, "MODE #a +v ghost");
  CHECK(f.take(1) == lines{":irc.test 401 alice ghost :No such nick/channel"});
  CHECK(f.take(2).empty());
}

TEST_CASE("a non-operator gets one 482 for a MODE change, and nothing changes") {
  room_of_three f;
  f.send(2, "MODE #a +mo bob");
  CHECK(f.take(2) == lines{":irc.test 482 bob #a :You're not channel operator"});
  CHECK(f.take(1).empty());
  f.send(2, "MODE #a");
  CHECK(f.take(2)[0] == ":irc.test 324 bob #a +nt");
  f.send(3, "MODE #a +i");
  CHECK(f.take(3) == lines{":irc.test 482 carol #a :You're not channel operator"});
}

TEST_CASE("an unknown channel mode is 472 and the known ones are still applied") {
  room_of_three f;
  f.send(1, "MODE #a +zm");
  CHECK(f.take(1) == lines{
                         ":irc.test 472 alice z :is unknown mode char to me",
                         ":alice!alice@127.0.0.1 MODE #a +m",
                     });
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 MODE #a +m"});
}

TEST_CASE("324 lists flags in order with the key shown to members only, and the limit") {
  room_of_three f;
  f.send(1, "MODE #a +imsk-n secret");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 MODE #a +imsk-n secret"});
  f.send(1, "MODE #a +l 10");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 MODE #a +l 10"});
  f.send(2, "MODE #a");
  CHECK(f.take(2) == lines{":irc.test 324 bob #a +iklmst secret 10", ":irc.test 329 bob #a 1700000000"});
  f.send(3, "MODE #a");
  CHECK(f.take(3) == lines{":irc.test 324 carol #a +iklmst * 10", ":irc.test 329 carol #a 1700000000"});
}

TEST_CASE("+l needs a positive number; -l and -k take effect without a parameter check") {
  room_of_three f;
  f.send(1, "MODE #a +l x");
  CHECK(f.take(1).empty());
  f.send(1, "MODE #a +kl key 5");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE #a +kl key 5"});
  f.send(1, "MODE #a -lk");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE #a -lk *"});
  f.send(1, "MODE #a");
  CHECK(f.take(1)[0] == ":irc.test 324 alice #a +nt");
}

TEST_CASE("+t: only operators set the topic; -t lets every member set it") {
  room_of_three f;
  f.send(2, "TOPIC #a :mine");
  CHECK(f.take(2) == lines{":irc.test 482 bob #a :You're not channel operator"});
  CHECK(f.take(1).empty());
  f.send(1, "MODE #a -t");
  f.clear_all();
  f.send(2, "TOPIC #a :mine");
  CHECK(f.take(1) == lines{":bob!bob@127.0.0.1 TOPIC #a :mine"});
  CHECK(f.take(2) == lines{":bob!bob@127.0.0.1 TOPIC #a :mine"});
  CHECK(f.take(3).empty());
}

TEST_CASE("+n (the default) refuses messages from outside with 404; -n lets them in") {
  room_of_three f;
  f.send(3, "PRIVMSG #a :hi");
  CHECK(f.take(3) == lines{":irc.test 404 carol #a :Cannot send to channel"});
  CHECK(f.take(1).empty());
  f.send(1, "MODE #a -n");
  f.clear_all();
  f.send(3, "PRIVMSG #a :hi");
  CHECK(f.take(3).empty());
  CHECK(f.take(1) == lines{":carol!carol@127.0.0.1 PRIVMSG #a :hi"});
  CHECK(f.take(2) == lines{":carol!carol@127.0.0.1 PRIVMSG #a :hi"});
}

TEST_CASE("+m: only operators and voiced members speak; others get 404") {
  room_of_three f;
  f.send(1, "MODE #a +m");
  f.clear_all();
  f.send(2, "PRIVMSG #a :can I?");
  CHECK(f.take(2) == lines{":irc.test 404 bob #a :Cannot send to channel"});
  CHECK(f.take(1).empty());
  f.send(1, "MODE #a +v bob");
  f.clear_all();
  f.send(2, "PRIVMSG #a :now I can");
  CHECK(f.take(1) == lines{":bob!bob@127.0.0.1 PRIVMSG #a :now I can"});
  f.send(1, "NOTICE #a :ops always can");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 NOTICE #a :ops always can"});
}

TEST_CASE("+s hides a room from LIST, NAMES, WHO and WHOIS for outsiders") {
  room_of_three f;
  f.send(1, "MODE #a +s");
  f.clear_all();
  f.send(3, "LIST");
  CHECK(f.take(3) == lines{":irc.test 321 carol Channel :Users  Name", ":irc.test 323 carol :End of LIST"});
  f.send(3, "NAMES #a");
  CHECK(f.take(3) == lines{":irc.test 366 carol #a :End of NAMES list"});
  f.send(3, "WHO #a");
  CHECK(f.take(3) == lines{":irc.test 315 carol #a :End of WHO list"});
  f.send(3, "WHOIS bob");
  CHECK(chat_fixture::commands(f.take(3)) == std::vector<std::string>{"311", "312", "317", "318"});
  f.send(2, "NAMES #a");
  CHECK(f.take(2)[0] == ":irc.test 353 bob @ #a :@alice bob");  // '@' marks a secret room
  f.send(2, "LIST");
  CHECK(f.take(2)[1] == ":irc.test 322 bob #a 2 :");
}

TEST_CASE("MODE #room b lists bans with 367 and 368; +b and -b are broadcast with the full mask") {
  room_of_three f;
  f.send(1, "MODE #a +b carol");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE #a +b carol!*@*"});
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 MODE #a +b carol!*@*"});
  f.now += 7;
  f.send(1, "MODE #a +b *@10.0.0.9");
  f.clear_all();
  f.send(3, "MODE #a b");
  CHECK(f.take(3) == lines{
                         ":irc.test 367 carol #a carol!*@* alice 1700000000",
                         ":irc.test 367 carol #a *!*@10.0.0.9 alice 1700000007",
                         ":irc.test 368 carol #a :End of channel ban list",
                     });
  f.send(1, "MODE #a -b CAROL!*@*");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE #a -b carol!*@*"});
  f.send(1, "MODE #a +b");
  CHECK(f.take(1) == lines{":irc.test 367 alice #a *!*@10.0.0.9 alice 1700000007",
                           ":irc.test 368 alice #a :End of channel ban list"});
}

TEST_CASE("a banned user cannot join (474) and a banned member cannot speak (404)") {
  room_of_three f;
  f.send(1, "MODE #a +b carol!*@127.0.0.1");
  f.send(1, "MODE #a +b bob");
  f.clear_all();
  f.send(3, "JOIN #a");
  CHECK(f.take(3) == lines{":irc.test 474 carol #a :Cannot join channel (+b)"});
  CHECK(f.take(1).empty());
  f.send(2, "PRIVMSG #a :hello?");
  CHECK(f.take(2) == lines{":irc.test 404 bob #a :Cannot send to channel"});
  CHECK(f.take(1).empty());
}

TEST_CASE("the ban list is bounded: past MAXLIST a +b is 478") {
  room_of_three f;
  for (int i = 0; i < 50; ++i) f.send(1, "MODE #a +b n" + std::to_string(i));
  f.clear_all();
  f.send(1, "MODE #a +b one-more");
  CHECK(f.take(1) == lines{":irc.test 478 alice #a b :Channel list is full"});
}

TEST_CASE("at most MODES parameters are used from one MODE command") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  for (client_id id = 2; id <= 6; ++id) f.join_room(id, "u" + std::to_string(id), "#a");
  f.send(1, "MODE #a +vvvvv u2 u3 u4 u5 u6");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE #a +vvvv u2 u3 u4 u5"});
}

TEST_CASE("user modes: +w and +i are set and reported by 221; +o cannot be taken with MODE") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "MODE alice +wio");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE alice :+wi"});
  f.send(1, "MODE alice");
  CHECK(f.take(1) == lines{":irc.test 221 alice +iw"});
  f.send(1, "MODE alice -w");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE alice :-w"});
}

TEST_CASE("an invisible user is hidden from NAMES and WHO for those who share no room") {
  room_of_three f;
  f.send(2, "MODE bob +i");
  f.clear_all();
  f.send(1, "MODE #a -n");  // lets carol look from outside
  f.clear_all();
  f.send(3, "NAMES #a");
  CHECK(f.take(3) == lines{":irc.test 353 carol = #a :@alice", ":irc.test 366 carol #a :End of NAMES list"});
  f.send(3, "WHO bob");
  CHECK(f.take(3) == lines{":irc.test 315 carol bob :End of WHO list"});
  f.send(1, "WHO bob");
  CHECK(f.take(1)[0] == ":irc.test 352 alice * bob 127.0.0.1 irc.test bob H :0 Real bob");
}
