// Checks before a run: raises the open-file soft limit to the hard limit, reads the ephemeral port
// range, and warns about --source addresses that cannot be bound. What the limits mean for the
// run (processes, source addresses) is the spread plan's business (spread.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/options.hpp"

namespace simul::load {

struct preflight_report {
  std::uint64_t fd_soft = 0;   // after raising
  std::uint64_t fd_hard = 0;
  std::uint32_t port_low = 0;  // /proc/sys/net/ipv4/ip_local_port_range (0 if unreadable)
  std::uint32_t port_high = 0;
  std::uint64_t ephemeral_ports() const { return port_high ? port_high - port_low + 1 : 0; }
  std::size_t usable_sources = 0;
  std::vector<std::string> warnings;
};

/// Runs the checks (raising RLIMIT_NOFILE is the only side effect). Main thread, before workers.
preflight_report preflight(const options& o);

}  // namespace simul::load
