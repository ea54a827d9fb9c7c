// Integration tests of the echo service over real sockets, for every model.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <atomic>
#include <random>
#include <thread>

#include "tests/server/test_support.hpp"

using namespace simul::test;
using simul::server::service;

namespace {

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace

TEST_CASE("echo returns a 1 MiB message byte for byte") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    client c(srv.echo_port());
    auto data = random_bytes(1 << 20, 42);
    // Send and receive in slices so neither side's socket buffer has to hold it all.
    std::string back;
    for (std::size_t off = 0; off < data.size(); off += 65536) {
      auto slice = std::string_view(data).substr(off, 65536);
      c.send(slice);
      back += c.recv_exact(slice.size());
    }
    CHECK(back.size() == data.size());
    CHECK(back == data);
  });
}

TEST_CASE("echo serves 2,000 concurrent connections at once, each getting its own bytes back") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    constexpr int n = 2000;
    std::vector<client> clients;
    clients.reserve(n);
    for (int i = 0; i < n; ++i) clients.emplace_back(srv.echo_port());
    for (int i = 0; i < n; ++i) clients[i].send("hello " + std::to_string(i) + "\n");
    int ok = 0;
    for (int i = 0; i < n; ++i) {
      auto line = clients[i].recv_line();
      ok += line && *line == "hello " + std::to_string(i);
    }
    CHECK(ok == n);
    auto body = http_get(srv.metrics_port(), "/metrics");
    CHECK(metric(body, "simul_connections{service=\"echo\"}") == n);
  });
}

TEST_CASE("many clients sending at once each get exactly their own bytes (shared read buffer)") {
  // The async model reads every echo connection into one shared buffer (server/async/echo.cpp):
  // messages of random sizes from many clients at once, some filling that 64 KiB buffer (the
  // connection must then be read again: its epoll set is edge-triggered), must each come back
  // whole, in order, to their own client only.
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    constexpr int n = 100;
    std::vector<client> clients;
    for (int i = 0; i < n; ++i) clients.emplace_back(srv.echo_port());
    std::mt19937 rng(7);
    int whole = 0;
    for (int round = 0; round < 6; ++round) {
      std::vector<std::string> sent(n);
      for (int i = 0; i < n; ++i) {
        // Up to 96 KiB: more than the server's 64 KiB read buffer, less than loopback's socket buffers.
        std::size_t size = round == 0 ? 64 * 1024 : 1 + rng() % (96 * 1024);
        sent[i] = random_bytes(size, static_cast<unsigned>(round * n + i));
        clients[i].send(sent[i]);
      }
      for (int i = 0; i < n; ++i) whole += clients[i].recv_exact(sent[i].size()) == sent[i];
    }
    CHECK(whole == 6 * n);
  });
}

TEST_CASE("a half-closed client still receives its echo, then the server closes") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    client c(srv.echo_port());
    c.send("last words\n");
    c.shutdown_write();
    CHECK(c.recv_line() == std::optional<std::string>("last words"));
    CHECK(c.wait_closed());
  });
}

TEST_CASE("a client that stops reading is no longer read from (backpressure)") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    client c(srv.echo_port());
    // Never read: the server's writes fill our receive buffer, then it must stop reading, and our
    // sends stall. 64 MiB would be accepted without backpressure; we must stall long before.
    const std::size_t sent = c.fill(std::string(64 * 1024, 'x'), 64u << 20);
    CHECK(sent < (32u << 20));
    // And everything sent is still echoed, in order, once we read.
    auto back = c.recv_exact(sent, 20s);
    CHECK(back.size() == sent);
    CHECK(back.find_first_not_of('x') == std::string::npos);
  });
}

TEST_CASE("an idle echo client is closed after timeouts.idle_seconds") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.timeouts.idle = 200ms;
    running_server srv(cfg);
    client active(srv.echo_port()), idle(srv.echo_port());
    CHECK(idle.wait_closed(5s));
    auto body = http_get(srv.metrics_port(), "/metrics");
    CHECK(metric(body, "simul_disconnects_total{service=\"echo\",reason=\"idle\"}") >= 1);
  });
}

TEST_CASE("an echo client that keeps sending is not closed by the idle timeout") {
  // The async model moves an active connection in its idle list only now and then (lazily): one
  // active for several timeouts must still never be taken for idle, while a silent one is.
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.timeouts.idle = 1s;
    running_server srv(cfg);
    client active(srv.echo_port()), idle(srv.echo_port());
    int answered = 0;
    for (int i = 0; i < 30; ++i) {
      active.send("tick\n");
      answered += active.recv_line() == std::optional<std::string>("tick");
      std::this_thread::sleep_for(100ms);
    }
    CHECK(answered == 30);
    CHECK(idle.wait_closed(5s));
    auto body = http_get(srv.metrics_port(), "/metrics");
    CHECK(metric(body, "simul_disconnects_total{service=\"echo\",reason=\"idle\"}") == 1);
  });
}

TEST_CASE("echo clients sending without pause are all closed, and each counted once, when the server stops") {
  // The async model's plain-TCP connections wait on the io_context's queue between the
  // epoll_wait that reported them and their turn (server/async/echo_poller.hpp): a stop that
  // ends one there must leave it allocated until that turn comes (the ASan build runs this).
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    constexpr int threads = 4, per_thread = 50, n = threads * per_thread;
    std::vector<std::vector<client>> groups(threads);
    int answered = 0;  // every client served once: all accepted
    for (auto& g : groups) {
      for (int i = 0; i < per_thread; ++i) {
        g.emplace_back(srv.echo_port());
        g.back().send("hello\n");
        answered += g.back().recv_line() == std::optional<std::string>("hello");
      }
    }
    REQUIRE(answered == n);
    std::atomic<bool> done{false};
    std::atomic<long> echoed{0};
    std::vector<std::thread> pumps;
    for (auto& g : groups) {
      pumps.emplace_back([&g, &done, &echoed] {
        const std::string msg(64, 'm');
        char buf[4096];
        const auto until = std::chrono::steady_clock::now() + 30s;
        while (!done && std::chrono::steady_clock::now() < until) {
          for (auto& c : g) {
            c.try_send(msg);
            ssize_t got = ::recv(c.fd(), buf, sizeof buf, MSG_DONTWAIT);
            if (got > 0) echoed += got;
          }
        }
      });
    }
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (echoed < 64 * 10 * n && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
    CHECK(echoed >= 64 * 10 * n);
    srv.stop();  // while every client is still sending
    done = true;
    for (auto& t : pumps) t.join();
    int closed = 0;
    for (auto& g : groups)
      for (auto& c : g) closed += c.wait_closed(10s);
    CHECK(closed == n);
    const auto& st = srv.get().counters();
    const auto echo = static_cast<std::size_t>(service::echo);
    CHECK(st.services[echo].connections.get() == 0);
    std::uint64_t ended = 0;
    for (const auto& r : st.disconnects[echo]) ended += r.get();
    CHECK(ended == n);
  });
}

TEST_CASE("over limits.max_connections a client gets a one-line reason and is closed") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.limits.max_connections = 3;
    running_server srv(cfg);
    client a(srv.echo_port()), b(srv.echo_port()), c(srv.echo_port());
    a.send("a\n");
    REQUIRE(a.recv_line() == std::optional<std::string>("a"));
    client d(srv.echo_port());
    CHECK(d.recv_line() == std::optional<std::string>("error: too many connections"));
    CHECK(d.wait_closed());
    auto body = http_get(srv.metrics_port(), "/metrics");
    CHECK(metric(body, "simul_connections_rejected_total{service=\"echo\"}") == 1);
    // The others are unaffected, and a slot frees up when one leaves.
    c.send("c\n");
    CHECK(c.recv_line() == std::optional<std::string>("c"));
    a = client();
    CHECK(eventually([&] {
      client e(srv.echo_port());
      e.send("e\n");
      return e.recv_line(2s) == std::optional<std::string>("e");
    }));
  });
}

TEST_CASE("over limits.max_connections_per_ip the extra client is refused") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.limits.max_connections_per_ip = 2;
    running_server srv(cfg);
    client a(srv.echo_port()), b(srv.echo_port());
    client c(srv.echo_port());
    CHECK(c.recv_line() == std::optional<std::string>("error: too many connections from your address"));
    CHECK(c.wait_closed());
    // Another source address is counted separately.
    client other(srv.echo_port(), "127.0.0.1", "127.0.0.2");
    other.send("hi\n");
    CHECK(other.recv_line() == std::optional<std::string>("hi"));
  });
}
