// simul-load chat against a test IRC server on 127.0.0.1:0: a correct server gives a clean report;
// one that drops, repeats and swaps lines is caught, each fault counted as an error.
#include <doctest/doctest.h>

#include <string>

#include "tests/client/test_support.hpp"

using simul::test::irc_server;
using simul::test::python_json_check;
using simul::test::run_load;
using simul::test::temp_path;

TEST_CASE("a correct IRC server delivers everything: no loss, duplicates or reordering") {
  irc_server server;
  // 10 messages per user. Rooms of 2: each message owed once.
  int users = 4;
  std::string processes = "1";
  std::string owed = "c['sent']==40 and c['expected_deliveries']==40";
  SUBCASE("one process") {}
  SUBCASE("three processes, each room's members in all of them, checking each other") {
    users = 9;  // room 0: users 0,2,4,6,8; room 1: users 1,3,5,7
    processes = "3";
    owed = "c['sent']==90 and c['expected_deliveries']==50*4+40*3";
  }
  const auto json = temp_path("chat-ok-" + processes + ".json");
  auto r = run_load({"chat", "--port", std::to_string(server.port()), "--users", std::to_string(users), "--rooms", "2",
                     "--rate", "20", "--duration", "0.5", "--threads", "2", "--processes", processes, "--quiet",
                     "--json", json, "--max-errors", "0"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(server.pongs() == users);  // every user answered the server's PING
  CHECK(python_json_check(json,
      owed + " and c['delivered']==c['expected_deliveries'] and c['lost']==0 and c['duplicated']==0 and "
      "c['reordered']==0 and d['errors']['total']==0 if (c:=d['results']['chat']) else False"));
}

TEST_CASE("a faulty IRC server's dropped, repeated and swapped lines are each detected") {
  simul::test::irc_faults f;
  f.drop_at = 5;
  f.repeat_at = 10;
  f.swap_at = 15;
  irc_server server(f);
  const auto json = temp_path("chat-faulty.json");
  auto r = run_load({"chat", "--port", std::to_string(server.port()), "--users", "2", "--rooms", "1", "--rate", "20",
                     "--duration", "1", "--threads", "1", "--quiet", "--json", json, "--max-errors", "0"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("lost 1, duplicated 1, reordered 1") != std::string::npos);
  CHECK(python_json_check(json,
      "d['results']['chat']['lost']==1 and d['results']['chat']['duplicated']==1 and "
      "d['results']['chat']['reordered']==1 and d['errors']['run']['lost message']==1 and "
      "d['errors']['run']['duplicate delivery']==1 and d['errors']['run']['reordered delivery']==1"));
}
