// Tests of the simul-server binary as users run it: exit codes, signals, start-up errors.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/common/process.hpp"
#include "tests/server/test_support.hpp"

using namespace simul::test;

namespace {
const std::vector<std::string> any_ports = {"--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"};

std::vector<std::string> args(std::vector<std::string> extra) {
  auto a = any_ports;
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// A port that was free a moment ago: bound to port 0 on loopback, read back, released. A config
// file needs a concrete port for `--probe` to find.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
               ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(bound);
  return ntohs(addr.sin_port);
}

// simul-server run to completion (a probe), with its output captured.
run_output run_server(const std::vector<std::string>& args) {
  return run_program(SIMUL_SERVER_BIN, args);
}
}  // namespace

TEST_CASE("a bad config file exits 2 with a message naming the key and line:column") {
  auto path = temp_file("echo:\n  port: 7007\nlimits:\n  max_line_bytez: 512\n");
  server_process p({"--config", path});
  CHECK(p.wait() == std::optional<int>(2));
  auto err = p.stderr_text();
  CHECK(err.find("max_line_bytez") != std::string::npos);
  CHECK(err.find(":4:3") != std::string::npos);
}

TEST_CASE("--check-config exits 0 for the shipped config and 1 for a bad one") {
  server_process good({"--config", std::string(SIMUL_SOURCE_DIR) + "/config/server.yaml", "--check-config"});
  CHECK(good.wait() == std::optional<int>(0));
  server_process bad({"--config", temp_file("limits:\n  max_connections: -5\n"), "--check-config"});
  CHECK(bad.wait() == std::optional<int>(1));
  CHECK(bad.stderr_text().find("limits.max_connections") != std::string::npos);
}

TEST_CASE("a port already in use exits 2 naming the listener and address") {
  for_each_model([&](model_kind m) {
    running_server holder(test_config(m));
    auto port = std::to_string(holder.echo_port());
    server_process p({"--model", model_name(m), "--echo-port", port, "--chat-port", "0", "--metrics-port", "0"});
    CHECK(p.wait() == std::optional<int>(2));
    CHECK(p.stderr_text().find("error: echo listener 127.0.0.1:" + port + ": address already in use") !=
          std::string::npos);
  });
}

TEST_CASE("SIGTERM under load drains and exits 0") {
  for_each_model([&](model_kind m) {
    server_process p(args({"--model", model_name(m)}));
    REQUIRE(p.wait_ready());
    std::vector<client> clients;
    for (int i = 0; i < 200; ++i) clients.emplace_back(p.echo_port);
    for (int i = 0; i < 200; ++i) clients[i].send(std::string(1000, 'z'));
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
    for (auto& c : clients) CHECK(c.wait_closed(2s));
    CHECK(p.stderr_text().find("drain complete") != std::string::npos);
  });
}

TEST_CASE("a second signal during the drain exits at once") {
  for_each_model([&](model_kind m) {
    server_process p(args({"--model", model_name(m)}));
    REQUIRE(p.wait_ready());
    client c(p.echo_port);
    c.fill(std::string(65536, 'q'));  // a blocked write keeps the drain waiting
    p.signal(SIGTERM);
    REQUIRE(eventually([&] { return p.stderr_text().find("draining") != std::string::npos; }));
    p.signal(SIGINT);
    CHECK(p.wait(5s) == std::optional<int>(1));
  });
}

TEST_CASE("--probe alone probes the metrics listener the server's config file sets") {
  for_each_model([&](model_kind m) {
    const std::string port = std::to_string(free_port());
    const std::string config = temp_file("model: " + model_name(m) + "\necho:\n  port: 0\n" +
                                         "chat:\n  port: 0\nmetrics:\n  port: " + port + "\n");
    server_process server({"--config", config});
    REQUIRE(server.wait_ready());
    REQUIRE(std::to_string(server.metrics_port) == port);
    auto healthy = run_server({"--config", config, "--probe"});
    CHECK(healthy.exit_code == 0);
    CHECK(healthy.out == "probe 127.0.0.1:" + port + ": HTTP/1.0 200 OK\n");
    server.signal(SIGTERM);
    REQUIRE(server.wait() == std::optional<int>(0));
    auto gone = run_server({"--config", config, "--probe"});
    CHECK(gone.exit_code == 1);
    CHECK(gone.out == "probe 127.0.0.1:" + port + ": Connection refused\n");
  });
}

TEST_CASE("--probe alone fails with a message naming the key when the config disables metrics") {
  const std::string config = temp_file("metrics:\n  enabled: false\n");
  auto r = run_server({"--config", config, "--probe"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "error: " + config +
                     ":2:3: metrics.enabled: --probe needs the metrics listener (GET /healthz), "
                     "and this configuration disables it\n");
}

TEST_CASE("--version prints the version and exits 0") {
  server_process p({"--version"});
  CHECK(p.wait() == std::optional<int>(0));
}
