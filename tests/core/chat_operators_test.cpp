// chat_hub: server operators from config (OPER with crypt(3) password hashes), KILL, WALLOPS, KICK anywhere.
#include <doctest/doctest.h>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

namespace {

constexpr const char* yescrypt_secret = "$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.";

hub_config with_operators() {
  auto cfg = test_config();
  cfg.operators.push_back({"root", sha512_secret, "*"});
  cfg.operators.push_back({"yes", yescrypt_secret, "*"});
  cfg.operators.push_back({"lan", sha512_secret, "*!*@10.*"});
  return cfg;
}

}  // namespace

TEST_CASE("OPER with the right password gives +o and 381 (SHA-512 and yescrypt hashes)") {
  chat_fixture f(with_operators());
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(1, "OPER root secret");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE alice :+o", ":irc.test 381 alice :You are now an IRC operator"});
  f.send(2, "OPER yes secret");
  CHECK(f.take(2) == lines{":bob!bob@127.0.0.1 MODE bob :+o", ":irc.test 381 bob :You are now an IRC operator"});
  f.send(1, "MODE alice");
  CHECK(f.take(1) == lines{":irc.test 221 alice +o"});
}

TEST_CASE("OPER with a wrong password or an unknown name is 464; from another host 491") {
  chat_fixture f(with_operators());
  f.join_server(1, "alice");
  f.send(1, "OPER root wrong");
  CHECK(f.take(1) == lines{":irc.test 464 alice :Password incorrect"});
  f.send(1, "OPER nobody secret");
  CHECK(f.take(1) == lines{":irc.test 464 alice :Password incorrect"});
  f.send(1, "OPER lan secret");
  CHECK(f.take(1) == lines{":irc.test 491 alice :No O-lines for your host"});
  f.send(1, "MODE alice");
  CHECK(f.take(1) == lines{":irc.test 221 alice +"});
}

TEST_CASE("OPER never succeeds without configured operators or against a locked hash") {
  auto cfg = test_config();
  cfg.operators.push_back({"locked", "!", "*"});
  cfg.operators.push_back({"plain", "secret", "*"});  // not a hash: crypt() cannot reproduce it
  chat_fixture f(cfg);
  f.join_server(1, "alice");
  f.send(1, "OPER locked !");
  CHECK(f.take(1) == lines{":irc.test 464 alice :Password incorrect"});
  f.send(1, "OPER plain secret");
  CHECK(f.take(1) == lines{":irc.test 464 alice :Password incorrect"});
}

TEST_CASE("an operator drops the status with MODE -o") {
  chat_fixture f(with_operators());
  f.join_server(1, "alice");
  f.send(1, "OPER root secret");
  f.clear_all();
  f.send(1, "MODE alice -o");
  CHECK(f.take(1) == lines{":alice!alice@127.0.0.1 MODE alice :-o"});
  f.send(1, "KILL bob :x");
  CHECK(f.take(1) == lines{":irc.test 481 alice :Permission Denied- You're not an IRC operator"});
}

TEST_CASE("KILL: the victim gets KILL and ERROR, its peers QUIT, and the server is asked to close it") {
  chat_fixture f(with_operators());
  f.join_server(1, "alice");
  f.join_room(2, "bob", "#a");
  f.join_room(3, "carol", "#a");
  f.join_server(4, "dave");
  f.send(1, "OPER root secret");
  f.clear_all();
  auto out = f.send(1, "KILL bob :spamming");
  CHECK(f.take(2) == lines{
                         ":alice!alice@127.0.0.1 KILL bob :spamming",
                         "ERROR :Closing Link: 127.0.0.1 (Killed (alice (spamming)))",
                     });
  CHECK(f.take(3) == lines{":bob!bob@127.0.0.1 QUIT :Killed (alice (spamming))"});
  CHECK(f.take(1).empty());
  CHECK(f.take(4).empty());
  CHECK_FALSE(out.close);
  REQUIRE(out.close_others.size() == 1);
  CHECK(out.close_others[0] == 2);
  CHECK(f.hub.users() == 3);
  CHECK(f.hub.nick(2).empty());                          // gone from the hub at once
  CHECK(f.hub.disconnect(2, "closed").deliveries.empty());  // the server's later disconnect: a no-op
}

TEST_CASE("KILL errors: 481 for non-operators, 401 for a missing nick, 461 without a reason") {
  chat_fixture f(with_operators());
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.send(2, "KILL alice :bye");
  CHECK(f.take(2) == lines{":irc.test 481 bob :Permission Denied- You're not an IRC operator"});
  CHECK(f.take(1).empty());
  f.send(1, "OPER root secret");
  f.clear_all();
  f.send(1, "KILL ghost :bye");
  CHECK(f.take(1) == lines{":irc.test 401 alice ghost :No such nick/channel"});
  f.send(1, "KILL bob");
  CHECK(f.take(1) == lines{":irc.test 461 alice KILL :Not enough parameters"});
}

TEST_CASE("an operator who KILLs itself is closed like a QUIT") {
  chat_fixture f(with_operators());
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.send(1, "OPER root secret");
  f.clear_all();
  auto out = f.send(1, "KILL alice :oops");
  CHECK(out.close);
  CHECK(out.close_others.empty());
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 QUIT :Killed (alice (oops))"});
  CHECK(f.hub.connections() == 1);
}

TEST_CASE("WALLOPS from an operator reaches every user with +w and nobody else; others get 481") {
  chat_fixture f(with_operators());
  f.join_server(1, "alice");
  f.join_server(2, "bob");
  f.join_server(3, "carol");
  f.send(1, "OPER root secret");
  f.send(2, "MODE bob +w");
  f.clear_all();
  f.send(1, "WALLOPS :maintenance at noon");
  CHECK(f.take(2) == lines{":alice!alice@127.0.0.1 WALLOPS :maintenance at noon"});
  CHECK(f.take(1).empty());
  CHECK(f.take(3).empty());
  f.send(3, "WALLOPS :me too");
  CHECK(f.take(3) == lines{":irc.test 481 carol :Permission Denied- You're not an IRC operator"});
  CHECK(f.take(2).empty());
}

TEST_CASE("an operator may KICK in any room without being in it or its operator") {
  chat_fixture f(with_operators());
  f.join_room(1, "alice", "#a");
  f.join_room(2, "bob", "#a");
  f.join_server(3, "carol");
  f.send(3, "OPER root secret");
  f.clear_all();
  f.send(3, "KICK #a alice :abuse");
  CHECK(f.take(1) == lines{":carol!carol@127.0.0.1 KICK #a alice :abuse"});
  CHECK(f.take(2) == lines{":carol!carol@127.0.0.1 KICK #a alice :abuse"});
  CHECK(f.take(3).empty());  // not a member: it hears only errors
  f.send(3, "KICK #a bob");
  CHECK(f.hub.rooms() == 0);  // the last member kicked: the room is gone
}

TEST_CASE("operator accounts are read from their config text; plain passwords are refused") {
  std::vector<oper_account> ops;
  CHECK(parse_oper_accounts(std::string("root ") + sha512_secret + " , lan " + yescrypt_secret + " *!*@10.*", ops)
            .empty());
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].name == "root");
  CHECK(ops[0].password_hash == sha512_secret);
  CHECK(ops[0].host_mask == "*");
  CHECK(ops[1].host_mask == "*!*@10.*");
  CHECK(parse_oper_accounts("", ops).empty());
  CHECK(ops.size() == 2);
  std::vector<oper_account> bad;
  CHECK(parse_oper_accounts("root secret", bad).find("crypt(3) hash") != std::string::npos);
  CHECK(parse_oper_accounts("root", bad).find("name hash") != std::string::npos);
  CHECK(bad.empty());
}
