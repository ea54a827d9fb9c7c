// simul-load against the real simul-server binary, both models: the two programs agree with each
// other (no false errors from the generator, nothing lost by the server), and the server cost the
// generator reports is the model's (threads per connection). Also over several processes, and
// over the nodes of a cluster on a real redis-server (--targets).
#include <doctest/doctest.h>

#include <signal.h>

#include "tests/common/process.hpp"
#include "tests/common/redis_server.hpp"
#include "tests/server/test_support.hpp"

using namespace simul::test;

namespace {

std::vector<std::string> load_args(const std::string& json, std::vector<std::string> args) {
  args.insert(args.end(), {"--threads", "2", "--quiet", "--max-errors", "0", "--json", json});
  return args;
}

run_output load(const std::string& json, std::vector<std::string> args) {
  return run_program(SIMUL_LOAD_BIN, load_args(json, std::move(args)));
}

}  // namespace

TEST_CASE("simul-load against simul-server: echo, open loop and chat, every model") {
  for_each_model([&](model_kind m) {
    server_process srv({"--model", model_name(m), "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"});
    REQUIRE(srv.wait_ready());
    const std::string echo = std::to_string(srv.echo_port);
    const std::string chat = std::to_string(srv.chat_port);

    const auto closed = temp_path("real-echo-" + model_name(m) + ".json");
    auto r = load(closed, {"echo", "--port", echo, "--connections", "50", "--size", "100", "--duration", "500ms"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(python_json_check(closed, "d['results']['messages_received']>0 and d['errors']['total']==0 and "
                                    "d['latency_us']['count']==d['results']['messages_received'] and "
                                    "d['results']['bytes_received']==100*d['results']['messages_received']"));

    // 50 connections x 40 msgs/s x 0.5 s: every due message is sent and echoed.
    const auto open = temp_path("real-open-" + model_name(m) + ".json");
    r = load(open, {"echo", "--port", echo, "--connections", "50", "--rate", "40", "--duration", "500ms"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(python_json_check(open, "d['results']['messages_received']==1000 and d['errors']['total']==0"));

    // 30 users x 8 msgs/s x 0.5 s, each delivered to the 14 others in its room; then the same
    // over three processes (user i in room i % 2 and process i % 3: every room spans them all).
    for (const std::string processes : {"1", "3"}) {
      const auto talk = temp_path("real-chat-" + model_name(m) + "-" + processes + ".json");
      r = load(talk, {"chat", "--port", chat, "--users", "30", "--rooms", "2", "--rate", "8", "--size", "64",
                      "--duration", "500ms", "--processes", processes});
      INFO(r.out, r.err);
      CHECK(r.exit_code == 0);
      CHECK(python_json_check(talk, "c['sent']==120 and c['expected_deliveries']==120*14 and "
                                    "c['delivered']==c['expected_deliveries'] and c['lost']==0 and "
                                    "c['duplicated']==0 and c['reordered']==0 and d['errors']['total']==0"
                                    " if (c:=d['results']['chat']) else False"));
    }

    srv.signal(SIGTERM);
    CHECK(srv.wait() == std::optional<int>(0));
  });
}

TEST_CASE("simul-load idle: a held connection costs the threaded model a thread and the async model none") {
  // Every model's server and its 2 s idle run at the same time: the runs only wait.
  struct idle_run {
    model_kind model;
    std::unique_ptr<server_process> srv;
    std::string json;
    std::unique_ptr<started_program> load;
  };
  std::vector<idle_run> runs;
  for (const auto& info : simul::server::model_table) {
    const std::string model(info.name);
    CAPTURE(model);
    auto& run = runs.emplace_back();
    run.model = info.kind;
    run.srv = std::make_unique<server_process>(
        std::vector<std::string>{"--model", model, "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"});
    REQUIRE(run.srv->wait_ready());
    // The threaded server starts a connection's thread when it accepts it, which can trail the
    // client's connect (by seconds under TSan): hence the 2 s hold and the loose lower bound.
    run.json = temp_path("real-idle-" + model + ".json");
    run.load = std::make_unique<started_program>(
        SIMUL_LOAD_BIN, load_args(run.json, {"idle", "--port", std::to_string(run.srv->echo_port), "--connections",
                                             "200", "--duration", "2s", "--server-pid",
                                             std::to_string(run.srv->pid())}));
  }
  for (auto& run : runs) {
    const std::string model = model_name(run.model);
    CAPTURE(model);
    auto r = run.load->wait();
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    const std::string per_conn = "d['server']['per_connection']['connections']==200 and ";
    if (run.model == model_kind::async) {
      CHECK(python_json_check(run.json, per_conn + "d['server']['per_connection']['threads']==0"));
    } else {
      CHECK(python_json_check(run.json, per_conn + "0.5<=d['server']['per_connection']['threads']<=1.1"));
    }
    run.srv->signal(SIGTERM);
    CHECK(run.srv->wait() == std::optional<int>(0));
  }
}

TEST_CASE("simul-load over three processes against simul-server: one merged report, the server sampled once") {
  server_process srv({"--model", "async", "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"});
  REQUIRE(srv.wait_ready());
  const auto echo = temp_path("real-processes-echo.json");
  // 30 connections x 20 msgs/s x 1 s over 3 processes: exactly 600 echoes in the merged report.
  const auto r = load(echo, {"echo", "--port", std::to_string(srv.echo_port), "--connections", "30", "--rate", "20",
                       "--duration", "1s", "--processes", "3", "--server-pid", std::to_string(srv.pid())});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(python_json_check(echo, "d['meta']['processes']['count']==3 and d['results']['connections']['connected']==30 "
                                "and d['results']['messages_received']==600 and d['latency_us']['count']==600 and "
                                "d['server']['per_connection']['connections']==30 and d['errors']['total']==0"));
  srv.signal(SIGTERM);
  CHECK(srv.wait() == std::optional<int>(0));
}

TEST_CASE("simul-load chat --targets over two cluster nodes: every room spans both, nothing lost") {
  redis_server redis;
  REQUIRE(redis.ok());
  std::vector<std::unique_ptr<server_process>> nodes;
  std::string targets;
  for (int i = 0; i < 2; ++i) {
    auto& node = *nodes.emplace_back(std::make_unique<server_process>(std::vector<std::string>{
        "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0", "--redis", redis.address()}));
    REQUIRE(node.wait_ready());
    // Joined the network: /readyz answers 200.
    REQUIRE(eventually([&] { return http_get(node.metrics_port, "/readyz").find(" 200 ") != std::string::npos; }));
    targets += (targets.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(node.chat_port);
  }
  const auto json = temp_path("cluster-chat.json");
  // 20 users in 2 rooms, user i on node (i / 2) % 2: each room has 5 members on each node, so
  // every message is owed to 9 members, 5 of them through the other node.
  auto r = load(json, {"chat", "--targets", targets, "--users", "20", "--rooms", "2", "--rate", "5", "--duration",
                       "1s"});
  INFO(r.out, r.err);
  CHECK(r.exit_code == 0);
  CHECK(python_json_check(json,
      "c['sent']==100 and c['expected_deliveries']==900 and c['delivered']==900 and c['lost']==0 and "
      "c['duplicated']==0 and c['reordered']==0 and c['cross_target_latency_us']['count']==500 and "
      "[t['connected'] for t in d['results']['connections']['per_target']]==[10,10] and d['errors']['total']==0"
      " if (c:=d['results']['chat']) else False"));
  for (auto& node : nodes) {
    node->signal(SIGTERM);
    CHECK(node->wait() == std::optional<int>(0));
  }
}
