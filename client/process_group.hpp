// A run spread over child processes: simul-load forks them, each runs a local shard over its
// share of the connection ids (and of the rates, which are global), and the parent merges what
// they report. Children die with the parent (PR_SET_PDEATHSIG) and end by themselves if the parent
// stops talking to them; a child that crashes or stops answering is reported, not waited for.
#pragma once

#include <asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <vector>

#include "client/options.hpp"
#include "client/shard.hpp"
#include "client/spread.hpp"

namespace simul::load {

/// Forks plan.processes children: child k takes connection ids ≡ k (mod plan.processes), runs
/// plan.threads threads and binds to plan.sources[k]. Must be called before this process starts
/// any thread (fork copies only the calling thread). Throws std::runtime_error if fork fails
/// (children already started are killed).
std::unique_ptr<shard> make_process_group(const options& opts, const std::vector<asio::ip::tcp::endpoint>& targets,
                                          const spread_plan& plan, const std::string& run_tag);

}  // namespace simul::load
