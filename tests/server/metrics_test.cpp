// Integration tests of the metrics listener: Prometheus text, health and readiness.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <ctime>
#include <regex>
#include <sstream>

#include "tests/server/test_support.hpp"

using namespace simul::test;

TEST_CASE("/metrics is valid Prometheus text and its counters move with traffic") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto before = http_get(srv.metrics_port(), "/metrics");
    REQUIRE(before.rfind("HTTP/1.0 200 OK", 0) == 0);
    CHECK(before.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);

    // Every sample line is `name{labels} value`, and every family has HELP and TYPE.
    auto body = before.substr(before.find("\n\n") + 2);
    std::istringstream in(body);
    std::string line;
    static const std::regex sample(R"([a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+)");
    int samples = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      CHECK_MESSAGE(std::regex_match(line, sample), line);
      ++samples;
    }
    CHECK(samples > 20);
    CHECK(body.find("# TYPE simul_received_bytes_total counter") != std::string::npos);
    CHECK(metric(body, "process_resident_memory_bytes") > 0);
    CHECK(metric(body, "process_open_fds") > 0);

    {
      client c(srv.echo_port());
      c.send("12345\n");
      REQUIRE(c.recv_line() == std::optional<std::string>("12345"));
    }
    auto after = http_get(srv.metrics_port(), "/metrics");
    auto key = std::string("simul_received_bytes_total{service=\"echo\"}");
    CHECK(metric(after, key) == metric(before, key) + 6);
    // The threaded model counts a send after send() returns, which can trail the client's read.
    CHECK(eventually([&] { return scrape(srv.metrics_port(), "simul_sent_bytes_total{service=\"echo\"}") >= 6; }));
    CHECK(metric(after, "simul_connections_accepted_total{service=\"echo\"}") == 1);
    CHECK(eventually([&] {
      return scrape(srv.metrics_port(), "simul_disconnects_total{service=\"echo\",reason=\"client\"}") == 1;
    }));
  });
}

TEST_CASE("/healthz and /readyz answer 200, unknown paths 404, other methods 405") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    CHECK(http_get(srv.metrics_port(), "/healthz").rfind("HTTP/1.0 200", 0) == 0);
    CHECK(http_get(srv.metrics_port(), "/readyz").rfind("HTTP/1.0 200", 0) == 0);
    CHECK(http_get(srv.metrics_port(), "/nope").rfind("HTTP/1.0 404", 0) == 0);
    client c(srv.metrics_port());
    c.send("POST /metrics HTTP/1.0\r\n\r\n");
    CHECK(c.recv_line().value_or("").rfind("HTTP/1.0 405", 0) == 0);
  });
}

TEST_CASE("an oversized or never-finished HTTP request does not hold the metrics listener") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    client big(srv.metrics_port());
    big.send(std::string(20000, 'A'));
    CHECK(big.recv_line().value_or("").rfind("HTTP/1.0 431", 0) == 0);
    client silent(srv.metrics_port());  // says nothing; others are still served meanwhile
    CHECK(http_get(srv.metrics_port(), "/healthz").rfind("HTTP/1.0 200", 0) == 0);
  });
}

TEST_CASE("while draining, /readyz answers 503 and in-flight echo output is still delivered") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.drain_time = 10s;
    running_server srv(cfg);
    client c(srv.echo_port());
    // Make the server's write to us block: send a lot and read nothing yet.
    const std::size_t sent = c.fill(std::string(64 * 1024, 'y'));
    srv.get().request_shutdown();
    CHECK(eventually([&] { return http_get(srv.metrics_port(), "/readyz").rfind("HTTP/1.0 503", 0) == 0; }));
    // Now read: at least what the server had read from us comes back before it closes.
    std::size_t got = 0;
    for (;;) {
      auto part = c.recv_exact(65536, 5s);
      if (part.empty()) break;
      got += part.size();
      CHECK(part.find_first_not_of('y') == std::string::npos);
    }
    CHECK(got > 0);
    CHECK(got <= sent);
    srv.stop();
  });
}

TEST_CASE("/metrics has the standard process_* metrics with their meanings") {
  for_each_model([&](model_kind m) {
    running_server srv(test_config(m));
    auto body = http_get(srv.metrics_port(), "/metrics");
    REQUIRE(body.rfind("HTTP/1.0 200 OK", 0) == 0);
    CHECK(body.find("# TYPE process_cpu_seconds_total counter") != std::string::npos);
    CHECK(metric(body, "process_cpu_seconds_total") >= 0);
    // Started within the last hour (this test's own process), as seconds since the epoch.
    const double now = static_cast<double>(std::time(nullptr));
    const double start = metric(body, "process_start_time_seconds");
    CHECK(start > now - 3600);
    CHECK(start <= now + 1);
    rlimit rl{};
    REQUIRE(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(metric(body, "process_max_fds") == static_cast<double>(rl.rlim_cur));
    const double open = metric(body, "process_open_fds");
    CHECK(open > 3);
    CHECK(open < static_cast<double>(rl.rlim_cur));
    const double rss = metric(body, "process_resident_memory_bytes");
    CHECK(rss > 1 << 20);
    CHECK(metric(body, "process_virtual_memory_bytes") > rss);
    CHECK(metric(body, "process_threads") >= 1);
  });
}

TEST_CASE("disconnects are counted per service: a refused chat client is not an echo disconnect") {
  for_each_model([&](model_kind m) {
    auto cfg = test_config(m);
    cfg.limits.max_connections = 1;
    running_server srv(cfg);
    client held(srv.echo_port());
    held.send("x\n");
    REQUIRE(held.recv_line().has_value());
    client refused(srv.chat_port());
    REQUIRE(refused.wait_for("ERROR").has_value());
    CHECK(eventually([&] {
      return scrape(srv.metrics_port(), "simul_disconnects_total{service=\"chat\",reason=\"rejected\"}") == 1;
    }));
    CHECK(scrape(srv.metrics_port(), "simul_disconnects_total{service=\"echo\",reason=\"rejected\"}") == 0);
  });
}
