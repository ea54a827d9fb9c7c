// SIGHUP reloads the config file: run-time keys apply without a restart, restart-only keys are
// named, and an invalid file leaves the server running on the config it had.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <fstream>

#include "tests/server/test_support.hpp"

using namespace simul::test;

namespace {

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

std::string config_text(model_kind m, const std::string& motd, int max_connections, const std::string& bind) {
  return "model: " + model_name(m) + "\nbind: " + bind + "\necho:\n  port: 0\nchat:\n  port: 0\n  motd: \"" + motd +
         "\"\nmetrics:\n  port: 0\nlimits:\n  max_connections: " + std::to_string(max_connections) + "\n";
}

// Registers and returns the MOTD line (372) of the welcome burst.
std::string motd_of(client& c, const std::string& nick) {
  c.send("NICK " + nick + "\r\nUSER " + nick + " 0 * :" + nick + "\r\n");
  auto line = c.wait_for(" 372 ");
  REQUIRE(line.has_value());
  REQUIRE(c.wait_for(" 376 ").has_value());
  return *line;
}

}  // namespace

TEST_CASE("SIGHUP applies a new MOTD and connection limit without a restart and names keys that need one") {
  for_each_model([&](model_kind m) {
    const auto path = temp_file(config_text(m, "first words", 100, "127.0.0.1"));
    server_process p({"--config", path});
    REQUIRE(p.wait_ready());
    client first(p.chat_port);
    CHECK(motd_of(first, "first").find("first words") != std::string::npos);

    write_file(path, config_text(m, "second words", 2, "0.0.0.0"));
    p.signal(SIGHUP);
    REQUIRE(eventually([&] { return scrape(p.metrics_port, "simul_config_reloads_total{result=\"applied\"}") == 1; }));
    auto log = p.stderr_text();
    CHECK(log.find("reload: chat.motd: \"first words\" -> \"second words\"") != std::string::npos);
    CHECK(log.find("reload: limits.max_connections: 100 -> 2") != std::string::npos);
    CHECK(log.find("reload: bind: \"127.0.0.1\" -> \"0.0.0.0\" needs a restart") != std::string::npos);

    client second(p.chat_port);  // two open now: the new limit
    CHECK(motd_of(second, "second").find("second words") != std::string::npos);
    client third(p.chat_port);
    CHECK(third.wait_for("ERROR").value_or("").find("too many connections") != std::string::npos);

    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
  });
}

TEST_CASE("SIGHUP with an invalid file keeps the running config and says where the error is") {
  for_each_model([&](model_kind m) {
    const auto path = temp_file(config_text(m, "still here", 100, "127.0.0.1"));
    server_process p({"--config", path});
    REQUIRE(p.wait_ready());
    write_file(path, "limits:\n  max_connections: -5\n");
    p.signal(SIGHUP);
    REQUIRE(eventually([&] { return scrape(p.metrics_port, "simul_config_reloads_total{result=\"failed\"}") == 1; }));
    auto log = p.stderr_text();
    CHECK(log.find("reload failed, keeping the running config: " + path + ":2:") != std::string::npos);
    CHECK(log.find("limits.max_connections") != std::string::npos);
    client c(p.chat_port);
    CHECK(motd_of(c, "after").find("still here") != std::string::npos);
    CHECK(scrape(p.metrics_port, "simul_config_reloads_total{result=\"applied\"}") == 0);
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
  });
}

TEST_CASE("SIGHUP without a config file is logged and ignored; the server runs on") {
  for_each_model([&](model_kind m) {
    server_process p({"--model", model_name(m), "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"});
    REQUIRE(p.wait_ready());
    p.signal(SIGHUP);
    REQUIRE(eventually([&] { return p.stderr_text().find("SIGHUP ignored: no config file") != std::string::npos; }));
    client c(p.echo_port);
    c.send("ping\n");
    CHECK(c.recv_line() == std::optional<std::string>("ping"));
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
  });
}

TEST_CASE("a reload takes exactly the run-time keys from the new file and keeps every other") {
  using namespace simul::server;
  const config running;
  const config next = load_config_text(
      "model: threaded\nbind: 0.0.0.0\necho:\n  port: 7100\nchat:\n  port: 6700\n  server_name: other.name\n"
      "  motd: \"new motd\"\n  nick_len: 20\nmetrics:\n  port: 9200\n"
      "limits:\n  max_connections: 50\n  max_connections_per_ip: 3\n  max_line_bytes: 1024\n"
      "  sendq_hard_bytes: 2097152\n  sendq_soft_bytes: 1048576\n  sendq_soft_seconds: 5\n  flood_burst: 30\n"
      "  flood_lines_per_second: 5\n  flood_max_backlog_bytes: 4096\n"
      "timeouts:\n  registration_seconds: 20\n  idle_seconds: 100\n  ping_interval_seconds: 60\n  ping_timeout_seconds: 30\n"
      "  worker_scrape_seconds: 3\n"
      "shutdown:\n  drain_seconds: 3\nthreaded:\n  stack_kib: 128\nlog:\n  level: debug\n  format: json\n"
      "  stats_interval_seconds: 5\n",
      "next.yaml");
  config_change change;
  const config merged = merge_reload(running, next, change);
  const auto before = config_values(running), after = config_values(next), now = config_values(merged);
  REQUIRE(before.size() == now.size());
  std::size_t changed = 0;
  for (std::size_t i = 0; i < now.size(); ++i) {
    const auto& key = now[i].first;
    CAPTURE(key);
    CHECK(now[i].second == (reloadable(key) ? after[i].second : before[i].second));
    if (before[i].second != after[i].second) ++changed;
  }
  CHECK(change.applied.size() + change.restart.size() == changed);
  CHECK(change.applied.size() >= 15);
  CHECK(std::find(change.restart.begin(), change.restart.end(), "limits.max_line_bytes") != change.restart.end());
  CHECK(std::find(change.restart.begin(), change.restart.end(), "model") != change.restart.end());
}
