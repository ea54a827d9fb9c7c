// chat_hub: connection registration (CAP, NICK, USER, PASS), welcome burst and its errors.
#include <doctest/doctest.h>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("NICK then USER registers with 001 to 005, LUSERS, and then the MOTD or 422") {
  chat_fixture f;
  f.connect(1, "10.0.0.1");
  f.send(1, "NICK alice");
  CHECK(f.take(1).empty());
  CHECK_FALSE(f.hub.is_registered(1));
  auto out = f.send(1, "USER al 0 * :Alice Liddell");
  CHECK(out.registered_now);
  CHECK(f.hub.is_registered(1));
  auto got = f.take(1);
  CHECK(chat_fixture::commands(got) ==
        std::vector<std::string>{"001", "002", "003", "004", "005", "005", "251", "254", "255", "265", "266", "422"});
  CHECK(got[0] == ":irc.test 001 alice :Welcome to the TestNet IRC Network alice!al@10.0.0.1");
  CHECK(got[3] == ":irc.test 004 alice irc.test simul-test iow biklmnostv bklov");
  CHECK(got[11] == ":irc.test 422 alice :MOTD File is missing");
}

TEST_CASE("USER then NICK registers the same way") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "USER al 0 * :Alice");
  CHECK(f.take(1).empty());
  auto out = f.send(1, "NICK alice");
  CHECK(out.registered_now);
  CHECK(chat_fixture::commands(f.take(1)).front() == "001");
  CHECK(f.hub.users() == 1);
}

TEST_CASE("005 ISUPPORT advertises the configured limits and ends with the usual text") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "NICK alice");
  f.send(1, "USER al 0 * :Alice");
  auto got = f.take(1);
  REQUIRE(got.size() >= 5);
  const auto& isupport = got[4];
  CHECK(isupport.rfind(":irc.test 005 alice ", 0) == 0);
  for (auto token : {" CHANTYPES=# ", " NICKLEN=9 ", " CHANNELLEN=20 ", " CASEMAPPING=ascii ", " NETWORK=TestNet "}) {
    CHECK_MESSAGE(isupport.find(token) != std::string::npos, token);
  }
  CHECK(isupport.ends_with(" :are supported by this server"));
}

TEST_CASE("a configured MOTD is sent as 375, one 372 per line, 376") {
  auto cfg = test_config();
  cfg.motd = "Hello\r\nSecond line\n";
  chat_fixture f(cfg);
  f.connect(1);
  f.send(1, "NICK alice");
  f.send(1, "USER al 0 * :Alice");
  auto got = f.take(1);
  REQUIRE(got.size() == 15);
  CHECK(got[11] == ":irc.test 375 alice :- irc.test Message of the day - ");
  CHECK(got[12] == ":irc.test 372 alice :- Hello");
  CHECK(got[13] == ":irc.test 372 alice :- Second line");
  CHECK(got[14] == ":irc.test 376 alice :End of MOTD command");
}

TEST_CASE("CAP LS 302 offers multi-prefix and holds registration until CAP END") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "CAP LS 302");
  CHECK(f.take(1) == lines{":irc.test CAP * LS :multi-prefix"});
  f.send(1, "NICK alice");
  f.send(1, "USER al 0 * :Alice");
  CHECK_FALSE(f.hub.is_registered(1));
  CHECK(f.take(1).empty());
  auto out = f.send(1, "CAP END");
  CHECK(out.registered_now);
  CHECK(chat_fixture::commands(f.take(1)).front() == "001");
}

TEST_CASE("CAP REQ is refused with NAK, CAP LIST is empty, an unknown CAP subcommand is 410") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "CAP REQ :multi-prefix sasl");
  CHECK(f.take(1) == lines{":irc.test CAP * NAK :multi-prefix sasl"});
  f.send(1, "CAP LIST");
  CHECK(f.take(1) == lines{":irc.test CAP * LIST :"});
  f.send(1, "CAP FOO");
  CHECK(f.take(1) == lines{":irc.test 410 * FOO :Invalid CAP command"});
  f.send(1, "CAP");
  CHECK(f.take(1) == lines{":irc.test 461 * CAP :Not enough parameters"});
}

TEST_CASE("CAP after registration does not hold anything and uses the nick as target") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "CAP LS");
  CHECK(f.take(1) == lines{":irc.test CAP alice LS :multi-prefix"});
  f.send(1, "CAP END");
  CHECK(f.take(1).empty());
}

TEST_CASE("commands other than CAP NICK USER PASS PING PONG QUIT before registration get 451") {
  chat_fixture f;
  f.connect(1);
  for (auto line : {"JOIN #a", "PRIVMSG bob :hi", "LIST", "WHO #a", "MODE alice", "FOOBAR x"}) {
    f.send(1, line);
    CHECK_MESSAGE(f.take(1) == lines{":irc.test 451 * :You have not registered"}, line);
  }
  f.send(1, "NICK alice");
  f.send(1, "JOIN #a");
  CHECK(f.take(1) == lines{":irc.test 451 alice :You have not registered"});
}

TEST_CASE("PING is answered and PONG accepted before registration") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "PING :abc");
  CHECK(f.take(1) == lines{":irc.test PONG irc.test :abc"});
  f.send(1, "PONG :irc.test");
  CHECK(f.take(1).empty());
}

TEST_CASE("NICK without a name is 431 No nickname given") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "NICK");
  CHECK(f.take(1) == lines{":irc.test 431 * :No nickname given"});
  f.send(1, "NICK :");
  CHECK(f.take(1) == lines{":irc.test 431 * :No nickname given"});
}

TEST_CASE("an invalid or too long nick is 432 Erroneous nickname") {
  chat_fixture f;
  f.connect(1);
  for (auto nick : {"1abc", "a.b", "#chan", "abcdefghij"}) {
    f.send(1, std::string("NICK ") + nick);
    CHECK(f.take(1) == lines{std::string(":irc.test 432 * ") + nick + " :Erroneous nickname"});
  }
  CHECK(f.hub.nick(1) == "*");
}

TEST_CASE("a nick in use, in any letter case, is 433 and the first owner keeps it") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.connect(2);
  f.send(2, "NICK ALICE");
  CHECK(f.take(2) == lines{":irc.test 433 * ALICE :Nickname is already in use"});
  f.send(2, "NICK bob");
  f.send(2, "USER b 0 * :Bob");
  f.take(2);
  f.send(2, "NICK Alice");
  CHECK(f.take(2) == lines{":irc.test 433 bob Alice :Nickname is already in use"});
  CHECK(f.hub.nick(1) == "alice");
}

TEST_CASE("an unregistered connection also owns its nick") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "NICK alice");
  f.connect(2);
  f.send(2, "NICK alice");
  CHECK(f.take(2) == lines{":irc.test 433 * alice :Nickname is already in use"});
}

TEST_CASE("a nick is free again once its owner disconnects") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.collect(f.hub.disconnect(1, "gone"));
  f.connect(2);
  f.send(2, "NICK alice");
  f.send(2, "USER a 0 * :A");
  CHECK(f.hub.is_registered(2));
}

TEST_CASE("USER with too few parameters is 461") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "USER al 0 *");
  CHECK(f.take(1) == lines{":irc.test 461 * USER :Not enough parameters"});
}

TEST_CASE("USER or PASS after registration is 462 You may not reregister") {
  chat_fixture f;
  f.join_server(1, "alice");
  f.send(1, "USER x 0 * :X");
  CHECK(f.take(1) == lines{":irc.test 462 alice :You may not reregister"});
  f.send(1, "PASS secret");
  CHECK(f.take(1) == lines{":irc.test 462 alice :You may not reregister"});
}

TEST_CASE("PASS before registration is accepted silently") {
  chat_fixture f;
  f.connect(1);
  f.send(1, "PASS whatever");
  CHECK(f.take(1).empty());
}

TEST_CASE("a user name is cleaned of characters that would break nick!user@host") {
  chat_fixture f;
  f.connect(1, "h");
  f.send(1, "NICK alice");
  f.send(1, "USER a@b!c:d 0 * :Alice");
  auto got = f.take(1);
  REQUIRE(!got.empty());
  CHECK(got[0].ends_with(" alice!abcd@h"));
}

TEST_CASE("connections and users are counted separately") {
  chat_fixture f;
  f.connect(1);
  f.join_server(2, "bob");
  CHECK(f.hub.connections() == 2);
  CHECK(f.hub.users() == 1);
  f.collect(f.hub.disconnect(2, "bye"));
  f.collect(f.hub.disconnect(1, "bye"));
  CHECK(f.hub.connections() == 0);
  CHECK(f.hub.users() == 0);
}

TEST_CASE("calls for an unknown client id return nothing and do not crash") {
  chat_fixture f;
  CHECK(f.hub.on_line(42, "NICK x").deliveries.empty());
  CHECK(f.hub.on_line_too_long(42).deliveries.empty());
  CHECK(f.hub.disconnect(42, "x").deliveries.empty());
  CHECK(f.hub.make_error_and_close(42, "x").deliveries.empty());
  CHECK(f.hub.nick(42).empty());
  CHECK_FALSE(f.hub.is_registered(42));
}

TEST_CASE("CAP REQ multi-prefix is acknowledged, listed, and makes NAMES and WHO show every prefix") {
  chat_fixture f;
  f.join_room(1, "alice", "#a");
  f.send(1, "MODE #a +v alice");
  f.send(1, "CAP REQ :multi-prefix");
  CHECK(f.take(1) == lines{
                         ":alice!alice@127.0.0.1 MODE #a +v alice",
                         ":irc.test CAP alice ACK :multi-prefix",
                     });
  f.send(1, "CAP LIST");
  CHECK(f.take(1) == lines{":irc.test CAP alice LIST :multi-prefix"});
  f.send(1, "NAMES #a");
  CHECK(f.take(1)[0] == ":irc.test 353 alice = #a :@+alice");
  f.send(1, "WHO #a");
  CHECK(f.take(1)[0] == ":irc.test 352 alice #a alice 127.0.0.1 irc.test alice H@+ :0 Real alice");
  f.send(1, "CAP REQ -multi-prefix");
  CHECK(f.take(1) == lines{":irc.test CAP alice ACK :-multi-prefix"});
  f.send(1, "NAMES #a");
  CHECK(f.take(1)[0] == ":irc.test 353 alice = #a :@alice");
}
