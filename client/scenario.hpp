// A workload (echo, idle, churn, chat): what each worker thread spawns, and when a finished run
// has nothing more in flight. The runner drives the phases; scenarios only run sessions.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "client/run_context.hpp"
#include "client/stats.hpp"
#include "client/worker.hpp"

namespace simul::load {

class scenario {
 public:
  virtual ~scenario() = default;

  /// Called once on each worker's thread when it starts: spawn that worker's sessions. Sessions
  /// set up (connect, register) at once and wait for worker::wait_for_go() before measuring.
  virtual void start(worker& w) = 0;
};

std::unique_ptr<scenario> make_echo_scenario();
std::unique_ptr<scenario> make_idle_scenario();
std::unique_ptr<scenario> make_churn_scenario();
std::unique_ptr<scenario> make_chat_scenario();

/// After the deadline: true once nothing more is expected (the runner then stops early instead
/// of waiting for the whole drain grace period). `total` merges every worker of every process.
bool drained(scenario_kind kind, const snapshot& total);

/// chat: deliveries the run owes, each message times the other members of its room (members
/// counted when the run started; later joins are refused).
std::uint64_t expected_deliveries(const std::vector<std::uint64_t>& sent_per_room,
                                  const std::vector<std::uint64_t>& room_members);

}  // namespace simul::load
