// Integration tests of TLS (async model) over real sockets: TLS and plaintext users in one
// room, echo over TLS, openssl s_client, protocol versions, the handshake deadline, bad
// certificates at start-up, and the certificate reload on SIGHUP. Certificates are made at
// test time (tls_support), never committed.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <regex>

#include "server/common/reload.hpp"
#include "tests/common/process.hpp"
#include "tests/server/tls_support.hpp"

using namespace simul::test;
using simul::server::model_kind;

namespace {

simul::server::config tls_server_config(const test_cert& cert) {
  auto cfg = test_config(model_kind::async);
  cfg.tls.cert_file = cert.cert_file;
  cfg.tls.key_file = cert.key_file;
  cfg.tls.chat = {true, 0};
  cfg.tls.echo = {true, 0};
  return cfg;
}

void register_tls(tls_client& c, const std::string& nick) {
  REQUIRE_MESSAGE(c.handshake(), c.error());
  c.send("NICK " + nick + "\r\nUSER " + nick + " 0 * :" + nick + "\r\n");
  REQUIRE(c.wait_for(" 422 ").has_value());
}

client register_plain(std::uint16_t port, const std::string& nick) {
  client c(port);
  c.send("NICK " + nick + "\r\nUSER " + nick + " 0 * :" + nick + "\r\n");
  REQUIRE(c.wait_for(" 422 ").has_value());
  return c;
}

// The output of a shell command (stderr dropped).
std::string run(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(command.c_str(), "r"), &::pclose);
  REQUIRE(p);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p.get())) out.append(buf, n);
  return out;
}

// A config file serving chat over TLS on a port picked now.
std::string tls_config_file(const test_cert& cert, std::uint16_t tls_port) {
  return temp_file("echo:\n  port: 0\nchat:\n  port: 0\n  tls_port: " + std::to_string(tls_port) +
                   "\nmetrics:\n  port: 0\nlog:\n  stats_interval_seconds: 0\ntls:\n  cert_file: " + cert.cert_file +
                   "\n  key_file: " + cert.key_file + "\n");
}

}  // namespace

TEST_CASE("tls: a TLS user and a plaintext user talk in one room") {
  test_cert cert;
  make_test_cert(cert, "simul-test");
  running_server srv(tls_server_config(cert));
  REQUIRE(srv.get().chat_tls_port() != 0);
  tls_client alice(srv.get().chat_tls_port());
  register_tls(alice, "alice");
  CHECK(alice.peer_common_name() == "simul-test");
  auto bob = register_plain(srv.chat_port(), "bob");
  alice.send("JOIN #mixed\r\n");
  REQUIRE(alice.wait_for(" 366 ").has_value());
  bob.send("JOIN #mixed\r\n");
  REQUIRE(bob.wait_for(" 366 ").has_value());
  REQUIRE(alice.wait_for("JOIN").value_or("").find(":bob!") == 0);
  alice.send("PRIVMSG #mixed :hello over TLS\r\n");
  CHECK(bob.wait_for("PRIVMSG").value_or("").find(":alice!") == 0);
  bob.send("PRIVMSG #mixed :hello in the clear\r\n");
  CHECK(alice.wait_for("PRIVMSG").value_or("").find("hello in the clear") != std::string::npos);
  CHECK(eventually([&] { return scrape(srv.metrics_port(), "simul_tls_connections{service=\"chat\"}") == 1; }));
}

TEST_CASE("tls: echo over TLS returns every byte, in records larger and smaller than one") {
  for (auto kind : {key_kind::ecdsa_p256, key_kind::rsa_2048}) {
    CAPTURE(static_cast<int>(kind));
    test_cert cert;
    make_test_cert(cert, "echo-test", kind);
    running_server srv(tls_server_config(cert));
    tls_client c(srv.get().echo_tls_port());
    REQUIRE_MESSAGE(c.handshake(), c.error());
    CHECK(c.protocol() == "TLSv1.3");
    c.send("ping\n");
    CHECK(c.recv_exact(5) == "ping\n");
    std::string big;
    for (int i = 0; big.size() < 100000; ++i) big += std::to_string(i) + ',';
    c.send(big);
    CHECK(c.recv_exact(big.size()) == big);
    CHECK(eventually([&] { return scrape(srv.metrics_port(), "simul_tls_handshake_duration_seconds_count") == 1; }));
  }
}

TEST_CASE("tls: openssl s_client registers on the chat TLS port") {
  test_cert cert;
  make_test_cert(cert, "s-client-test");
  running_server srv(tls_server_config(cert));
  // -ign_eof: stay connected after the input ends; QUIT makes the server close, ending s_client.
  auto out = run("printf 'NICK sclient\\r\\nUSER s 0 * :S\\r\\nQUIT :bye\\r\\n' | timeout 20 openssl s_client "
                 "-connect 127.0.0.1:" + std::to_string(srv.get().chat_tls_port()) + " -quiet -ign_eof 2>/dev/null");
  CHECK(out.find(" 001 sclient ") != std::string::npos);
  CHECK(out.find("ERROR :") != std::string::npos);
}

TEST_CASE("tls: TLS 1.2 and 1.3 are served, TLS 1.1 and below refused") {
  test_cert cert;
  make_test_cert(cert, "versions");
  running_server srv(tls_server_config(cert));
  const auto port = srv.get().echo_tls_port();
  {
    tls_client v12(port, TLS1_2_VERSION);
    REQUIRE_MESSAGE(v12.handshake(), v12.error());
    CHECK(v12.protocol() == "TLSv1.2");
  }
  for (int version : {TLS1_1_VERSION, TLS1_VERSION}) {
    CAPTURE(version);
    tls_client old(port, version);
    CHECK_FALSE(old.handshake());
  }
  // The server saw both attempts and refused them for their version, not the client itself.
  CHECK(eventually([&] {
    return scrape(srv.metrics_port(), "simul_tls_handshake_failures_total{reason=\"version\"}") == 2;
  }));
}

TEST_CASE("tls: a stalled handshake is cut at its deadline; a slow one within it completes") {
  test_cert cert;
  make_test_cert(cert, "stall");
  auto cfg = tls_server_config(cert);
  cfg.tls.handshake_timeout = std::chrono::milliseconds(500);
  running_server srv(cfg);
  client silent(srv.get().chat_tls_port());  // connects, never sends a ClientHello
  client partial(srv.get().echo_tls_port());
  partial.send(std::string("\x16\x03\x01\x02\x00\x01", 6));  // the start of a ClientHello, no more
  CHECK(silent.wait_closed(10s));
  CHECK(partial.wait_closed(10s));
  CHECK(eventually([&] {
    return scrape(srv.metrics_port(), "simul_tls_handshake_failures_total{reason=\"timeout\"}") == 2;
  }));
  for (const char* svc : {"chat", "echo"}) {
    CAPTURE(svc);
    CHECK(scrape(srv.metrics_port(), std::string("simul_disconnects_total{service=\"") + svc + "\",reason=\"handshake\"}") == 1);
  }
  tls_client fine(srv.get().echo_tls_port());
  CHECK(fine.handshake());
}

TEST_CASE("tls: a bad, missing, mismatched or expired certificate exits 2 naming the file (--check-config: 1)") {
  test_cert good, other, expired, future;
  make_test_cert(good, "good");
  make_test_cert(other, "other", key_kind::rsa_2048);
  make_test_cert(expired, "expired", key_kind::ecdsa_p256, -std::chrono::hours(48), std::chrono::hours(24));
  make_test_cert(future, "future", key_kind::ecdsa_p256, std::chrono::hours(24), std::chrono::hours(24));
  struct bad_case {
    std::string cert, key, file, reason;
  };
  const bad_case cases[] = {
      {"/nonexistent/cert.pem", good.key_file, "/nonexistent/cert.pem", "No such file or directory"},
      {good.cert_file, "/nonexistent/key.pem", "/nonexistent/key.pem", "No such file or directory"},
      {good.key_file, good.key_file, "tls.cert_file " + good.key_file, "not a PEM certificate"},
      {good.cert_file, good.cert_file, "tls.key_file " + good.cert_file, "private key"},
      {good.cert_file, other.key_file, "tls.key_file " + other.key_file, "does not match the certificate"},
      {expired.cert_file, expired.key_file, "tls.cert_file " + expired.cert_file, "certificate expired on"},
      {future.cert_file, future.key_file, "tls.cert_file " + future.cert_file, "not valid before"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.reason);
    auto path = temp_file("chat:\n  port: 0\necho:\n  port: 0\nmetrics:\n  enabled: false\ntls:\n  cert_file: " +
                          c.cert + "\n  key_file: " + c.key + "\n");
    server_process p({"--config", path});
    CHECK(p.wait() == std::optional<int>(2));
    auto err = p.stderr_text();
    CAPTURE(err);
    CHECK(err.find("error: ") == 0);
    CHECK(err.find(c.file) != std::string::npos);
    CHECK(err.find(c.reason) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    // --check-config reads the same files and reports the same line, as an invalid config.
    server_process check({"--config", path, "--check-config"});
    CHECK(check.wait() == std::optional<int>(1));
    CHECK(check.stderr_text() == err);
  }
  server_process good_check({"--config", tls_config_file(good, free_port()), "--check-config"});
  CHECK(good_check.wait() == std::optional<int>(0));
  CHECK(good_check.stderr_text().empty());
}

TEST_CASE("tls: over limits.max_connections a TLS client is told why over TLS, as a plain client is") {
  test_cert cert;
  make_test_cert(cert, "refusal");
  auto cfg = tls_server_config(cert);
  cfg.limits.max_connections = 1;
  SUBCASE("with limits.tls_refusal_handshakes: the reason line, then the close") {
    running_server srv(cfg);
    tls_client first(srv.get().echo_tls_port());
    REQUIRE_MESSAGE(first.handshake(), first.error());
    first.send("x\n");
    REQUIRE(first.recv_exact(2) == "x\n");
    tls_client echo_refused(srv.get().echo_tls_port());
    REQUIRE_MESSAGE(echo_refused.handshake(), echo_refused.error());
    CHECK(echo_refused.recv_line() == std::optional<std::string>("error: too many connections"));
    CHECK(echo_refused.wait_closed());
    tls_client chat_refused(srv.get().chat_tls_port());
    REQUIRE_MESSAGE(chat_refused.handshake(), chat_refused.error());
    CHECK(chat_refused.recv_line() == std::optional<std::string>("ERROR :too many connections"));
    CHECK(chat_refused.wait_closed());
    first.send("y\n");  // the admitted client is served on
    CHECK(first.recv_exact(2) == "y\n");
    CHECK(scrape(srv.metrics_port(), "simul_tls_handshake_duration_seconds_count") == 1);  // refusals not counted
  }
  SUBCASE("with limits.tls_refusal_handshakes 0: closed without a handshake") {
    cfg.tls.refusal_handshakes = 0;
    running_server srv(cfg);
    tls_client first(srv.get().echo_tls_port());
    REQUIRE_MESSAGE(first.handshake(), first.error());
    tls_client refused(srv.get().echo_tls_port());
    CHECK_FALSE(refused.handshake());
  }
}

TEST_CASE("tls: the threaded model refuses a TLS config with a config error") {
  test_cert cert;
  make_test_cert(cert, "threaded");
  server_process p({"--config", tls_config_file(cert, free_port()), "--model", "threaded"});
  CHECK(p.wait() == std::optional<int>(2));
  CHECK(p.stderr_text().find("tls.cert_file: TLS is served by the async model only") != std::string::npos);
}

TEST_CASE("tls: config keys: a TLS port of 0 is off, a key needs a certificate, ports may not clash") {
  using simul::server::load_config_text;
  auto cfg = load_config_text("echo:\n  tls_port: 7443\nchat:\n  tls_port: 0\ntls:\n  cert_file: c.pem\n  key_file: k.pem\n",
                              "t.yaml");
  CHECK(cfg.tls.echo.enabled);
  CHECK(cfg.tls.echo.port == 7443);
  CHECK_FALSE(cfg.tls.chat.enabled);
  CHECK(cfg.tls.cert_file.find("/c.pem") != std::string::npos);  // made absolute
  CHECK(load_config_text("", "t.yaml").tls.chat.port == 6697);
  CHECK_THROWS_WITH_AS(load_config_text("tls:\n  key_file: k.pem\n", "t.yaml"),
                       doctest::Contains("tls.cert_file: must be set when tls.key_file is"),
                       simul::server::config_error);
  CHECK_THROWS_WITH_AS(load_config_text("chat:\n  tls_port: 7007\ntls:\n  cert_file: c.pem\n  key_file: k.pem\n", "t.yaml"),
                       doctest::Contains("same port as echo.port"), simul::server::config_error);
  CHECK_THROWS_WITH_AS(load_config_text("timeouts:\n  tls_handshake_seconds: 0\n", "t.yaml"),
                       doctest::Contains("timeouts.tls_handshake_seconds"), simul::server::config_error);
}

TEST_CASE("tls: SIGHUP swaps the certificate: new connections see the new one, old ones stay") {
  test_cert cert;
  make_test_cert(cert, "before-reload");
  server_process p({"--config", tls_config_file(cert, free_port())});
  REQUIRE(p.wait_ready());
  std::smatch m;
  auto text = p.stderr_text();
  REQUIRE(std::regex_search(text, m, std::regex(R"(TLS on chat port (\d+))")));
  const auto port = static_cast<std::uint16_t>(std::stoi(m[1]));

  tls_client old(port);
  register_tls(old, "old");
  CHECK(old.peer_common_name() == "before-reload");

  write_test_cert(cert.cert_file, cert.key_file, "after-reload", key_kind::rsa_2048);
  p.signal(SIGHUP);
  REQUIRE(eventually([&] { return p.stderr_text().find("new connections use it") != std::string::npos; }));
  tls_client fresh(port);
  register_tls(fresh, "fresh");
  CHECK(fresh.peer_common_name() == "after-reload");
  old.send("PING :still-here\r\n");
  CHECK(old.wait_for("PONG").value_or("").find("still-here") != std::string::npos);

  // A broken file on the next SIGHUP is reported and the running certificate stays.
  std::ofstream(cert.key_file) << "not a key\n";
  p.signal(SIGHUP);
  REQUIRE(eventually([&] { return p.stderr_text().find("the running certificate stays") != std::string::npos; }));
  tls_client after_failure(port);
  REQUIRE_MESSAGE(after_failure.handshake(), after_failure.error());
  CHECK(after_failure.peer_common_name() == "after-reload");
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}

TEST_CASE("tls: simul-load --tls runs every scenario against the TLS ports and reports its handshakes") {
  test_cert cert;
  make_test_cert(cert, "localhost");
  server_process srv({"--config", tls_config_file(cert, free_port()), "--echo-port", "0"});
  REQUIRE(srv.wait_ready());
  std::smatch m;
  auto text = srv.stderr_text();
  REQUIRE(std::regex_search(text, m, std::regex(R"(TLS on chat port (\d+))")));
  const std::string chat = m[1];
  auto load = [&](const std::string& name, std::vector<std::string> args) {
    const auto json = temp_path("tls-" + name + ".json");
    args.insert(args.end(), {"--threads", "2", "--quiet", "--max-errors", "0", "--json", json, "--port", chat});
    auto r = run_program(SIMUL_LOAD_BIN, args);
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    return json;
  };
  // The chat TLS port serves every scenario that only needs a byte stream; chat registers.
  auto chat_json = load("chat", {"chat", "--tls", "--insecure", "--users", "20", "--rooms", "2", "--rate", "4",
                                 "--duration", "1s"});
  CHECK(python_json_check(chat_json, "d['tls']['handshakes']==20 and d['tls']['handshakes_per_s']>0 and "
                                     "d['results']['chat']['lost']==0 and d['errors']['total']==0"));
  // Verified against the certificate as its CA, by name.
  auto idle_json = load("idle", {"idle", "--tls", "--ca-file", cert.cert_file, "--host", "localhost",
                                 "--connections", "50", "--duration", "1s"});
  CHECK(python_json_check(idle_json, "d['tls']['handshakes']==50 and d['tls']['handshake_latency_us']['count']==50"));
  // Without --insecure an unknown certificate fails the connections, named.
  auto r = run_program(SIMUL_LOAD_BIN, {"idle", "--tls", "--port", chat, "--connections", "2", "--duration", "1s",
                                        "--quiet", "--threads", "1"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("certificate verify failed") != std::string::npos);
}

TEST_CASE("tls: a config reload applies new certificate files and the handshake deadline; TLS on or off needs a restart") {
  using namespace simul::server;
  config running;
  running.tls.cert_file = "/a/cert.pem";
  running.tls.key_file = "/a/key.pem";
  config next = running;
  next.tls.cert_file = "/b/cert.pem";
  next.tls.key_file = "/b/key.pem";
  next.tls.handshake_timeout = std::chrono::seconds(3);
  config_change change;
  auto merged = merge_reload(running, next, change);
  CHECK(merged.tls.cert_file == "/b/cert.pem");
  CHECK(merged.tls.key_file == "/b/key.pem");
  CHECK(merged.tls.handshake_timeout == std::chrono::seconds(3));
  CHECK(change.restart.empty());

  config off = running;
  off.tls.cert_file.clear();
  off.tls.key_file.clear();
  merged = merge_reload(running, off, change);
  CHECK(merged.tls.cert_file == "/a/cert.pem");
  CHECK(std::find(change.restart.begin(), change.restart.end(), "tls.cert_file") != change.restart.end());
  CHECK(change.applied.empty());
}
