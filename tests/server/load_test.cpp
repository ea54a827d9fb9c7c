// simul-load against the real simul-server binary, both models: the two programs agree with each
// other (no false errors from the generator, nothing lost by the server), and the server cost the
// generator reports is the model's (threads per connection).
#include <doctest/doctest.h>

#include <signal.h>

#include "tests/common/process.hpp"
#include "tests/server/test_support.hpp"

using namespace simul::test;

namespace {

run_output load(const std::string& json, std::vector<std::string> args) {
  args.insert(args.end(), {"--threads", "2", "--quiet", "--max-errors", "0", "--json", json});
  return run_program(SIMUL_LOAD_BIN, args);
}

}  // namespace

TEST_CASE("simul-load against simul-server: echo, open loop, chat and idle, every model") {
  for_each_model([&](model_kind m) {
    server_process srv({"--model", model_name(m), "--echo-port", "0", "--chat-port", "0", "--metrics-port", "0"});
    REQUIRE(srv.wait_ready());
    const std::string echo = std::to_string(srv.echo_port);
    const std::string chat = std::to_string(srv.chat_port);

    const auto closed = temp_path("real-echo-" + model_name(m) + ".json");
    auto r = load(closed, {"echo", "--port", echo, "--connections", "50", "--size", "100", "--duration", "1s"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(python_json_check(closed, "d['results']['messages_received']>0 and d['errors']['total']==0 and "
                                    "d['latency_us']['count']==d['results']['messages_received'] and "
                                    "d['results']['bytes_received']==100*d['results']['messages_received']"));

    // 50 connections x 20 msgs/s x 1 s: every due message is sent and echoed.
    const auto open = temp_path("real-open-" + model_name(m) + ".json");
    r = load(open, {"echo", "--port", echo, "--connections", "50", "--rate", "20", "--duration", "1s"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(python_json_check(open, "d['results']['messages_received']==1000 and d['errors']['total']==0"));

    const auto talk = temp_path("real-chat-" + model_name(m) + ".json");
    r = load(talk, {"chat", "--port", chat, "--users", "30", "--rooms", "3", "--rate", "4", "--size", "64",
                    "--duration", "1s"});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    CHECK(python_json_check(talk, "d['results']['chat']['expected_deliveries']>=30*4*9 and "
                                  "d['results']['chat']['delivered']==d['results']['chat']['expected_deliveries'] "
                                  "and d['results']['chat']['lost']==0 and d['errors']['total']==0"));

    // Idle connections cost the threaded model one thread each and the async model none. The
    // threaded server starts a connection's thread when it accepts it, which can trail the
    // client's connect (by seconds under TSan): hence the 2 s hold and the loose lower bound.
    const auto idle = temp_path("real-idle-" + model_name(m) + ".json");
    r = load(idle, {"idle", "--port", echo, "--connections", "200", "--duration", "2s", "--server-pid",
                    std::to_string(srv.pid())});
    INFO(r.out, r.err);
    CHECK(r.exit_code == 0);
    const std::string per_conn = "d['server']['per_connection']['connections']==200 and ";
    if (m == model_kind::async) {
      CHECK(python_json_check(idle, per_conn + "d['server']['per_connection']['threads']==0"));
    } else {
      CHECK(python_json_check(idle, per_conn + "0.5<=d['server']['per_connection']['threads']<=1.1"));
    }

    srv.signal(SIGTERM);
    CHECK(srv.wait() == std::optional<int>(0));
  });
}
