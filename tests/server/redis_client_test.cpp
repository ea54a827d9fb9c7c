// cluster::redis_client against a real redis-server: round trips, pipelining, blocking reads,
// Redis killed, restarted and paused, and callbacks that stop or destroy the client.
#include "server/cluster/redis_client.hpp"

#include <doctest/doctest.h>

#include <asio/executor_work_guard.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/common/redis_server.hpp"

namespace {

using namespace std::chrono_literals;
using simul::cluster::redis_client;
using simul::cluster::redis_options;

/// An io_context that tests run in slices until a condition holds.
struct loop {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);

  template <class Pred>
  bool until(Pred pred, std::chrono::milliseconds deadline = 10s) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > end) return false;
      io.run_for(5ms);
    }
    return true;
  }
  void spin(std::chrono::milliseconds d) { io.run_for(d); }
};

redis_options options_for(const simul::test::redis_server& r) {
  redis_options o;
  o.port = r.port();
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  o.connect_timeout = 2000ms;
  return o;
}

std::string str(const redisReply* r) { return r != nullptr && r->str != nullptr ? std::string(r->str, r->len) : ""; }

/// A client started and connected, with its on_up/on_down events counted.
struct connected_client {
  std::unique_ptr<redis_client> client;
  int ups = 0, downs = 0;
  std::vector<std::string> reasons;
  connected_client(loop& l, const redis_options& o) : client(std::make_unique<redis_client>(l.io, o)) {
    client->on_up = [this] { ++ups; };
    client->on_down = [this](std::string why) {
      ++downs;
      reasons.push_back(std::move(why));
    };
    client->start();
    REQUIRE(l.until([&] { return client->connected(); }));
  }
};

}  // namespace

TEST_CASE("redis_client: a command's reply comes back, binary data intact") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  loop l;
  connected_client c(l, options_for(redis));
  CHECK(c.ups == 1);

  const std::string value("a\0b\r\nc\n\r\0", 10);
  const std::string key("key\r\n\0x", 7);
  std::optional<std::string> set_status, got;
  REQUIRE(c.client->command({"SET", key, value}, [&](const redisReply* r) { set_status = str(r); }));
  REQUIRE(c.client->command({"GET", key}, [&](const redisReply* r) {
    REQUIRE(r != nullptr);
    CHECK(r->type == REDIS_REPLY_STRING);
    got = str(r);
  }));
  CHECK(c.client->pending_bytes() > 0);
  REQUIRE(l.until([&] { return got.has_value(); }));
  CHECK(*set_status == "OK");
  CHECK(*got == value);
  CHECK(c.client->pending_bytes() == 0);

  SUBCASE("an error reply is a reply, and counted") {
    int type = 0;
    std::string text;
    REQUIRE(c.client->command({"INCR", key}, [&](const redisReply* r) {
      type = r ? r->type : -1;
      text = str(r);
    }));
    REQUIRE(l.until([&] { return type != 0; }));
    CHECK(type == REDIS_REPLY_ERROR);
    CHECK(text.find("not an integer") != std::string::npos);
    CHECK(c.client->stats().errors == 1);
  }
  CHECK(c.client->stats().commands >= 2);
  CHECK(c.client->stats().connects == 1);
}

TEST_CASE("redis_client: pipelined commands are answered in order") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  loop l;
  connected_client c(l, options_for(redis));
  constexpr int n = 2000;
  std::vector<long long> seen;
  for (int i = 0; i < n; ++i)
    REQUIRE(c.client->command({"INCR", "counter"}, [&](const redisReply* r) { seen.push_back(r ? r->integer : -1); }));
  CHECK(seen.empty());  // nothing waited for a reply
  REQUIRE(l.until([&] { return seen.size() == n; }));
  for (int i = 0; i < n; ++i) CHECK_MESSAGE(seen[i] == i + 1, "reply ", i);
}

TEST_CASE("redis_client: a blocked XREAD on a second client wakes on XADD") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  loop l;
  connected_client writer(l, options_for(redis));
  connected_client reader(l, options_for(redis));

  std::string first_id;
  REQUIRE(writer.client->command({"XADD", "events", "*", "n", "0"}, [&](const redisReply* r) { first_id = str(r); }));
  REQUIRE(l.until([&] { return !first_id.empty(); }));

  const redisReply* none = nullptr;
  std::optional<std::string> read_value;
  REQUIRE(reader.client->command({"XREAD", "BLOCK", "20000", "STREAMS", "events", first_id}, [&](const redisReply* r) {
    // [[events, [[id, [n, 1]]]]]
    if (r == none || r->type != REDIS_REPLY_ARRAY || r->elements != 1) {
      read_value = "bad reply";
      return;
    }
    const redisReply* entries = r->element[0]->element[1];
    read_value = str(entries->element[0]->element[1]->element[1]);
  }));
  // Wait until Redis has the reader blocked, so the XADD is what wakes it.
  bool blocked = false;
  REQUIRE(l.until([&] {
    std::string list = redis.query("CLIENT LIST\r\n", 1000ms);
    blocked = list.find("cmd=xread") != std::string::npos;
    return blocked;
  }));
  CHECK_FALSE(read_value.has_value());
  REQUIRE(writer.client->command({"XADD", "events", "*", "n", "1"}, [](const redisReply*) {}));
  REQUIRE(l.until([&] { return read_value.has_value(); }));
  CHECK(*read_value == "1");
}

TEST_CASE("redis_client: Redis killed, commands refused, Redis back, the client reconnects") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  loop l;
  connected_client c(l, options_for(redis));

  int blocked_calls = 0;
  const redisReply* blocked_reply = reinterpret_cast<const redisReply*>(1);
  REQUIRE(c.client->command({"BLPOP", "nothing", "0"}, [&](const redisReply* r) {
    ++blocked_calls;
    blocked_reply = r;
  }));
  REQUIRE(l.until([&] { return redis.query("CLIENT LIST\r\n", 1000ms).find("cmd=blpop") != std::string::npos; }));

  redis.kill9();
  REQUIRE(l.until([&] { return c.downs >= 1; }));
  CHECK_FALSE(c.client->connected());
  CHECK(blocked_calls == 1);
  CHECK(blocked_reply == nullptr);  // lost before the answer
  CHECK(!c.reasons.empty());
  CHECK(c.client->pending_bytes() == 0);

  bool called = false;
  CHECK_FALSE(c.client->command({"PING"}, [&](const redisReply*) { called = true; }));
  CHECK(c.client->stats().refused_down >= 1);
  l.spin(100ms);  // retries against a closed port fail and back off
  CHECK(c.downs >= 2);
  CHECK(c.ups == 1);

  REQUIRE(redis.start());
  REQUIRE(l.until([&] { return c.client->connected(); }));
  CHECK(c.ups == 2);
  CHECK(c.client->stats().connects == 2);
  std::string pong;
  REQUIRE(c.client->command({"PING"}, [&](const redisReply* r) { pong = str(r); }));
  REQUIRE(l.until([&] { return !pong.empty(); }));
  CHECK(pong == "PONG");
  CHECK_FALSE(called);
}

TEST_CASE("redis_client: Redis paused, pending bytes stop at the cap; resumed, they drain") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  loop l;
  auto o = options_for(redis);
  o.max_pending_bytes = 1u << 20;
  connected_client c(l, o);

  redis.pause();
  const std::string value(16 * 1024, 'v');
  int accepted = 0, answered = 0, lost = 0;
  bool refused = false;
  for (int i = 0; i < 1000 && !refused; ++i) {
    refused = !c.client->command({"SET", "k" + std::to_string(i % 10), value}, [&](const redisReply* r) {
      ++(r ? answered : lost);
    });
    if (!refused) ++accepted;
    l.spin(1ms);  // lets the client write what the kernel takes
    CHECK(c.client->pending_bytes() <= o.max_pending_bytes);
  }
  CHECK(refused);
  CHECK(c.client->stats().refused_full == 1);
  CHECK(c.client->connected());  // slow is not down
  CHECK(c.client->pending_bytes() > o.max_pending_bytes - value.size() - 64);
  CHECK(answered == 0);

  redis.resume();
  REQUIRE(l.until([&] { return answered == accepted; }));
  CHECK(lost == 0);
  CHECK(c.client->pending_bytes() == 0);
  CHECK(c.client->command({"PING"}, [](const redisReply*) {}));
}

TEST_CASE("redis_client: a connection attempt to a paused Redis times out and is retried") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  redis.pause();  // its kernel still completes TCP handshakes; PING gets no answer
  loop l;
  auto o = options_for(redis);
  o.connect_timeout = 200ms;
  redis_client client(l.io, o);
  std::vector<std::string> reasons;
  int ups = 0;
  client.on_down = [&](std::string why) { reasons.push_back(std::move(why)); };
  client.on_up = [&] { ++ups; };
  client.start();
  REQUIRE(l.until([&] { return reasons.size() >= 2; }));
  CHECK(reasons[0].find("connect timeout") != std::string::npos);
  CHECK(ups == 0);
  redis.resume();
  REQUIRE(l.until([&] { return client.connected(); }));
  CHECK(ups == 1);
}

TEST_CASE("redis_client: nothing listening: on_down with the reason, again after each back-off") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  redis.kill9();
  loop l;
  redis_client client(l.io, options_for(redis));
  std::vector<std::string> reasons;
  client.on_down = [&](std::string why) { reasons.push_back(std::move(why)); };
  client.start();
  REQUIRE(l.until([&] { return reasons.size() >= 3; }));
  CHECK(reasons[0].find("refused") != std::string::npos);
  CHECK(client.stats().disconnects >= 3);
  client.stop();
  const auto after_stop = reasons.size();
  l.spin(300ms);  // longer than backoff_max: no attempt, no report
  CHECK(reasons.size() == after_stop);
  CHECK(client.stats().disconnects == after_stop);
}

TEST_CASE("redis_client: destroying or stopping the client with commands pending is safe") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  loop l;
  int calls = 0;

  SUBCASE("destroyed from outside: pending callbacks are dropped") {
    connected_client c(l, options_for(redis));
    for (int i = 0; i < 100; ++i) REQUIRE(c.client->command({"INCR", "n"}, [&](const redisReply*) { ++calls; }));
    c.client.reset();
    l.spin(100ms);
    CHECK(calls == 0);
  }
  SUBCASE("destroyed by a callback: later replies are dropped") {
    connected_client c(l, options_for(redis));
    for (int i = 0; i < 100; ++i)
      REQUIRE(c.client->command({"INCR", "n"}, [&](const redisReply*) {
        ++calls;
        c.client.reset();
      }));
    REQUIRE(l.until([&] { return calls > 0; }));
    l.spin(100ms);
    CHECK(calls == 1);
  }
  SUBCASE("destroyed by a callback that got nullptr (Redis killed)") {
    connected_client c(l, options_for(redis));
    for (int i = 0; i < 3; ++i)
      REQUIRE(c.client->command({"BLPOP", "nothing", "0"}, [&](const redisReply* r) {
        ++calls;
        CHECK(r == nullptr);
        c.client.reset();
      }));
    REQUIRE(l.until([&] { return redis.query("CLIENT LIST\r\n", 1000ms).find("cmd=blpop") != std::string::npos; }));
    redis.kill9();
    REQUIRE(l.until([&] { return calls > 0; }));
    l.spin(100ms);
    CHECK(calls == 1);
  }
  SUBCASE("stopped and started again by a callback: reconnects") {
    connected_client c(l, options_for(redis));
    for (int i = 0; i < 10; ++i)
      REQUIRE(c.client->command({"INCR", "n"}, [&](const redisReply*) {
        ++calls;
        c.client->stop();
        c.client->start();
      }));
    REQUIRE(l.until([&] { return c.ups == 2; }));
    CHECK(calls == 1);
    CHECK(c.downs == 0);  // stop() is not a loss
    CHECK(c.client->connected());
  }
  SUBCASE("destroyed by on_up") {
    auto client = std::make_unique<redis_client>(l.io, options_for(redis));
    client->on_up = [&] {
      ++calls;
      client.reset();
    };
    client->start();
    REQUIRE(l.until([&] { return client == nullptr; }));
    l.spin(50ms);
    CHECK(calls == 1);
  }
}

TEST_CASE("redis_client: commands are refused before start and over the byte cap") {
  simul::test::redis_server redis;
  REQUIRE(redis.ok());
  loop l;
  auto o = options_for(redis);
  o.max_pending_bytes = 64;
  redis_client client(l.io, o);
  CHECK_FALSE(client.command({"PING"}, [](const redisReply*) {}));
  CHECK(client.stats().refused_down == 1);
  client.start();
  REQUIRE(l.until([&] { return client.connected(); }));
  CHECK_FALSE(client.command({"SET", "k", std::string(100, 'x')}, [](const redisReply*) {}));
  CHECK(client.stats().refused_full == 1);
  CHECK(client.command({"SET", "k", "small"}, [](const redisReply*) {}));
  CHECK(client.pending_bytes() == 31);  // *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nsmall\r\n
}
