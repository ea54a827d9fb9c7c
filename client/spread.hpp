// How a run spreads over processes and source addresses. One process holds at most as many
// sockets as its open-file limit allows, and one source address reaches one server port from
// each ephemeral port once (~28k): a run beyond either limit is split, on its own. Sans-IO.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/address_range.hpp"

namespace simul::load {

struct spread_input {
  std::size_t sockets = 0;          // held at once: connections or users (churn: --max-in-flight)
  std::uint64_t fd_limit = 0;       // RLIMIT_NOFILE after raising the soft limit to the hard one
  unsigned threads = 1;             // event-loop threads for the whole run
  unsigned forced_processes = 0;    // --processes (0 = as many as needed)
  std::vector<ipv4> sources;        // --source (usable ones); empty = none given
  std::size_t targets = 1;          // servers the connections go round-robin to
  bool loopback = true;             // every target is a 127.x.y.z address
  std::uint64_t ephemeral_ports = 0;  // size of ip_local_port_range (0 = unknown: no check)
};

struct spread_plan {
  unsigned processes = 1;
  unsigned threads = 1;                    // per process
  std::uint64_t process_budget = 0;        // sockets one process may hold
  std::vector<std::vector<ipv4>> sources;  // per process, disjoint when chosen here; empty = kernel's choice
  bool auto_sources = false;               // the sources were chosen here (loopback, no --source)
  std::vector<std::string> warnings;
};

/// Sockets one process may hold: the open-file limit minus a reserve for stdio, the event loops'
/// epoll and eventfd descriptors, and the parent's sockets to its children.
std::uint64_t process_budget(std::uint64_t fd_limit, unsigned threads);

/// The plan, or nullopt with `error` set (a non-loopback target needing more ephemeral ports than
/// one source address has, with no --source given).
std::optional<spread_plan> plan_spread(const spread_input& in, std::string& error);

}  // namespace simul::load
