// simul-load spread over child processes (--processes, or on its own past the open-file limit) and
// over several servers (--targets), against in-process servers on 127.0.0.1:0: one merged report
// whose counts are the sums of the children's, and a child that dies is reported, not waited for.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/client/test_support.hpp"

using simul::test::echo_server;
using simul::test::irc_server;
using simul::test::python_json_check;
using simul::test::run_load;
using simul::test::run_program;
using simul::test::started_program;
using simul::test::temp_path;

namespace {

// The children of `pid` (from /proc/PID/task/PID/children), waiting up to 10 s for `count`.
std::vector<int> children_of(int pid, std::size_t count) {
  std::vector<int> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    out.clear();
    std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    for (int child = 0; in >> child;) out.push_back(child);
    if (out.size() < count) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return out;
}

}  // namespace

TEST_CASE("a run forced to three processes reports the sums of their counts") {
  echo_server server;
  const auto json = temp_path("processes-echo.json");
  // 9 connections x 20 msgs/s x 1 s, open loop: exactly 180 echoes, whoever sends them.
  auto r = run_load({"echo", "--port", std::to_string(server.port()), "--connections", "9", "--rate", "20",
                     "--duration", "1s", "--processes", "3", "--quiet", "--json", json, "--max-errors", "0"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("3 processes x 1 thread") != std::string::npos);
  CHECK(r.out.find("9/9 connected") != std::string::npos);
  CHECK(server.peers().size() == 9);
  CHECK(python_json_check(json,
      "d['meta']['processes']['count']==3 and d['meta']['processes']['failures']==[] and "
      "d['results']['connections']['connected']==9 and d['results']['connections']['held_at_end']==9 and "
      "d['results']['messages_received']==180 and d['latency_us']['count']==180 and "
      "sum(p['messages'] for p in d['timeseries'])==180 and d['errors']['total']==0"));
}

TEST_CASE("past one process's open-file limit the run splits itself, each process with its share") {
  echo_server server;
  const auto json = temp_path("processes-auto.json");
  // An open-file limit of 200 leaves 128 sockets a process (200 - 64 - 4 per thread): 300 idle
  // connections take three processes.
  const std::string command = "ulimit -n 200 && exec " + std::string(SIMUL_LOAD_BIN) + " idle --port " +
                              std::to_string(server.port()) +
                              " --connections 300 --threads 2 --duration 0.5 --quiet --max-errors 0 --json " + json;
  auto r = run_program("/bin/sh", {"-c", command});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(server.peers().size() == 300);
  CHECK(python_json_check(json,
      "d['meta']['processes']['count']==3 and d['meta']['fd_limit']['hard']==200 and "
      "d['results']['connections']['connected']==300 and d['results']['connections']['held_at_end']==300"));
}

TEST_CASE("a child process that dies is reported and the run still ends on time") {
  echo_server server;
  const auto json = temp_path("processes-killed.json");
  started_program load(SIMUL_LOAD_BIN, {"idle", "--port", std::to_string(server.port()), "--connections", "6",
                                        "--processes", "3", "--duration", "3", "--quiet", "--json", json});
  const auto children = children_of(load.pid(), 3);
  REQUIRE(children.size() == 3);
  ::kill(children[1], SIGKILL);
  auto r = load.wait();
  INFO(r.out, r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.out.find("killed by signal SIGKILL") != std::string::npos);
  CHECK(python_json_check(json,
      "len(d['meta']['processes']['failures'])==1 and 'SIGKILL' in d['meta']['processes']['failures'][0] and "
      "d['verdict']['exit_code']!=0"));
  // No child is left behind.
  for (int child : children) CHECK(::kill(child, 0) != 0);
}

TEST_CASE("a remote target past one source address's ports is a usage error naming --source") {
  // 192.0.2.1 (TEST-NET-1) is never contacted: the plan fails first.
  auto r = run_load({"idle", "--host", "192.0.2.1", "--connections", "40000", "--duration", "1", "--quiet"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--source") != std::string::npos);
}

TEST_CASE("--targets spreads connections round-robin and reports each target's count") {
  echo_server a;
  echo_server b;
  const auto json = temp_path("targets-echo.json");
  const std::string targets = "127.0.0.1:" + std::to_string(a.port()) + ",127.0.0.1:" + std::to_string(b.port());
  auto r = run_load({"echo", "--targets", targets, "--connections", "6", "--rate", "10", "--duration", "0.5",
                     "--processes", "2", "--quiet", "--json", json, "--max-errors", "0"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(a.peers().size() == 3);
  CHECK(b.peers().size() == 3);
  CHECK(r.out.find("3 connected, 127.0.0.1:") != std::string::npos);
  CHECK(python_json_check(json, "[t['connected'] for t in d['results']['connections']['per_target']]==[3,3] and "
                                "d['results']['messages_received']==30"));
}

TEST_CASE("chat over two separate servers: the checker sees what does not cross between them") {
  // Two standalone servers are two networks: a room's members on the other server never get a
  // message, and the checker must say so (a cluster would deliver them: the same check, 0 lost).
  irc_server a;
  irc_server b;
  const auto json = temp_path("targets-chat.json");
  const std::string targets = "127.0.0.1:" + std::to_string(a.port()) + ",127.0.0.1:" + std::to_string(b.port());
  auto r = run_load({"chat", "--targets", targets, "--users", "8", "--rooms", "2", "--rate", "10", "--duration", "1",
                     "--threads", "2", "--quiet", "--json", json});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);  // no threshold given
  CHECK(a.pongs() == 4);
  CHECK(b.pongs() == 4);
  // Each room has 4 members, 2 on each server: a message reaches 1 of its 3 others.
  CHECK(python_json_check(json,
      "c['sent']==80 and c['expected_deliveries']==240 and c['delivered']==80 and c['lost']==160 and "
      "c['duplicated']==0 and c['reordered']==0 and d['errors']['run']['lost message']==160 and "
      "c['cross_target_latency_us']['count']==0 and "
      "[t['connected'] for t in d['results']['connections']['per_target']]==[4,4]"
      " if (c:=d['results']['chat']) else False"));
}
