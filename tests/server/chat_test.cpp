// Integration tests of the chat service over real sockets, for every model.
#include <doctest/doctest.h>

#include <map>

#include "tests/server/test_support.hpp"

using namespace simul::test;

namespace {

// Sends a PING and collects every line received before its PONG: proves nothing else arrived.
std::vector<std::string> lines_until_pong(client& c, const std::string& token) {
  c.send("PING :" + token + "\r\n");
  std::vector<std::string> seen;
  while (auto line = c.recv_line()) {
    if (line->find("PONG") != std::string::npos && line->find(token) != std::string::npos) return seen;
    seen.push_back(*line);
  }
  FAIL("no PONG for " << token);
  return seen;
}

// Sends 16 MB of PRIVMSGs to `room`, 64 KiB at a time: far more than the socket buffers of a
// member that does not read can absorb, so the server's writes to it stall and its SendQ grows.
void bury(client& talker, const std::string& room) {
  const std::string pad(380, 'p');
  std::string batch;
  for (int i = 0; i < 40000; ++i) {
    batch += "PRIVMSG " + room + " :" + std::to_string(i) + " " + pad + "\r\n";
    if (batch.size() < 65536) continue;
    talker.send(batch);
    batch.clear();
  }
  talker.send(batch);
}

}  // namespace

TEST_CASE("two clients register, join a room and talk, in the room and in private") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto alice = irc(srv.chat_port(), "alice");
    auto bob = irc(srv.chat_port(), "bob");
    join(alice, "#lobby");
    join(bob, "#lobby");
    CHECK(alice.wait_for("JOIN").value_or("").find(":bob!") == 0);
    alice.send("PRIVMSG #lobby :hello room\r\nPRIVMSG Bob :hello you\r\n");
    CHECK(bob.recv_line() == std::optional<std::string>(":alice!alice@127.0.0.1 PRIVMSG #lobby :hello room"));
    CHECK(bob.recv_line().value_or("").find(":alice!alice@127.0.0.1 PRIVMSG ") == 0);  // target as bob's nick
    // Not echoed to the sender.
    CHECK(lines_until_pong(alice, "t1").empty());
    bob.send("QUIT :gone\r\n");
    CHECK(bob.wait_for("ERROR").has_value());
    CHECK(bob.wait_closed());
    CHECK(alice.recv_line() == std::optional<std::string>(":bob!bob@127.0.0.1 QUIT :gone"));
  });
}

TEST_CASE("CAP LS 302 is answered before registration") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    client c(srv.chat_port());
    c.send("CAP LS 302\r\nNICK n1\r\nUSER u 0 * :r\r\nCAP END\r\n");
    CHECK(c.recv_line().value_or("").find("CAP * LS") != std::string::npos);
    CHECK(c.wait_for(" 001 n1 ").has_value());
  });
}

TEST_CASE("input split byte by byte and many lines in one read are both handled") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    client c(srv.chat_port());
    for (char ch : std::string("NICK slow\r\nUSER s 0 * :s\r\n")) c.send(std::string(1, ch));
    REQUIRE(c.wait_for(" 001 slow ").has_value());
    std::string many;
    for (int i = 0; i < 15; ++i) many += "PING :p" + std::to_string(i) + "\r\n";
    c.send(many);
    for (int i = 0; i < 15; ++i) CHECK(c.wait_for("PONG").value_or("").find(":p" + std::to_string(i)) != std::string::npos);
  });
}

TEST_CASE("an overlong line gets 417 and the connection survives") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto c = irc(srv.chat_port(), "long");
    c.send("PRIVMSG long :" + std::string(2000, 'x') + "\r\n");
    CHECK(c.wait_for(" 417 ").has_value());
    CHECK(lines_until_pong(c, "alive").empty());
  });
}

TEST_CASE("binary junk and NUL bytes get error replies, not a crash") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto c = irc(srv.chat_port(), "junk");
    c.send(std::string("\x01\x02\xff\xfe garbage\r\nPRIV\0MSG x\r\n\r\n:\r\n", 31));
    std::string junk(3000, '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 131 % 256);
    c.send(junk + "\r\n");
    CHECK(lines_until_pong(c, "still-here").size() >= 2);
    auto other = irc(srv.chat_port(), "other");  // the server is fine for everyone
  });
}

TEST_CASE("error numerics: 433 nick in use, 404 not in room, 401 no such nick, 451 not registered") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto a = irc(srv.chat_port(), "Taken");
    client b(srv.chat_port());
    b.send("PRIVMSG x :too early\r\n");
    CHECK(b.wait_for(" 451 ").has_value());
    b.send("NICK tAKEN\r\n");
    CHECK(b.wait_for(" 433 ").has_value());
    join(a, "#private");
    auto c = irc(srv.chat_port(), "outsider");
    c.send("PRIVMSG #private :let me in\r\n");
    CHECK(c.wait_for(" 404 ").has_value());
    c.send("PRIVMSG nobody :hello\r\n");
    CHECK(c.wait_for(" 401 ").has_value());
    CHECK(lines_until_pong(a, "quiet").empty());  // a saw none of it
  });
}

TEST_CASE("nobody receives what was not addressed to them") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto a = irc(srv.chat_port(), "a");
    auto b = irc(srv.chat_port(), "b");
    auto c = irc(srv.chat_port(), "c");
    join(a, "#ab");
    join(b, "#ab");
    join(c, "#c");
    a.send("PRIVMSG #ab :for a and b\r\nPRIVMSG b :only b\r\n");
    CHECK(b.wait_for("only b").has_value());
    CHECK(lines_until_pong(c, "c-quiet").empty());
  });
}

TEST_CASE("a client that never reads is cut at the SendQ limit while others get everything in order") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.limits.sendq_hard_bytes = 64 * 1024;
    cfg.limits.sendq_soft_bytes = 32 * 1024;
    cfg.limits.flood_burst = 100000;  // the talker is allowed to be busy
    running_server srv(cfg);
    auto talker = irc(srv.chat_port(), "talker");
    auto reader = irc(srv.chat_port(), "reader");
    auto sleeper = irc(srv.chat_port(), "sleeper");
    for (auto* c : {&talker, &reader, &sleeper}) join(*c, "#busy");
    // The sleeper stops reading now. 20,000 lines of ~400 bytes (8 MB) overflow its socket
    // buffers and then its 64 KiB SendQ; the reader keeps up, batch by batch.
    const std::string pad(380, 'p');
    constexpr int total = 20000;
    int next = 0;
    bool in_order = true, sleeper_quit = false;
    std::string batch;
    for (int i = 0; i < total; ++i) {
      batch += "PRIVMSG #busy :" + std::to_string(i) + " " + pad + "\r\n";
      if (batch.size() < 32768 && i + 1 < total) continue;
      talker.send(batch);
      batch.clear();
      while (next <= i) {
        auto line = reader.recv_line();
        if (!line) break;
        if (line->find("PRIVMSG #busy :") == std::string::npos) {
          sleeper_quit = sleeper_quit || (line->rfind(":sleeper!", 0) == 0 && line->find("QUIT :SendQ exceeded") != std::string::npos);
          continue;
        }
        in_order = in_order && std::stoi(line->substr(line->find(" :") + 2)) == next;
        ++next;
      }
      if (next <= i) break;
    }
    CHECK(next == total);
    CHECK(in_order);
    CHECK((sleeper_quit || reader.wait_for("QUIT :SendQ exceeded").value_or("").find(":sleeper!") == 0));
    CHECK(sleeper.wait_closed(20s));
    auto body = http_get(srv.metrics_port(), "/metrics");
    CHECK(metric(body, "simul_disconnects_total{service=\"chat\",reason=\"sendq\"}") == 1);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's shadow memory and quarantine inflate RSS on their own
    CHECK(metric(body, "process_resident_memory_bytes") < 200e6);
#endif
  });
}

TEST_CASE("a client above the soft SendQ limit is cut when its time runs out, though nothing more is sent") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.limits.sendq_hard_bytes = 256 * 1024 * 1024;  // never reached: only the soft rule can fire
    cfg.limits.sendq_soft_bytes = 64 * 1024;
    cfg.limits.sendq_soft_duration = 300ms;
    cfg.limits.flood_burst = 100000;  // the talker is allowed to be busy
    running_server srv(cfg);
    auto talker = irc(srv.chat_port(), "talker");
    auto sleeper = irc(srv.chat_port(), "sleeper");
    join(talker, "#soft");
    join(sleeper, "#soft");
    REQUIRE(talker.wait_for("JOIN #soft").value_or("").rfind(":sleeper!", 0) == 0);
    // The sleeper stops reading now. 16 MB for it, in one go: far more than the socket buffers
    // absorb, far less than the hard limit. The talker gets none of it (no echo).
    bury(talker, "#soft");
    // Then silence: no line is queued for the sleeper any more, yet its time above soft runs
    // out. Its ERROR is best effort (its socket is full); the close, its QUIT and the counter
    // are certain.
    CHECK(talker.wait_for("QUIT :SendQ exceeded", 30s).value_or("").rfind(":sleeper!", 0) == 0);
    CHECK(sleeper.wait_closed(30s));
    CHECK(eventually([&] { return scrape(srv.metrics_port(), "simul_disconnects_total{service=\"chat\",reason=\"sendq\"}") == 1; }));
  });
}

TEST_CASE("a client that stops reading and answering is closed with Ping timeout, though lines wait for it") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.timeouts.ping_interval = 200ms;
    cfg.timeouts.ping_timeout = 300ms;
    cfg.limits.sendq_hard_bytes = 256 * 1024 * 1024;  // neither SendQ limit is reached
    cfg.limits.sendq_soft_bytes = 128 * 1024 * 1024;
    cfg.limits.flood_burst = 100000;
    running_server srv(cfg);
    auto talker = irc(srv.chat_port(), "talker");
    auto sleeper = irc(srv.chat_port(), "sleeper");
    join(talker, "#stuck");
    join(sleeper, "#stuck");
    REQUIRE(talker.wait_for("JOIN #stuck").value_or("").rfind(":sleeper!", 0) == 0);
    bury(talker, "#stuck");  // the server's writes to the sleeper stall
    // Its last word comes after that (unless it was closed already, on a slow machine): the
    // PING and its timeout run while lines wait for it.
    sleeper.try_send("PING :last\r\n");
    // The talker answers its PINGs; the sleeper cannot, and is closed for it.
    std::optional<std::string> quit;
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!quit && std::chrono::steady_clock::now() < until) {
      auto line = talker.recv_line(1s);
      if (!line) continue;
      if (line->rfind("PING ", 0) == 0) talker.send("PONG " + line->substr(5) + "\r\n");
      if (line->rfind(":sleeper!", 0) == 0 && line->find(" QUIT ") != std::string::npos) quit = line;
    }
    CHECK(quit.value_or("").find("Ping timeout") != std::string::npos);
    CHECK(sleeper.wait_closed(30s));
    CHECK(eventually([&] { return scrape(srv.metrics_port(), "simul_disconnects_total{service=\"chat\",reason=\"ping\"}") == 1; }));
    CHECK(scrape(srv.metrics_port(), "simul_disconnects_total{service=\"chat\",reason=\"sendq\"}") == 0);
  });
}

TEST_CASE("a flooder is throttled, then cut off when its backlog passes the limit") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.limits.flood_burst = 5;
    cfg.limits.flood_lines_per_second = 20;
    cfg.limits.flood_max_backlog_bytes = 4096;
    running_server srv(cfg);
    auto f = irc(srv.chat_port(), "flooder");
    auto peer = irc(srv.chat_port(), "peer");
    join(f, "#f");
    join(peer, "#f");
    // 12 short lines fit the backlog: served slowly, none lost.
    std::string lines;
    for (int i = 0; i < 12; ++i) lines += "PRIVMSG peer :" + std::to_string(i) + "\r\n";
    f.send(lines);
    for (int i = 0; i < 12; ++i) CHECK(peer.recv_line().value_or("").find(":" + std::to_string(i)) != std::string::npos);
    // Then far more than the backlog allows: the flooder is cut off with a reason.
    std::string flood;
    for (int i = 0; i < 400; ++i) flood += "PRIVMSG peer :flood flood flood flood " + std::to_string(i) + "\r\n";
    f.send(flood);
    CHECK(f.wait_for("ERROR :Excess Flood").has_value());
    CHECK(f.wait_closed());
    CHECK(peer.wait_for("QUIT :Excess Flood").has_value());
    CHECK(scrape(srv.metrics_port(), "simul_disconnects_total{service=\"chat\",reason=\"flood\"}") == 1);
  });
}

TEST_CASE("a silent client is pinged, and closed with Ping timeout when it does not answer") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.timeouts.ping_interval = 200ms;
    cfg.timeouts.ping_timeout = 300ms;
    running_server srv(cfg);
    auto silent = irc(srv.chat_port(), "silent");
    auto polite = irc(srv.chat_port(), "polite");
    auto ping = polite.wait_for("PING", 5s);
    REQUIRE(ping.has_value());
    polite.send("PONG " + ping->substr(ping->find(' ') + 1) + "\r\n");
    CHECK(silent.wait_for("ERROR :", 10s).value_or("").find("Ping timeout") != std::string::npos);
    CHECK(silent.wait_closed());
    CHECK(lines_until_pong(polite, "alive").size() <= 1);  // maybe another PING, never a close
    CHECK(scrape(srv.metrics_port(), "simul_disconnects_total{service=\"chat\",reason=\"ping\"}") == 1);
  });
}

TEST_CASE("a client that does not register in time is closed") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.timeouts.registration = 200ms;
    running_server srv(cfg);
    client c(srv.chat_port());
    c.send("NICK lazy\r\n");
    CHECK(c.wait_for("ERROR :", 5s).has_value());
    CHECK(c.wait_closed());
  });
}

TEST_CASE("on shutdown every chat client gets ERROR :Server shutting down before the close") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto a = irc(srv.chat_port(), "a1");
    auto b = irc(srv.chat_port(), "b1");
    join(a, "#x");
    srv.get().request_shutdown();
    CHECK(a.wait_for("ERROR").value_or("").find("Server shutting down") != std::string::npos);
    CHECK(b.wait_for("ERROR").value_or("").find("Server shutting down") != std::string::npos);
    CHECK(a.wait_closed());
    srv.stop();
  });
}

TEST_CASE("over limits.max_connections a chat client gets an IRC ERROR line") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.limits.max_connections = 1;
    running_server srv(cfg);
    auto a = irc(srv.chat_port(), "only");
    client b(srv.chat_port());
    CHECK(b.recv_line().value_or("").rfind("ERROR :", 0) == 0);
    CHECK(b.wait_closed());
  });
}

TEST_CASE("an operator's KILL ends the victim's connection after its ERROR, and counts it as killed") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    // "secret", hashed with `openssl passwd -6 -salt simulsalt secret`.
    cfg.chat_service.operators =
        "root $6$simulsalt$rUwkpYCMMkT8UZEaRYSwvNpCnoU.qctdTpaOrPuE8fpVGX2GoQMrkFmL6BhQbiblEu3JF/xguKxCWysdA3zFH1";
    running_server srv(cfg);
    auto op = irc(srv.chat_port(), "op");
    auto victim = irc(srv.chat_port(), "victim");
    op.send("OPER root secret\r\n");
    REQUIRE(op.wait_for(" 381 ").has_value());
    op.send("KILL victim :enough\r\n");
    CHECK(victim.wait_for("ERROR").value_or("").find("Killed") != std::string::npos);
    CHECK(victim.wait_closed());
    CHECK(eventually([&] { return scrape(srv.metrics_port(), "simul_disconnects_total{service=\"chat\",reason=\"killed\"}") == 1; }));
    CHECK(lines_until_pong(op, "still-here").size() <= 1);  // at most the KILL notice; the op stays
  });
}
