// What the server logs about connections: accept and close at debug, refusals at info.
#include <doctest/doctest.h>

#include <signal.h>

#include "tests/common/process.hpp"
#include "tests/server/test_support.hpp"

using namespace simul::test;

namespace {

// A config file for `m` on free ports, logging JSON at debug, with `extra` YAML appended.
std::string json_debug_config(model_kind m, const std::string& extra = "") {
  return temp_file("model: " + model_name(m) +
                   "\necho:\n  port: 0\nchat:\n  port: 0\nmetrics:\n  port: 0\n" + extra +
                   "log:\n  level: debug\n  format: json\n");
}

// Whether the Python expression `holds` is true of L, the server's stderr parsed line by line as
// JSON (every line must parse). `err` gets python's stderr.
bool json_log_holds(server_process& p, const std::string& holds, std::string& err) {
  const auto log = temp_file(p.stderr_text(), ".log");
  auto r = simul::test::run_program(
      "/usr/bin/python3",
      {"-c", "import json,sys; L=[json.loads(s) for s in open(sys.argv[1]).read().splitlines()]; sys.exit(0 if (" +
                 holds + ") else 1)",
       log});
  err = r.err;
  return r.exit_code == 0;
}

}  // namespace

TEST_CASE("at debug every connection's accept and close are logged with peer, duration, bytes and reason") {
  for_each_model([&](model_kind m) {
    server_process p({"--model", model_name(m), "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0",
                      "--log-level", "debug"});
    REQUIRE(p.wait_ready());
    {
      client c(p.echo_port);
      c.send("hello\n");
      REQUIRE(c.recv_line() == std::optional<std::string>("hello"));
    }
    CHECK(eventually([&] {
      return p.stderr_text().find("echo: closed the connection from 127.0.0.1 after ") != std::string::npos;
    }));
    auto log = p.stderr_text();
    CHECK(log.find("echo: accepted a connection from 127.0.0.1") != std::string::npos);
    CHECK(log.find(" s: 6 B in, 6 B out, reason client") != std::string::npos);
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
  });
}

TEST_CASE("a refused connection is logged at info with the reason") {
  for_each_model([&](model_kind m) {
    const auto path = temp_file("model: " + model_name(m) +
                                "\necho:\n  port: 0\nchat:\n  port: 0\nmetrics:\n  port: 0\nlimits:\n  max_connections: 1\n");
    server_process p({"--config", path});
    REQUIRE(p.wait_ready());
    client first(p.echo_port);
    first.send("x\n");
    REQUIRE(first.recv_line().has_value());  // admitted and served
    client second(p.echo_port);
    CHECK(second.recv_line().value_or("") == "error: too many connections");
    CHECK(eventually([&] {
      return p.stderr_text().find("info echo: refused a connection: too many connections") != std::string::npos;
    }));
    CHECK(p.stderr_text().find("accepted a connection") == std::string::npos);  // debug lines are off at info
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
  });
}

TEST_CASE("a drain cut short by its deadline says how many connections it closed and what it left unsent") {
  for_each_model([&](model_kind m) {
    const auto path = temp_file("model: " + model_name(m) +
                                "\necho:\n  port: 0\nchat:\n  port: 0\nmetrics:\n  port: 0\nshutdown:\n  drain_seconds: 0\n"
                                "limits:\n  sendq_hard_bytes: 67108864\n  sendq_soft_bytes: 67108864\n  flood_burst: 100000\n"
                                "  flood_lines_per_second: 1000000\n  flood_max_backlog_bytes: 67108864\n");
    server_process p({"--config", path});
    REQUIRE(p.wait_ready());
    // A chat client that never reads, with far more queued for it than its socket holds.
    client sleeper(p.chat_port), talker(p.chat_port);
    for (auto* c : {&sleeper, &talker}) c->send("NICK n" + std::to_string(c->fd()) + "\r\nUSER u 0 * :u\r\n");
    REQUIRE(talker.wait_for(" 422 ").has_value());
    const std::string target = "n" + std::to_string(sleeper.fd());
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += "PRIVMSG " + target + " :" + std::string(400, 'z') + "\r\n";
    for (int i = 0; i < 400; ++i) talker.send(batch);  // 16 MB: far over the socket buffers, under the SendQ
    REQUIRE(eventually([&] { return scrape(p.metrics_port, "simul_chat_lines_sent_total") >= 40000; }));
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
    auto log = p.stderr_text();
    auto at = log.find("still open after 0s; closing them, ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoull(log.substr(at + 35)) > 0);  // queued bytes unsent
    CHECK(log.find("connections were closed at the deadline") != std::string::npos);
    CHECK(log.find("every connection closed cleanly") == std::string::npos);
  });
}

TEST_CASE("a drain that finishes in time says so") {
  for_each_model([&](model_kind m) {
    server_process p({"--model", model_name(m), "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"});
    REQUIRE(p.wait_ready());
    client c(p.echo_port);
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
    CHECK(p.stderr_text().find("drain complete: every connection closed cleanly") != std::string::npos);
  });
}

TEST_CASE("under --log-format json a start-up error is a JSON log line too") {
  server_process busy({"--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"});
  REQUIRE(busy.wait_ready());
  const std::string port = std::to_string(busy.echo_port);
  server_process p({"--echo-port", port, "--chat-port", "0", "--metrics-port", "0", "--log-format", "json"});
  CHECK(p.wait() == std::optional<int>(2));
  auto err = p.stderr_text();
  CHECK(err.rfind("{\"time\":\"", 0) == 0);
  CHECK(err.find("\"level\":\"error\"") != std::string::npos);
  CHECK(err.find("\"msg\":\"echo listener 127.0.0.1:" + port + ": address already in use\"}") != std::string::npos);

  server_process bad({"--config", temp_file("limits:\n  max_connections: -5\n"), "--log-format", "json"});
  CHECK(bad.wait() == std::optional<int>(2));
  CHECK(bad.stderr_text().find("\"level\":\"error\",\"pid\":") != std::string::npos);
  CHECK(bad.stderr_text().find("limits.max_connections") != std::string::npos);
}

TEST_CASE("under --log-format json every line is JSON and connection events carry their facts as keys") {
  for_each_model([&](model_kind m) {
    server_process p({"--config", json_debug_config(m, "limits:\n  max_connections: 1\n")});
    REQUIRE(p.wait_ready());
    {
      client c(p.echo_port);
      c.send("hello\n");
      REQUIRE(c.recv_line() == std::optional<std::string>("hello"));
      client refused(p.echo_port);
      CHECK(refused.recv_line().value_or("") == "error: too many connections");
    }
    CHECK(eventually([&] { return p.stderr_text().find("\"event\":\"connection_closed\"") != std::string::npos; }));
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
    // Every line parses; the events have their keys with the right types and values.
    const std::string check =
        "all(set(l) >= {'time','level','pid','msg'} for l in L)"
        " and [l for l in L if l.get('event')=='connection_accepted' and l['service']=='echo'"
        "      and l['peer']=='127.0.0.1' and l['level']=='debug' and l['msg'].startswith('echo: accepted')]"
        " and [l for l in L if l.get('event')=='connection_closed' and l['service']=='echo' and l['peer']=='127.0.0.1'"
        "      and l['bytes_in']==6 and l['bytes_out']==6 and l['reason']=='client'"
        "      and isinstance(l['duration_s'], float) and l['duration_s']>=0]"
        " and [l for l in L if l.get('event')=='connection_refused' and l['reason']=='too many connections'"
        "      and l['peer']=='127.0.0.1' and l['level']=='info' and l['held_back']==0]"
        " and [l for l in L if l.get('event')=='started' and l['echo_port']==" + std::to_string(p.echo_port) + "]"
        " and [l for l in L if l.get('event')=='drain_complete' and l['closed_at_deadline']==0]";
    std::string err;
    const bool holds = json_log_holds(p, check, err);
    INFO(p.stderr_text(), err);
    CHECK(holds);
  });
}

TEST_CASE("the close line of an echo client that leaves with a backlog counts only what was sent back") {
  // The client sends and stops reading: the server keeps the unsent rest of its last read (at
  // most one 64 KiB read), reads nothing more, and when the client goes the rest is never sent.
  for_each_model([&](model_kind m) {
    server_process p({"--config", json_debug_config(m)});
    REQUIRE(p.wait_ready());
    {
      client c(p.echo_port);
      CHECK(c.fill(std::string(64 * 1024, 'b'), 64u << 20) > 0);
    }  // closed with unread bytes, while the server holds its rest
    CHECK(eventually([&] { return p.stderr_text().find("\"event\":\"connection_closed\"") != std::string::npos; }));
    p.signal(SIGTERM);
    CHECK(p.wait() == std::optional<int>(0));
    std::string err;
    const bool holds = json_log_holds(
        p,
        "[l for l in L if l.get('event')=='connection_closed' and l['service']=='echo'"
        " and l['bytes_out']>0 and 0 <= l['bytes_in']-l['bytes_out'] <= 65536]",
        err);
    INFO(p.stderr_text(), err);
    CHECK(holds);
  });
}
