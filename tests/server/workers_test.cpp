// simul-server --workers N, as users run it: N worker processes share the echo port, one
// scrape of the metrics port covers them all, a worker that dies is restarted, and SIGTERM,
// SIGINT and SIGHUP reach every worker through the supervisor.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "tests/common/redis_server.hpp"
#include "tests/server/test_support.hpp"
#include "tests/server/tls_support.hpp"

using namespace simul::test;

namespace {

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::trunc) << text; }

// Three workers, echo and metrics on any free port, no chat.
std::string workers_config(const std::string& extra = "") {
  return "workers: 3\necho:\n  port: 0\nchat:\n  enabled: false\nmetrics:\n  port: 0\n" + extra;
}

// The worker pids of the start-up line ("... workers=3 pids=11,12,13").
std::vector<int> worker_pids(const server_process& p) {
  static const std::regex pids(R"(workers=\d+ pids=([\d,]+))");
  std::smatch m;
  const auto text = p.stderr_text();
  std::vector<int> out;
  if (!std::regex_search(text, m, pids)) return out;
  std::stringstream list(m[1].str());
  for (std::string pid; std::getline(list, pid, ',');) out.push_back(std::stoi(pid));
  return out;
}

std::string worker_sample(const std::string& name, int worker, const std::string& labels = "") {
  return name + "{worker=\"" + std::to_string(worker) + "\"" + (labels.empty() ? "" : "," + labels) + "}";
}

// `n` clients that each echo one line; returns how many got their line back.
int echo_round(std::uint16_t port, int n, std::vector<client>* keep = nullptr) {
  int ok = 0;
  std::vector<client> clients;
  for (int i = 0; i < n; ++i) clients.emplace_back(port);
  for (int i = 0; i < n; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    clients[i].send(line);
    ok += clients[i].recv_exact(line.size()) == line;
  }
  if (keep) *keep = std::move(clients);
  return ok;
}

bool alive(int pid) { return ::kill(pid, 0) == 0; }

// Waits until the server's log matches `line`, whose first group is a pid; returns that pid, or
// -1 if the line never came. `log` gets the log as it was then.
int logged_pid(const server_process& p, const std::regex& line, std::string& log) {
  std::smatch m;
  if (!eventually([&] {
        log = p.stderr_text();
        return std::regex_search(log, m, line);
      }))
    return -1;
  return std::stoi(m[1].str());
}

}  // namespace

TEST_CASE("workers: connections spread over the workers, every one echoes, and one scrape counts each worker") {
  server_process p({"--config", temp_file(workers_config())});
  REQUIRE(p.wait_ready());
  REQUIRE(worker_pids(p).size() == 3);
  std::vector<client> open;
  CHECK(echo_round(p.echo_port, 60, &open) == 60);
  const auto body = http_get(p.metrics_port, "/metrics");
  double total = 0;
  int serving = 0;
  for (int w = 1; w <= 3; ++w) {
    const double n = metric(body, worker_sample("simul_connections", w, "service=\"echo\""));
    CHECK(n >= 0);  // each worker is in the scrape
    total += n;
    serving += n > 0;
    CHECK(metric(body, worker_sample("process_resident_memory_bytes", w)) > 0);
    CHECK(metric(body, worker_sample("simul_worker_scraped", w)) == 1);
  }
  CHECK(total == 60);
  CHECK(serving >= 2);  // the kernel spread them (all 60 on one of 3: odds 3^-59)
  CHECK(metric(body, "simul_workers") == 3);
  CHECK(metric(body, "simul_workers_running") == 3);
  CHECK(metric(body, "process_resident_memory_bytes") > 0);  // the supervisor's own
  // One family, one HELP line, however many workers report it.
  CHECK(body.find("# HELP simul_connections ") == body.rfind("# HELP simul_connections "));
  CHECK(http_get(p.metrics_port, "/readyz").find("200 OK") != std::string::npos);
  CHECK(http_get(p.metrics_port, "/healthz").find("200 OK") != std::string::npos);
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}

TEST_CASE("workers: a worker killed with SIGKILL is restarted and counted while the others keep serving") {
  server_process p({"--config", temp_file(workers_config())});
  REQUIRE(p.wait_ready());
  const auto pids = worker_pids(p);
  REQUIRE(pids.size() == 3);
  REQUIRE(::kill(pids[1], SIGKILL) == 0);
  // Once it is reaped its listener is gone (connections still in its accept queue were reset):
  // new ones go to the others, or to worker 2 again.
  const std::string death = "worker 2 (pid " + std::to_string(pids[1]) + ") killed by signal 9 (SIGKILL)";
  REQUIRE(eventually([&] { return p.stderr_text().find(death) != std::string::npos; }));
  CHECK(echo_round(p.echo_port, 30) == 30);
  REQUIRE(eventually([&] {
    const auto body = http_get(p.metrics_port, "/metrics");
    return metric(body, worker_sample("simul_worker_restarts_total", 2)) == 1 &&
           metric(body, "simul_workers_running") == 3;
  }));
  CHECK(p.stderr_text().find("worker 2 running again") != std::string::npos);
  const auto body = http_get(p.metrics_port, "/metrics");
  CHECK(metric(body, worker_sample("simul_worker_restarts_total", 1)) == 0);
  CHECK(metric(body, worker_sample("simul_worker_restarts_total", 3)) == 0);
  CHECK(echo_round(p.echo_port, 30) == 30);
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}

TEST_CASE("workers: SIGTERM drains every worker, closes their clients and exits 0") {
  server_process p({"--config", temp_file(workers_config())});
  REQUIRE(p.wait_ready());
  const auto pids = worker_pids(p);
  REQUIRE(pids.size() == 3);
  std::vector<client> open;
  REQUIRE(echo_round(p.echo_port, 30, &open) == 30);
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
  for (auto& c : open) CHECK(c.wait_closed(2s));
  for (int pid : pids) CHECK_FALSE(alive(pid));
  const auto log = p.stderr_text();
  for (int w = 1; w <= 3; ++w)
    CHECK(log.find("[worker " + std::to_string(w) + "] drain complete") != std::string::npos);
  CHECK(log.find("every worker has exited") != std::string::npos);
}

TEST_CASE("workers: /readyz is 503 while the workers drain, and a second signal exits at once") {
  server_process p({"--config", temp_file(workers_config())});
  REQUIRE(p.wait_ready());
  std::vector<client> open;
  REQUIRE(echo_round(p.echo_port, 6, &open) == 6);
  for (auto& c : open) c.fill(std::string(65536, 'q'));  // blocked writes keep their workers draining
  p.signal(SIGTERM);
  REQUIRE(eventually([&] { return p.stderr_text().find("draining") != std::string::npos; }));
  const auto ready = http_get(p.metrics_port, "/readyz");
  CHECK(ready.find("503") != std::string::npos);
  CHECK(ready.find("draining") != std::string::npos);
  p.signal(SIGINT);
  CHECK(p.wait(5s) == std::optional<int>(1));
}

TEST_CASE("workers: on a chat network /readyz is 503 naming the workers cut off from it, and 200 once they are back") {
  redis_server redis;
  REQUIRE(redis.ok());
  server_process p({"--config", temp_file("workers: 2\necho:\n  port: 0\nchat:\n  port: 0\nmetrics:\n  port: 0\n"
                                          "cluster:\n  redis: \"" + redis.address() + "\"\n")});
  REQUIRE(p.wait_ready());
  auto readyz = [&] { return http_get(p.metrics_port, "/readyz"); };
  REQUIRE(eventually([&] { return readyz().find(" 200 ") != std::string::npos; }));

  redis.kill9();  // both workers lose the network; the supervisor itself is fine
  std::string answer;
  CHECK(eventually([&] {
    answer = readyz();
    return answer.find("worker 1: chat network unavailable") != std::string::npos &&
           answer.find("worker 2: chat network unavailable") != std::string::npos;
  }));
  INFO(answer);
  CHECK(answer.find("503 Service Unavailable") != std::string::npos);
  CHECK(http_get(p.metrics_port, "/healthz").find("200 OK") != std::string::npos);
  const auto body = http_get(p.metrics_port, "/metrics");
  CHECK(metric(body, worker_sample("simul_cluster_up", 1)) == 0);
  CHECK(metric(body, worker_sample("simul_cluster_up", 2)) == 0);

  // A new Redis on the same port: the workers join it again, and so the supervisor is ready.
  REQUIRE(redis.start());
  CHECK(eventually([&] { return readyz().find(" 200 ") != std::string::npos; }));
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}

TEST_CASE("workers: SIGHUP reaches every worker; an invalid file keeps them all running") {
  const auto path = temp_file(workers_config());
  server_process p({"--config", path});
  REQUIRE(p.wait_ready());
  // Idle echo clients now close after 100 ms, in whichever worker they land.
  write_file(path, workers_config("timeouts:\n  idle_seconds: 100ms\n"));
  p.signal(SIGHUP);
  REQUIRE(eventually([&] {
    const auto body = http_get(p.metrics_port, "/metrics");
    for (int w = 1; w <= 3; ++w)
      if (metric(body, worker_sample("simul_config_reloads_total", w, "result=\"applied\"")) != 1) return false;
    return metric(body, "simul_config_reloads_total{result=\"applied\"}") == 1;
  }));
  std::vector<client> idle;
  REQUIRE(echo_round(p.echo_port, 30, &idle) == 30);
  for (auto& c : idle) CHECK(c.wait_closed(5s));
  CHECK(p.stderr_text().find("reload: timeouts.idle_seconds: 300 -> 100ms") != std::string::npos);

  write_file(path, workers_config("limits:\n  max_connections: -1\n"));
  p.signal(SIGHUP);
  REQUIRE(eventually([&] { return scrape(p.metrics_port, "simul_config_reloads_total{result=\"failed\"}") == 1; }));
  CHECK(p.stderr_text().find("limits.max_connections") != std::string::npos);
  const auto body = http_get(p.metrics_port, "/metrics");
  CHECK(metric(body, "simul_workers_running") == 3);
  for (int w = 1; w <= 3; ++w)  // the workers were not told: no failed reload of their own
    CHECK(metric(body, worker_sample("simul_config_reloads_total", w, "result=\"failed\"")) == 0);
  CHECK(echo_round(p.echo_port, 10) == 10);
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}

TEST_CASE("workers: a worker that does not answer in time is left out of the scrape, visibly") {
  server_process p({"--config", temp_file(workers_config("timeouts:\n  worker_scrape_seconds: 200ms\n"))});
  REQUIRE(p.wait_ready());
  const auto pids = worker_pids(p);
  REQUIRE(pids.size() == 3);
  REQUIRE(::kill(pids[0], SIGSTOP) == 0);
  const auto body = http_get(p.metrics_port, "/metrics");
  ::kill(pids[0], SIGCONT);
  CHECK(metric(body, worker_sample("simul_worker_scraped", 1)) == 0);
  CHECK(metric(body, worker_sample("simul_worker_scrape_failures_total", 1)) == 1);
  CHECK(metric(body, worker_sample("simul_connections", 1, "service=\"echo\"")) == -1);
  for (int w = 2; w <= 3; ++w) {
    CHECK(metric(body, worker_sample("simul_worker_scraped", w)) == 1);
    CHECK(metric(body, worker_sample("simul_connections", w, "service=\"echo\"")) == 0);
  }
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}

TEST_CASE("workers: a port in use stops the start with exit 2, naming the listener") {
  running_server holder(test_config(model_kind::async));
  const auto port = std::to_string(holder.echo_port());
  server_process p({"--workers", "2", "--no-chat", "--echo-port", port, "--metrics-port", "0"});
  CHECK(p.wait() == std::optional<int>(2));
  CHECK(p.stderr_text().find("error: echo listener 127.0.0.1:" + port + ": address already in use") !=
        std::string::npos);
}

TEST_CASE("workers: a second server with workers cannot share the first one's port") {
  server_process first({"--config", temp_file(workers_config())});
  REQUIRE(first.wait_ready());
  const auto port = std::to_string(first.echo_port);
  server_process second({"--workers", "2", "--no-chat", "--echo-port", port, "--metrics-port", "0"});
  CHECK(second.wait() == std::optional<int>(2));
  CHECK(second.stderr_text().find("error: echo listener 127.0.0.1:" + port + ": address already in use") !=
        std::string::npos);
  first.signal(SIGTERM);
  CHECK(first.wait() == std::optional<int>(0));
}

TEST_CASE("workers: each worker's JSON log lines carry its index") {
  server_process p({"--config", temp_file(workers_config()), "--log-format", "json"});
  REQUIRE(p.wait_ready());
  p.signal(SIGTERM);
  REQUIRE(p.wait() == std::optional<int>(0));
  const auto log = p.stderr_text();
  for (int w = 1; w <= 3; ++w) CHECK(log.find("\"worker\":" + std::to_string(w) + ",\"msg\":\"drain complete") != std::string::npos);
  CHECK(log.find("\"msg\":\"supervisor: every worker has exited; done\"") != std::string::npos);
  // The supervisor's start-up line: its workers and their pids are keys of their own, and no
  // string value has stray spaces.
  const auto path = temp_file(log, ".log");
  const std::string check =
      "(lambda S: len(S) == 1 and S[0]['workers'] == 3 and len(S[0]['pids'].split(',')) == 3"
      " and all(p.isdigit() for p in S[0]['pids'].split(','))"
      " and S[0]['msg'].endswith(' workers=3 pids=' + S[0]['pids']) and S[0]['metrics_port'] == " +
      std::to_string(p.metrics_port) +
      " and all(v == v.strip() for v in S[0].values() if isinstance(v, str)))"
      "([l for l in map(json.loads, open(sys.argv[1]).read().splitlines()) if l.get('event') == 'started'])";
  auto r = run_program("/usr/bin/python3", {"-c", "import json,sys; sys.exit(0 if " + check + " else 1)", path});
  INFO(log, r.err);
  CHECK(r.exit_code == 0);
}

TEST_CASE("workers: a worker that dies again soon is restarted after twice the wait") {
  server_process p({"--config", temp_file(workers_config())});
  REQUIRE(p.wait_ready());
  const auto pids = worker_pids(p);
  REQUIRE(pids.size() == 3);
  REQUIRE(::kill(pids[2], SIGKILL) == 0);
  std::string log;
  const int again = logged_pid(p, std::regex(R"(worker 3 running again \(pid (\d+)\))"), log);
  REQUIRE(again > 0);
  CHECK(log.find("restarting it in 100ms (restart 1)") != std::string::npos);
  REQUIRE(::kill(again, SIGKILL) == 0);
  REQUIRE(eventually([&] { return p.stderr_text().find("restarting it in 200ms (restart 2)") != std::string::npos; }));
  REQUIRE(eventually([&] { return scrape(p.metrics_port, "simul_workers_running") == 3; }));
  CHECK(scrape(p.metrics_port, worker_sample("simul_worker_restarts_total", 3)) == 2);
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}

TEST_CASE("workers: a restarted worker not ready within timeouts.worker_start_seconds is killed and started again") {
  test_cert cert;
  make_test_cert(cert, "workers");
  // Echo over TLS too: each worker reads the certificate when it starts.
  server_process p({"--config", temp_file("workers: 3\necho:\n  port: 0\n  tls_port: " + std::to_string(free_port()) +
                                          "\nchat:\n  enabled: false\nmetrics:\n  port: 0\n"
                                          "timeouts:\n  worker_start_seconds: 1s\n"
                                          "tls:\n  cert_file: " + cert.cert_file + "\n  key_file: " + cert.key_file + "\n")});
  REQUIRE(p.wait_ready());
  const auto pids = worker_pids(p);
  REQUIRE(pids.size() == 3);
  // The certificate's path becomes a FIFO with no writer: a worker started now hangs opening it,
  // before its listeners are open, as on a file system that does not answer.
  const std::string real = cert.cert_file + ".real";
  REQUIRE(::rename(cert.cert_file.c_str(), real.c_str()) == 0);
  REQUIRE(::mkfifo(cert.cert_file.c_str(), 0600) == 0);
  REQUIRE(::kill(pids[0], SIGKILL) == 0);
  std::string log;
  const int stuck = logged_pid(p, std::regex(R"(worker 1 \(pid (\d+)\) not ready 1s after its start; killing it)"), log);
  REQUIRE(stuck > 0);
  CHECK(stuck != pids[0]);
  CHECK(log.find("worker 1 running again") == std::string::npos);
  // Its death is handled as any other: logged, counted, restarted after the back-off.
  REQUIRE(eventually([&] {
    return p.stderr_text().find("worker 1 (pid " + std::to_string(stuck) + ") killed by signal 9 (SIGKILL)") !=
           std::string::npos;
  }));
  CHECK(echo_round(p.echo_port, 20) == 20);  // the other two serve meanwhile
  // The file system answers again: the next start gets through.
  REQUIRE(::unlink(cert.cert_file.c_str()) == 0);
  REQUIRE(::rename(real.c_str(), cert.cert_file.c_str()) == 0);
  REQUIRE(eventually([&] { return p.stderr_text().find("worker 1 running again") != std::string::npos; }));
  REQUIRE(eventually([&] { return scrape(p.metrics_port, "simul_workers_running") == 3; }));
  CHECK(scrape(p.metrics_port, worker_sample("simul_worker_restarts_total", 1)) >= 2);
  CHECK(echo_round(p.echo_port, 30) == 30);
  p.signal(SIGTERM);
  CHECK(p.wait() == std::optional<int>(0));
}
