// chat_hub: AWAY, and what WHO, WHOIS, LIST, LUSERS, NAMES and ISUPPORT show about users and rooms.
#include <doctest/doctest.h>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("AWAY with a message is 306, without one 305; nobody else is told") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(1, "AWAY :gone fishing");
  CHECK(f.take(1) == lines{":irc.test 306 alice :You have been marked as being away"});
  f.send(1, "AWAY");
  CHECK(f.take(1) == lines{":irc.test 305 alice :You are no longer marked as being away"});
  f.send(1, "AWAY :");
  CHECK(f.take(1) == lines{":irc.test 305 alice :You are no longer marked as being away"});
  CHECK(f.take(2).empty());
}

TEST_CASE("a PRIVMSG to an away user is delivered and answered with 301; a NOTICE is not") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(2, "AWAY :back soon");
  f.clear_all();
  f.send(1, "PRIVMSG bob :hi");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 PRIVMSG bob :hi"});
  CHECK(f.take(1) == lines{":irc.test 301 alice bob :back soon"});
  f.send(1, "NOTICE bob :hi");
  CHECK(f.take(1).empty());
}

TEST_CASE("WHO flags: G for away, * for a server operator, @ and + for room status") {
  auto cfg = test_config();
  cfg.operators.push_back({"root", sha512_secret, "*"});
  chat_fixture f(cfg);
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(1, "MODE #a +v bob");
  f.send(2, "AWAY :away");
  f.send(1, "OPER root secret");
  f.clear_all();
  f.send(2, "WHO #a");
  CHECK(f.take(2) == lines{
                         ":irc.test 352 bob #a alice 127.0.0.1 irc.test alice H*@ :0 Real alice",
                         ":irc.test 352 bob #a bob 127.0.0.1 irc.test bob G+ :0 Real bob",
                         ":irc.test 315 bob #a :End of WHO list",
                     });
  f.send(2, "WHO * o");
  CHECK(f.take(2) == lines{
                         ":irc.test 352 bob * alice 127.0.0.1 irc.test alice H* :0 Real alice",
                         ":irc.test 315 bob * :End of WHO list",
                     });
}

TEST_CASE("WHO with a mask matches nicks, user names, hosts and real names") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.join_server(2, "albert");
  f.join_server(3, "bob");
  f.send(3, "WHO al*");
  CHECK(f.take(3) == lines{
                         ":irc.test 352 bob * albert 127.0.0.1 irc.test albert H :0 Real albert",
                         ":irc.test 352 bob * alice 127.0.0.1 irc.test alice H :0 Real alice",
                         ":irc.test 315 bob al* :End of WHO list",
                     });
  f.send(3, "WHO real*");  // every real name is "Real <nick>"
  CHECK(chat_fixture::commands(f.take(3)) == std::vector<std::string>{"352", "352", "352", "315"});
}

TEST_CASE("WHOIS shows away (301), operator (313) and idle time since the last message (317)") {
  auto cfg = test_config();
  cfg.operators.push_back({"root", sha512_secret, "*"});
  chat_fixture f(cfg);
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(1, "MODE #a +v bob");
  f.send(2, "OPER root secret");
  f.now += 30;
  f.send(2, "PRIVMSG #a :hi");
  f.send(2, "AWAY :brb");
  f.now += 12;
  f.clear_all();
  f.send(1, "WHOIS BOB");
  CHECK(f.take(1) == lines{
                         ":irc.test 311 alice bob bob 127.0.0.1 * :Real bob",
                         ":irc.test 319 alice bob :+#a",
                         ":irc.test 312 alice bob irc.test :TestNet",
                         ":irc.test 313 alice bob :is an IRC operator",
                         ":irc.test 301 alice bob :brb",
                         ":irc.test 317 alice bob 12 1700000000 :seconds idle, signon time",
                         ":irc.test 318 alice bob :End of WHOIS list",
                     });
}

TEST_CASE("LIST with a list of rooms shows only those; secret rooms only to their members") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(1, "alice", "#s");
  f.send(1, "MODE #s +s");
  f.send(1, "TOPIC #a :about a");
  f.join_server(2, "bob");
  f.clear_all();
  f.send(2, "LIST #a,#s");
  CHECK(f.take(2) == lines{
                         ":irc.test 321 bob Channel :Users  Name",
                         ":irc.test 322 bob #a 1 :about a",
                         ":irc.test 323 bob :End of LIST",
                     });
  f.send(1, "LIST");
  CHECK(f.take(1) == lines{
                         ":irc.test 321 alice Channel :Users  Name",
                         ":irc.test 322 alice #a 1 :about a",
                         ":irc.test 322 alice #s 1 :",
                         ":irc.test 323 alice :End of LIST",
                     });
}

TEST_CASE("LUSERS counts invisible users and operators, and remembers the most users seen") {
  auto cfg = test_config();
  cfg.operators.push_back({"root", sha512_secret, "*"});
  chat_fixture f(cfg);
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.join_server(3, "carol");
  f.send(2, "MODE bob +i");
  f.send(1, "OPER root secret");
  f.collect(f.hub.disconnect(3, "bye"));
  f.clear_all();
  f.send(1, "LUSERS");
  CHECK(f.take(1) == lines{
                         ":irc.test 251 alice :There are 1 users and 1 invisible on 1 servers",
                         ":irc.test 252 alice 1 :operator(s) online",
                         ":irc.test 254 alice 0 :channels formed",
                         ":irc.test 255 alice :I have 2 clients and 0 servers",
                         ":irc.test 265 alice 2 3 :Current local users 2, max 3",
                         ":irc.test 266 alice 2 3 :Current global users 2, max 3",
                     });
}

TEST_CASE("NAMES without a room lists every visible room, then users in none under *") {
  chat_fixture f;
  f.join_room(1, "alice", "#b");
  f.join_room(2, "bob", "#a");
  f.join_room(3, "carol", "#s");
  f.send(3, "MODE #s +s");
  f.join_server(4, "dave");
  f.join_server(5, "eve");
  f.send(5, "MODE eve +i");
  f.clear_all();
  f.send(4, "NAMES");
  CHECK(f.take(4) == lines{
                         ":irc.test 353 dave = #a :@bob",
                         ":irc.test 353 dave = #b :@alice",
                         ":irc.test 353 dave * * :carol dave",
                         ":irc.test 366 dave * :End of NAMES list",
                     });
}

TEST_CASE("ISUPPORT advertises exactly the modes, prefixes and lengths the hub enforces") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "NICK alice");
  f.send(1, "USER al 0 * :Alice");
  auto got = f.take(1);
  REQUIRE(got.size() >= 6);
  CHECK(got[4] ==
        ":irc.test 005 alice CHANTYPES=# NICKLEN=9 CHANNELLEN=20 CASEMAPPING=ascii NETWORK=TestNet "
        "CHANMODES=b,k,l,imnst PREFIX=(ov)@+ MODES=4 TARGMAX=PRIVMSG:4,NOTICE:4,KICK:4 :are supported by this server");
  CHECK(got[5] ==
        ":irc.test 005 alice USERLEN=16 TOPICLEN=390 KICKLEN=255 AWAYLEN=200 MAXLIST=b:50 :are supported by this server");
}

TEST_CASE("USER with an empty realname is 461 and does not register") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "NICK alice");
  f.send(1, "USER alice 0 * :");
  CHECK(f.take(1) == lines{":irc.test 461 alice USER :Not enough parameters"});
  CHECK_FALSE(f.hub.is_registered(1));
  f.send(1, "USER alice 0 * :Alice");
  CHECK(f.hub.is_registered(1));
}

TEST_CASE("the command table answers 461 for each command short of its minimum parameters") {
  chat_fixture f;
  f.join_server(1, "alice");
  for (const char* cmd : {"JOIN", "PART", "TOPIC", "MODE", "KICK #a", "INVITE bob", "OPER root", "KILL bob",
                          "WALLOPS", "USERHOST", "ISON", "CAP", "KICK #a :"}) {
    CAPTURE(cmd);
    f.send(1, cmd);
    const std::string name = std::string(cmd).substr(0, std::string(cmd).find(' '));
    CHECK(f.take(1) == lines{":irc.test 461 alice " + name + " :Not enough parameters"});
  }
}

TEST_CASE("USERHOST marks operators with * and away users with -") {
  auto cfg = test_config();
  cfg.operators.push_back({"root", sha512_secret, "*"});
  chat_fixture f(cfg);
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(1, "OPER root secret");
  f.send(2, "AWAY :out");
  f.clear_all();
  f.send(2, "USERHOST alice bob");
  CHECK(f.take(2) == lines{":irc.test 302 bob :alice*=+alice@127.0.0.1 bob=-bob@127.0.0.1"});
}

TEST_CASE("WHOWAS remembers nicks that quit or were changed, newest first; 406 for unknown ones") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(2, "NICK bobby");
  f.now += 60;
  f.send(2, "QUIT :bye");
  f.join_server(3, "carol");
  f.send(3, "WHOWAS bob");
  CHECK(f.take(3) == lines{
                         ":irc.test 314 carol bob bob 127.0.0.1 * :Real bob",
                         ":irc.test 312 carol bob irc.test :Tue Nov 14 22:13:20 2023 UTC",
                         ":irc.test 369 carol bob :End of WHOWAS",
                     });
  f.send(3, "WHOWAS BOBBY,ghost 1");
  CHECK(f.take(3) == lines{
                         ":irc.test 314 carol bobby bob 127.0.0.1 * :Real bob",
                         ":irc.test 312 carol bobby irc.test :Tue Nov 14 22:14:20 2023 UTC",
                         ":irc.test 369 carol BOBBY :End of WHOWAS",
                         ":irc.test 406 carol ghost :There was no such nickname",
                         ":irc.test 369 carol ghost :End of WHOWAS",
                     });
  f.send(3, "WHOWAS");
  CHECK(f.take(3) == lines{":irc.test 431 carol :No nickname given"});
}
