// The chat network (cluster.redis): several simul servers on one real redis-server are one
// chat network. In-process servers on port 0 (a process where one is killed), one Redis per
// case on a free port. Every wait polls with a deadline.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/common/redis_server.hpp"
#include "tests/server/test_support.hpp"

using namespace simul::test;

namespace {

// A node of the network on `redis`. The lease is 5 s (a stall of a loaded test machine must not
// look like a dead node), 1 s where a case waits for the lease or a snapshot.
simul::server::config node_config(const redis_server& redis, const std::string& name,
                                  std::chrono::milliseconds lease = 5s) {
  auto cfg = test_config(model_kind::async);
  cfg.cluster.redis = redis.address();
  cfg.cluster.lease = lease;
  cfg.cluster.node = name;
  cfg.limits.flood_burst = 100000;
  cfg.limits.flood_lines_per_second = 100000;
  return cfg;
}

bool ready(std::uint16_t metrics_port) {
  return http_get(metrics_port, "/readyz").find(" 200 ") != std::string::npos;
}

// Waits until the node has joined the network (/readyz 200).
void wait_joined(std::uint16_t metrics_port) { REQUIRE(eventually([&] { return ready(metrics_port); })); }

std::string got(client& c, std::string_view needle) { return c.wait_for(needle).value_or("(nothing)"); }

// A node as a process (to kill or stop), lease 5 s unless told, joined.
std::unique_ptr<server_process> node_process(const redis_server& redis, const std::string& name,
                                             const std::string& lease = "5s") {
  auto p = std::make_unique<server_process>(std::vector<std::string>{
      "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0", "--redis", redis.address(), "--config",
      temp_file("cluster:\n  lease_seconds: " + lease + "\n  node: " + name + "\n")});
  REQUIRE(p->wait_ready());
  wait_joined(p->metrics_port);
  return p;
}

// alice on one node and vic on another, both in #r.
std::pair<client, client> room_across(std::uint16_t alice_port, std::uint16_t vic_port) {
  auto alice = irc(alice_port, "alice");
  auto vic = irc(vic_port, "vic");
  join(alice, "#r");
  join(vic, "#r");
  CHECK(got(alice, " JOIN ").find(":vic!") == 0);
  return {std::move(alice), std::move(vic)};
}

// A Redis with two joined nodes on it, alice on one and bob on the other.
struct two_nodes {
  redis_server redis;
  std::unique_ptr<running_server> a, b;
  client alice, bob;

  two_nodes() {
    REQUIRE(redis.ok());
    a = std::make_unique<running_server>(node_config(redis, "node-a"));
    b = std::make_unique<running_server>(node_config(redis, "node-b"));
    wait_joined(a->metrics_port());
    wait_joined(b->metrics_port());
    alice = irc(a->chat_port(), "alice");
    bob = irc(b->chat_port(), "bob");
  }
};

}  // namespace

TEST_CASE("cluster: rooms, private messages, nicks, queries and membership cross nodes") {
  two_nodes net;
  running_server &a = *net.a, &b = *net.b;
  client &alice = net.alice, &bob = net.bob;

  // Nicks are unique network-wide.
  client dup(b.chat_port());
  dup.send("NICK Alice\r\n");
  CHECK(got(dup, " 433 ").find("Alice") != std::string::npos);

  join(alice, "#net");
  join(bob, "#net");
  CHECK(got(alice, " JOIN ").find(":bob!bob@") == 0);

  alice.send("PRIVMSG #net :hello from a\r\n");
  CHECK(got(bob, "PRIVMSG") == ":alice!alice@127.0.0.1 PRIVMSG #net :hello from a");
  bob.send("PRIVMSG alice :psst\r\n");
  CHECK(got(alice, "PRIVMSG") == ":bob!bob@127.0.0.1 PRIVMSG alice :psst");

  // Queries see the remote users.
  bob.send("NAMES #net\r\n");
  auto names = got(bob, " 353 ");
  CHECK(names.find("@alice") != std::string::npos);
  CHECK(names.find("bob") != std::string::npos);
  bob.send("WHOIS alice\r\n");
  CHECK(got(bob, " 311 ").find("alice alice 127.0.0.1") != std::string::npos);
  bob.send("WHO #net\r\n");
  CHECK(got(bob, " 352 ").find("#net") != std::string::npos);
  bob.send("LIST\r\n");
  CHECK(got(bob, " 322 ").find("#net 2") != std::string::npos);

  // TOPIC, MODE, NICK, KICK, PART and QUIT reach the other node.
  alice.send("TOPIC #net :across\r\n");
  CHECK(got(bob, " TOPIC ") == ":alice!alice@127.0.0.1 TOPIC #net :across");
  alice.send("MODE #net +v bob\r\n");
  CHECK(got(bob, " MODE ") == ":alice!alice@127.0.0.1 MODE #net +v bob");
  bob.send("NICK robert\r\n");
  CHECK(got(alice, " NICK ") == ":bob!bob@127.0.0.1 NICK :robert");
  alice.send("KICK #net robert :out\r\n");
  CHECK(got(bob, " KICK ") == ":alice!alice@127.0.0.1 KICK #net robert :out");
  join(bob, "#net");
  CHECK(got(alice, " JOIN ").find(":robert!") == 0);
  bob.send("PART #net :later\r\n");
  CHECK(got(alice, " PART ") == ":robert!bob@127.0.0.1 PART #net :later");
  join(bob, "#net");
  bob.send("QUIT :bye\r\n");
  CHECK(got(alice, " QUIT ") == ":robert!bob@127.0.0.1 QUIT :bye");
  CHECK(bob.wait_closed());

  // The nick is free again on either node.
  auto robert = irc(a.chat_port(), "robert");
  CHECK(scrape(a.metrics_port(), "simul_cluster_up") == 1);
  CHECK(scrape(a.metrics_port(), "simul_cluster_entries_applied_total") > 0);
}

TEST_CASE("cluster: every member of a room sees its messages in one order, on every node") {
  redis_server redis;
  REQUIRE(redis.ok());
  std::vector<std::unique_ptr<running_server>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<running_server>(node_config(redis, "node-" + std::to_string(i))));
    wait_joined(nodes.back()->metrics_port());
  }
  std::vector<client> talkers, listeners;
  for (int i = 0; i < 3; ++i) {
    talkers.push_back(irc(nodes[i]->chat_port(), "talker" + std::to_string(i)));
    listeners.push_back(irc(nodes[i]->chat_port(), "listener" + std::to_string(i)));
    join(talkers.back(), "#order");
    join(listeners.back(), "#order");
  }
  constexpr int per_talker = 100;
  // All three talk at once, in batches, so that their lines interleave in the log.
  for (int k = 0; k < per_talker; k += 10) {
    for (int i = 0; i < 3; ++i) {
      std::string batch;
      for (int j = k; j < k + 10; ++j)
        batch += "PRIVMSG #order :" + std::to_string(i) + "-" + std::to_string(j) + "\r\n";
      talkers[i].send(batch);
    }
  }
  std::vector<std::vector<std::string>> seen(3);
  for (int i = 0; i < 3; ++i) {
    while (seen[i].size() < 3 * per_talker) {
      auto line = listeners[i].recv_line();
      REQUIRE(line.has_value());
      if (line->find(" PRIVMSG #order :") == std::string::npos) continue;
      seen[i].push_back(line->substr(line->find(" :") + 2));
    }
  }
  CHECK(seen[0] == seen[1]);
  CHECK(seen[0] == seen[2]);
  // Each talker's own lines keep their order, and each is there once.
  for (int i = 0; i < 3; ++i) {
    int next = 0;
    for (const auto& s : seen[0])
      if (s.rfind(std::to_string(i) + "-", 0) == 0) CHECK(s == std::to_string(i) + "-" + std::to_string(next++));
    CHECK(next == per_talker);
  }
}

TEST_CASE("cluster: a node started late gets the network's state") {
  redis_server redis;
  REQUIRE(redis.ok());
  running_server a(node_config(redis, "early"));
  wait_joined(a.metrics_port());
  auto alice = irc(a.chat_port(), "alice");
  join(alice, "#old");
  alice.send("TOPIC #old :set before b existed\r\n");
  CHECK(got(alice, " TOPIC ").find("set before b existed") != std::string::npos);

  running_server b(node_config(redis, "late"));
  wait_joined(b.metrics_port());
  auto bob = irc(b.chat_port(), "bob");
  bob.send("JOIN #old\r\n");
  CHECK(got(bob, " 332 ").find(":set before b existed") != std::string::npos);
  CHECK(got(bob, " 353 ").find("@alice") != std::string::npos);
  CHECK(got(alice, " JOIN ").find(":bob!") == 0);
}

TEST_CASE("cluster: a node killed with SIGKILL: its users QUIT on the others within the lease") {
  redis_server redis;
  REQUIRE(redis.ok());
  running_server a(node_config(redis, "survivor", 1s));
  wait_joined(a.metrics_port());
  auto victim = node_process(redis, "victim-node");
  auto [alice, vic] = room_across(a.chat_port(), victim->chat_port);

  victim->signal(SIGKILL);
  CHECK(got(alice, " QUIT ") == ":vic!vic@127.0.0.1 QUIT :simul.local victim-node");
  CHECK(scrape(a.metrics_port(), "simul_cluster_nodes_declared_down_total") >= 1);
  // The nick is free again.
  auto again = irc(a.chat_port(), "vic");
}

TEST_CASE("cluster: a node stopped with SIGTERM and no users left leaves the network at once, not a lease later") {
  redis_server redis;
  REQUIRE(redis.ok());
  // A lease far longer than any wait here: only the leaver's node-leave entry can tell the
  // survivor that it has gone.
  auto survivor = node_process(redis, "survivor", "10m");
  auto leaver = node_process(redis, "leaver", "10m");
  leaver->signal(SIGTERM);
  CHECK(leaver->wait() == std::optional<int>(0));
  CHECK(leaver->stderr_text().find("did not store this node's leave") == std::string::npos);
  CHECK(eventually([&] {
    return survivor->stderr_text().find("cluster: node 2 left the chat network (Server shutting down)") !=
           std::string::npos;
  }));
  survivor->signal(SIGTERM);
  CHECK(survivor->wait() == std::optional<int>(0));
}

TEST_CASE("cluster: Redis down: the server stays up and says so; Redis back: it rejoins") {
  redis_server redis;
  REQUIRE(redis.ok());
  running_server a(node_config(redis, "node-a"));
  wait_joined(a.metrics_port());
  auto alice = irc(a.chat_port(), "alice");
  join(alice, "#r");

  redis.kill9();
  REQUIRE(eventually([&] { return !ready(a.metrics_port()); }));
  CHECK(http_get(a.metrics_port(), "/readyz").find("chat network unavailable") != std::string::npos);
  CHECK(scrape(a.metrics_port(), "simul_cluster_up") == 0);
  // Echo works; the chat client stays, is told, and PING still answers.
  client echo(a.echo_port());
  echo.send("still here\n");
  CHECK(echo.recv_exact(11) == "still here\n");
  alice.send("PRIVMSG #r :anyone?\r\n");
  CHECK(got(alice, " NOTICE ") == ":simul.local NOTICE alice :Chat network unavailable, try again later");
  alice.send("PING :tok\r\n");
  CHECK(got(alice, "PONG").find("tok") != std::string::npos);
  CHECK(scrape(a.metrics_port(), "simul_cluster_lines_refused_total") >= 1);
  // A new chat client is refused with the same reason.
  client late(a.chat_port());
  CHECK(got(late, "ERROR") == "ERROR :Chat network unavailable, try again later");

  // A new, empty Redis on the same port: the node resyncs (its users are told and closed) and
  // serves the network again.
  REQUIRE(redis.start());
  CHECK(got(alice, "ERROR").find("Chat network resync") != std::string::npos);
  wait_joined(a.metrics_port());
  CHECK(scrape(a.metrics_port(), "simul_cluster_resyncs_total") >= 1);
  auto carol = irc(a.chat_port(), "carol");
  running_server b(node_config(redis, "node-b"));
  wait_joined(b.metrics_port());
  auto dave = irc(b.chat_port(), "dave");
  join(carol, "#again");
  join(dave, "#again");
  carol.send("PRIVMSG #again :works\r\n");
  CHECK(got(dave, "PRIVMSG") == ":carol!carol@127.0.0.1 PRIVMSG #again :works");
}

TEST_CASE("cluster: a stopped Redis: lines over the queue cap are refused, memory stays bounded") {
  redis_server redis;
  REQUIRE(redis.ok());
  auto cfg = node_config(redis, "node-a");
  cfg.cluster.max_queue_bytes = 64 * 1024;
  cfg.cluster.lease = 30s;  // the stop must not look like a lost connection
  running_server a(cfg);
  wait_joined(a.metrics_port());
  auto alice = irc(a.chat_port(), "alice");
  join(alice, "#r");

  redis.pause();
  const std::string pad(300, 'x');
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += "PRIVMSG #r :" + std::to_string(i) + pad + "\r\n";
  alice.send(batch);  // ~320 KB: five times the cap
  CHECK(got(alice, " NOTICE ").find("Chat network unavailable") != std::string::npos);
  CHECK(eventually([&] { return scrape(a.metrics_port(), "simul_cluster_lines_refused_total") >= 100; }));
  const auto queued = scrape(a.metrics_port(), "simul_cluster_queue_bytes");
  CHECK(queued > 0);
  CHECK(queued <= 64 * 1024 + 1024);
  redis.resume();
  // What was queued goes out; the network carries on.
  alice.send("PRIVMSG #r :after\r\n");
  join(alice, "#r2");
}

TEST_CASE("cluster: users who leave while Redis is stopped quit for the others once it is back") {
  redis_server redis;
  REQUIRE(redis.ok());
  // A long lease: the stop must not look like a dead node, to anyone.
  auto cfg = node_config(redis, "node-a", 30s);
  cfg.cluster.max_queue_bytes = 64 * 1024;
  running_server a(cfg);
  running_server b(node_config(redis, "node-b", 30s));
  wait_joined(a.metrics_port());
  wait_joined(b.metrics_port());
  auto [alice, vic] = room_across(a.chat_port(), b.chat_port());
  auto carol = irc(a.chat_port(), "carol");
  join(carol, "#r");
  CHECK(got(vic, " JOIN ").find(":carol!") == 0);

  redis.pause();
  // alice's QUIT waits in the queue to Redis; carol fills that queue, so hers cannot even
  // be queued: the node keeps it.
  alice = client();
  REQUIRE(eventually([&] { return scrape(a.metrics_port(), "simul_connections{service=\"chat\"}") == 1; }));
  const std::string pad(300, 'x');
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += "PRIVMSG vic :" + std::to_string(i) + pad + "\r\n";
  carol.send(batch);  // ~320 KB: five times the cap
  CHECK(got(carol, " NOTICE ").find("Chat network unavailable") != std::string::npos);
  carol = client();
  REQUIRE(eventually([&] { return scrape(a.metrics_port(), "simul_connections{service=\"chat\"}") == 0; }));
  redis.resume();
  CHECK(got(vic, " QUIT ").find(":alice!alice@127.0.0.1 QUIT :") == 0);
  // Both QUITs are in the log before anything that happens on node-a once its queue is empty.
  REQUIRE(eventually([&] { return scrape(a.metrics_port(), "simul_cluster_queue_bytes") == 0; }));
  auto dave = irc(a.chat_port(), "dave");
  join(dave, "#r");
  std::optional<std::string> next;
  while ((next = vic.recv_line()) && next->find(" QUIT ") == std::string::npos && next->find(" JOIN ") == std::string::npos) {
  }
  const auto first = next.value_or("(nothing)");
  INFO(first);
  CHECK(first.find(":carol!carol@127.0.0.1 QUIT :") == 0);
  CHECK(got(vic, " JOIN ").find(":dave!") == 0);
  vic.send("WHOIS alice\r\nWHOIS carol\r\n");
  CHECK(got(vic, " 401 ").find("alice") != std::string::npos);
  CHECK(got(vic, " 401 ").find("carol") != std::string::npos);
  // The nicks are free again, on either node.
  auto alice2 = irc(b.chat_port(), "alice");
  auto carol2 = irc(a.chat_port(), "carol");
}

TEST_CASE("cluster: a node joining after a snapshot starts from it and reads the log after it") {
  redis_server redis;
  REQUIRE(redis.ok());
  running_server a(node_config(redis, "writer", 1s));
  wait_joined(a.metrics_port());
  auto alice = irc(a.chat_port(), "alice");
  join(alice, "#snap");
  alice.send("TOPIC #snap :in the snapshot\r\n");
  CHECK(got(alice, " TOPIC ").find("in the snapshot") != std::string::npos);
  // The only node writes one within 2 x lease (2 s here) of the last entry.
  REQUIRE(eventually([&] { return redis.query("EXISTS simul:simul:snapshot\r\n") == ":1\r\n"; }));
  alice.send("TOPIC #snap :after the snapshot\r\n");
  CHECK(got(alice, " TOPIC ").find("after the snapshot") != std::string::npos);

  auto node = node_process(redis, "late");
  auto& late = *node;
  // It loaded the snapshot (alice was in it), not the log from its start.
  CHECK(late.stderr_text().find("joins chat network simul from entry 0-0") == std::string::npos);
  CHECK(late.stderr_text().find("(1 users)") != std::string::npos);
  auto bob = irc(late.chat_port, "bob");
  bob.send("JOIN #snap\r\n");
  CHECK(got(bob, " 332 ").find(":after the snapshot") != std::string::npos);
  CHECK(got(bob, " 353 ").find("@alice") != std::string::npos);
}

TEST_CASE("cluster: a node stalled past the lease is split off; back, it tells its users and rejoins") {
  redis_server redis;
  REQUIRE(redis.ok());
  running_server a(node_config(redis, "survivor", 1s));
  wait_joined(a.metrics_port());
  auto node = node_process(redis, "stalled-node");
  auto& stalled = *node;
  auto [alice, vic] = room_across(a.chat_port(), stalled.chat_port);

  stalled.signal(SIGSTOP);
  CHECK(got(alice, " QUIT ") == ":vic!vic@127.0.0.1 QUIT :simul.local stalled-node");
  stalled.signal(SIGCONT);
  // Back: it reads that it was declared down, tells its users, and joins again as a new node.
  CHECK(got(vic, "ERROR").find("declared down") != std::string::npos);
  CHECK(vic.wait_closed());
  wait_joined(stalled.metrics_port);
  auto vic2 = irc(stalled.chat_port, "vic");
  join(vic2, "#r");
  alice.send("PRIVMSG #r :welcome back\r\n");
  CHECK(got(vic2, "PRIVMSG") == ":alice!alice@127.0.0.1 PRIVMSG #r :welcome back");
}

TEST_CASE("cluster: a dropped Redis connection: the node reconnects and resumes, its users stay") {
  two_nodes net;
  running_server &a = *net.a, &b = *net.b;
  client &alice = net.alice, &bob = net.bob;
  auto& redis = net.redis;

  // Redis drops every client connection (both nodes' two each); the log stays.
  CHECK(redis.query("CLIENT KILL TYPE normal\r\n").starts_with(":"));
  for (auto port : {a.metrics_port(), b.metrics_port()})
    CHECK(eventually([&] { return scrape(port, "simul_cluster_joins_total") >= 2; }));
  int sent = 0;
  bool through = eventually([&] {
    alice.send("PRIVMSG bob :try " + std::to_string(++sent) + "\r\n");
    auto line = bob.recv_line(100ms);
    return line && line->find("PRIVMSG bob :try ") != std::string::npos;
  });
  CHECK(through);
  CHECK(scrape(a.metrics_port(), "simul_cluster_resyncs_total") == 0);
  CHECK(scrape(b.metrics_port(), "simul_cluster_resyncs_total") == 0);
  // Both still connected, and still the same users: the nick is taken.
  client dup(b.chat_port());
  dup.send("NICK alice\r\n");
  CHECK(got(dup, " 433 ").find("alice") != std::string::npos);
  bob.send("PRIVMSG alice :still here\r\n");
  CHECK(got(alice, "PRIVMSG alice") == ":bob!bob@127.0.0.1 PRIVMSG alice :still here");
}
