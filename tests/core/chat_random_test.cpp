// chat_hub: random well-formed commands from several clients (operators, modes, kicks, kills)
// never crash the hub, every reply is one well-formed line, and the state stays consistent.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "chat_fixture.hpp"
#include "core/chat_hub.hpp"

using namespace simul::core;
using namespace simul::core::test;

TEST_CASE("random commands from six clients keep the hub consistent, and it empties when they leave") {
  auto cfg = test_config();
  // "secret" with the fewest SHA-512 rounds allowed: OPER is tried often here.
  cfg.operators.push_back({"root",
                           "$6$rounds=1000$simulsalt$V8IOHNaWAdk9umuGi.PczeMNLLSz0dW/NLLnH0lr7XpFoBWKwyt2cvVpbfF9nVEUHnM3"
                           "No7nFqyy0ldOMKUiN/",
                           "*"});
  chat_fixture f(cfg);
  for (client_id id = 1; id <= 6; ++id) f.join_server(id, "n" + std::to_string(id));
  xorshift next{0x9E3779B97F4A7C15ull};  // deterministic
  const char* nicks[] = {"n1", "n2", "n3", "n4", "n5", "n6", "ghost"};
  const char* rooms[] = {"#a", "#b", "#a,#b", "#c", "#none"};
  const char* commands[] = {
      "JOIN R", "JOIN R key", "PART R", "PART R :bye", "KICK R N", "KICK R N,N :x", "INVITE N R",
      "MODE R +o N", "MODE R -o N", "MODE R +v N", "MODE R +imnst", "MODE R -imnst", "MODE R +k key",
      "MODE R -k", "MODE R +l 2", "MODE R -l", "MODE R +b N", "MODE R -b N!*@*", "MODE R b", "MODE R",
      "TOPIC R :t", "TOPIC R", "PRIVMSG R :hi", "NOTICE N :hi", "PRIVMSG N,R :hi", "AWAY :a", "AWAY",
      "WHO R", "WHO N", "WHO *", "WHOIS N", "LIST", "LIST R", "NAMES", "NAMES R", "LUSERS", "MODE N +iw",
      "MODE N -o", "OPER root secret", "OPER root bad", "KILL N :k", "WALLOPS :w", "NICK N", "QUIT :q",
  };
  for (int i = 0; i < 10000; ++i) {
    const client_id who = 1 + next() % 6;
    if (f.hub.nick(who).empty()) {  // gone (QUIT, KILL): a new connection takes its id
      f.join_server(who, "r" + std::to_string(i));
      continue;
    }
    const std::string line = fill_placeholders(commands[next() % std::size(commands)], rooms, nicks, next);
    auto out = f.send(who, line);
    for (auto id : out.close_others) CHECK(f.hub.nick(id).empty());
    REQUIRE(f.hub.users() <= 6);
  }
  for (client_id id = 1; id <= 6; ++id) f.collect(f.hub.disconnect(id, "bye"));
  CHECK(f.hub.users() == 0);
  CHECK(f.hub.rooms() == 0);
  CHECK(f.hub.connections() == 0);
}
