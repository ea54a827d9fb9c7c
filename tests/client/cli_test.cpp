// End-to-end tests of the simul-load binary against in-process servers on 127.0.0.1:0: exit codes,
// the JSON report, thresholds, --source binding, and naming the cause of failed connections.
#include <doctest/doctest.h>

#include <asio/ip/tcp.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tests/client/test_support.hpp"

using simul::test::echo_server;
using simul::test::python_json_check;
using simul::test::run_load;
using simul::test::temp_path;

namespace {

// A port with nothing listening: bind an ephemeral port, then release it.
std::string closed_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto port = a.local_endpoint().port();
  a.close();
  return std::to_string(port);
}

}  // namespace

TEST_CASE("a port with no listener exits 3 and names the cause") {
  auto r = run_load({"echo", "--port", closed_port(), "--connections", "5", "--threads", "1", "--duration", "1",
                     "--quiet"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("0/5 connected: ECONNREFUSED x5") != std::string::npos);
  CHECK(r.out.find("ECONNREFUSED") != std::string::npos);
}

TEST_CASE("closed-loop echo writes a JSON report with every field") {
  echo_server server;
  const auto json = temp_path("echo.json");
  auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "4", "--threads", "2",
                     "--duration", "1s", "--quiet", "--json", json, "--max-errors", "0", "--target-model", "test",
                     "--server-pid", std::to_string(::getpid())});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("4/4 connected") != std::string::npos);
  CHECK(python_json_check(json,
      "d['schema']=='simul-load/1' and "
      "all(k in d['meta'] for k in ['version','git_sha','args','kernel','fd_limit','scenario','target','started_at']) and "
      "d['meta']['scenario']=='echo' and d['meta']['target']['model']=='test' and '--json' in d['meta']['args'] and "
      "d['results']['connections']['target']==4 and d['results']['connections']['connected']==4 and "
      "d['results']['connections']['held_at_end']==4 and d['results']['messages_received']>0 and "
      "all(k in d['latency_us'] for k in ['p50','p90','p99','p99_9','p99_99','max','count']) and "
      "d['latency_us']['count']==d['results']['messages_received'] and "
      "d['errors']['total']==0 and d['errors']['by_cause']=={} and d['verdict']['exit_code']==0 and "
      "len(d['timeseries'])>=1 and 'connections_up' in d['timeseries'][0] and "
      "d['server']['pid']>0 and d['server']['baseline']['rss_bytes']>0 and len(d['server']['samples'])>=1"));
}

TEST_CASE("the per-second series adds up to the totals, one phase per point") {
  // The points tile the run (setup, then whole seconds from the go, a partial last second up to
  // the deadline, then the drain), so their sums are the report's totals. (A tick delayed by a
  // busy machine stretches its interval; the tolerance on the run's length allows for that.)
  const std::string tiles =
      "len(S)>=4 and abs(sum(p['interval_s'] for p in S)-S[-1]['t'])<1e-6 and "
      "all(p['interval_s']>0 for p in S) and "
      "[p['phase'] for p in S]==sorted([p['phase'] for p in S], key=['setup','run','drain'].index) and "
      "len([p for p in S if p['phase']=='run'])==3 and "
      "abs(sum(p['interval_s'] for p in S if p['phase']=='run')-d['results']['duration_s'])<0.25 and "
      "sum(p['messages'] for p in S)==d['results']['messages_received'] and "
      "sum(p['latency_count'] for p in S)==d['latency_us']['count'] and "
      "sum(p['errors'] for p in S)==d['errors']['total']";
  const std::string bind_series = "(lambda S: ";
  SUBCASE("closed loop, with errors") {
    echo_server server(/*garble_every=*/400);
    const auto json = temp_path("series-closed.json");
    auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "3", "--threads", "2",
                       "--duration", "2.5s", "--quiet", "--json", json});
    INFO(r.out, r.err);
    CHECK(python_json_check(json, "d['errors']['total']>0 and d['results']['messages_received']>0"));
    CHECK(python_json_check(json, bind_series + tiles + ")(d['timeseries'])"));
  }
  SUBCASE("open loop") {
    echo_server server;
    const auto json = temp_path("series-open.json");
    auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "20", "--threads", "2",
                       "--rate", "40", "--duration", "2.5s", "--quiet", "--json", json});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(python_json_check(json, "d['results']['messages_received']==2000"));
    CHECK(python_json_check(json, bind_series + tiles + ")(d['timeseries'])"));
  }
}

TEST_CASE("thresholds set the exit code") {
  echo_server server;
  const auto port = std::to_string(server.port());
  SUBCASE("a p99 limit nothing can meet fails with 1") {
    auto r = run_load({"echo", "--port", port, "--connections", "2", "--threads", "1", "--duration", "0.5",
                       "--quiet", "--max-p99", "0.000001"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("--max-p99") != std::string::npos);
  }
  SUBCASE("errors above --max-errors fail with 1, naming the cause") {
    echo_server garbling(3);
    const auto json = temp_path("garbled.json");
    auto r = run_load({"echo", "--port", std::to_string(garbling.port()), "--connections", "3", "--threads", "1",
                       "--duration", "0.5", "--quiet", "--max-errors", "0", "--json", json});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("garbled echo") != std::string::npos);
    CHECK(python_json_check(json, "d['errors']['run']['garbled echo']==3 and d['verdict']['exit_code']==1"));
  }
  SUBCASE("generous thresholds pass with 0") {
    auto r = run_load({"echo", "--port", port, "--connections", "2", "--threads", "1", "--duration", "0.5",
                       "--quiet", "--max-p99", "10000", "--max-errors", "0", "--rate", "100"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("open loop") != std::string::npos);
  }
}

TEST_CASE("--source binds connections round-robin to the given addresses") {
  echo_server server;
  auto r = run_load({"idle", "--port", std::to_string(server.port()), "--connections", "6", "--threads", "2",
                     "--duration", "0.3", "--quiet", "--source", "127.0.0.2-127.0.0.4"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  auto peers = server.peers();
  CHECK(peers.size() == 6);
  for (const char* a : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) CHECK(peers.count(a) == 2);
}

TEST_CASE("churn connects, exchanges one message and closes, at the given rate") {
  echo_server server;
  const auto json = temp_path("churn.json");
  auto r = run_load({"churn", "--port", std::to_string(server.port()), "--rate", "50", "--threads", "1",
                     "--duration", "1", "--quiet", "--json", json});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(python_json_check(json, "45 <= d['results']['messages_received'] <= 50 and d['errors']['total']==0"));
  CHECK(server.peers().size() == 50);
}

TEST_CASE("usage errors exit 2 and --help exits 0") {
  CHECK(run_load({"echo", "--connections", "-3"}).exit_code == 2);
  CHECK(run_load({"frobnicate"}).exit_code == 2);
  auto help = run_load({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("chat") != std::string::npos);
}

TEST_CASE("usage errors name the argument and suggest what was meant") {
  auto sub = run_load({"ech"});
  CHECK(sub.exit_code == 2);
  CHECK(sub.err.find("unknown subcommand 'ech' (did you mean 'echo'?)") != std::string::npos);
  auto flag = run_load({"-v"});
  CHECK(flag.exit_code == 2);
  CHECK(flag.err.find("unknown option '-v' (did you mean '--version'?)") != std::string::npos);
  auto typo = run_load({"echo", "--conections", "5"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("did you mean '--connections'?") != std::string::npos);
  CHECK(typo.err.find("simul-load echo --help") != std::string::npos);
  auto rate = run_load({"echo", "--rate", "abc"});
  CHECK(rate.exit_code == 2);
  CHECK(rate.err.find("--rate: expected a number, got 'abc'") != std::string::npos);
  CHECK(rate.err.size() < 200);  // no 309-digit bound
}

TEST_CASE("a report path that cannot be written is a usage error before the run") {
  // Nothing listens on the port: had the run started, it would exit 3.
  const auto port = closed_port();
  auto missing = run_load({"echo", "--port", port, "--json", temp_path("no-such-dir/r.json"), "--quiet"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("--json") != std::string::npos);
  CHECK(missing.err.find("No such file or directory") != std::string::npos);
  CHECK(missing.out.empty());
  auto dir = run_load({"echo", "--port", port, "--histogram", temp_path(""), "--quiet"});
  CHECK(dir.exit_code == 2);
  CHECK(dir.err.find("Is a directory") != std::string::npos);
}

TEST_CASE("--json - writes the JSON alone to stdout and the report to stderr") {
  echo_server server;
  auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "2", "--threads", "1",
                     "--duration", "0.3", "--quiet", "--json", "-"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("2/2 connected") != std::string::npos);
  const auto json = temp_path("stdout.json");
  { std::ofstream(json) << r.out; }
  CHECK(python_json_check(json, "d['schema']=='simul-load/1' and d['results']['connections']['connected']==2"));
}

TEST_CASE("progress lines do not repeat at phase changes and never show the closed connections") {
  echo_server server;
  auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "3", "--threads", "1",
                     "--rate", "50", "--duration", "2", "--progress"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.err);
  std::set<std::string> stamps;
  int run_lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("[")) continue;
    if (line.find("] run ") != std::string::npos) ++run_lines;
    CHECK(stamps.insert(line.substr(0, line.find(']'))).second);  // each time shown once
    CHECK(line.find("conns 0/3") == std::string::npos);
  }
  CHECK(run_lines == 2);  // one per second of the run; the sliver before the boundary is not shown
}

TEST_CASE("a ramp offers the integral of its rate and reports the rate it offered") {
  echo_server server;
  const auto json = temp_path("ramp.json");
  // 0 -> 40 msgs/s over 1.5s (30 messages), then 40/s for 0.5s: 50 per connection. (The first
  // whole second of the run ends inside the ramp: its offered rate is below the last one's.)
  auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "20", "--threads", "2",
                     "--rate", "40", "--ramp", "1.5s", "--duration", "2", "--quiet", "--json", json,
                     "--histogram", temp_path("ramp.hgrm")});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("rate ramped up from 0 over 1.5s") != std::string::npos);
  CHECK(python_json_check(json, "abs(d['results']['messages_received']-1000)<=1 and d['config']['ramp_s']==1.5"));
  CHECK(python_json_check(json, "(lambda R: len(R)>=2 and R[0]['offered_rate']<R[-1]['offered_rate']==40)"
                                "([p for p in d['timeseries'] if p['phase']=='run'])"));
  const auto hgrm = simul::test::slurp(temp_path("ramp.hgrm"));
  CHECK(hgrm.starts_with("       Value     Percentile TotalCount"));
  CHECK(hgrm.find("Total count    =         1000]") != std::string::npos);
}

TEST_CASE("--histogram FILE.csv holds every sample, and the report's percentiles fall in its buckets") {
  echo_server server;
  const auto json = temp_path("hist.json");
  const auto csv = temp_path("hist.csv");
  auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "4", "--threads", "1",
                     "--rate", "100", "--duration", "1", "--quiet", "--json", json, "--histogram", csv});
  INFO(r.out, r.err);
  REQUIRE(r.exit_code == 0);
  // Rows: low_us,high_us,count,cumulative,percentile. The report's pN lies in the first bucket
  // whose percentile reaches N; the counts sum to the report's sample count.
  const std::string check =
      "(lambda L, rows: L['count'] > 300 and sum(int(r[2]) for r in rows) == L['count']"
      " and int(rows[-1][3]) == L['count'] and float(rows[-1][4]) == 100"
      " and all((lambda b: float(b[0]) <= L[k] < float(b[1]))(next(r for r in rows if float(r[4]) >= q))"
      "         for k, q in (('p50', 50), ('p90', 90), ('p99', 99), ('p99_9', 99.9))))"
      "(d['latency_us'], [l.split(',') for l in open('" + csv + "').read().splitlines()[1:]])";
  CHECK(python_json_check(json, check));
  CHECK(simul::test::slurp(csv).starts_with("low_us,high_us,count,cumulative,percentile\n"));
}

TEST_CASE("churn stages rise and fall, and the run lasts as long as the stages") {
  echo_server server;
  const auto json = temp_path("stages.json");
  // Up to 50/s over 1s (25), down to 0 over 1s (25).
  auto r = run_load({"churn", "--port", std::to_string(server.port()), "--stages", "1s:50,1s:0", "--threads", "1",
                     "--quiet", "--json", json});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(python_json_check(json, "d['results']['messages_received']==50 and d['config']['duration_s']==2 and "
                                "d['config']['stages']==[{'duration_s':1,'rate':50},{'duration_s':1,'rate':0}]"));
  CHECK(server.peers().size() == 50);
}

TEST_CASE("--connect-timeout covers the TLS handshake: a server that never answers the hello times out") {
  // A listening socket that is never accepted from: the kernel completes the TCP connect, and
  // the client's TLS hello goes unanswered.
  asio::io_context io;
  asio::ip::tcp::acceptor silent(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto json = temp_path("silent-tls.json");
  auto r = run_load({"echo", "--port", std::to_string(silent.local_endpoint().port()), "--tls", "--insecure",
                     "--connections", "2", "--threads", "1", "--connect-timeout", "300ms", "--duration", "0.2",
                     "--quiet", "--json", json});
  INFO(r.out, r.err);
  CHECK(python_json_check(
      json, "d['errors']['connect'].get('ETIMEDOUT')==2 and d['results']['connections']['connected']==0"));
}
