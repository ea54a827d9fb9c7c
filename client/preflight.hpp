// Checks before a run: raises the open-file soft limit to the hard limit, then warns when the fd
// limit, the ephemeral port range or the --source addresses cannot reach the target connections.
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
  std::size_t usable_sources = 0;
  std::vector<std::string> warnings;
};

/// Runs the checks (raising RLIMIT_NOFILE is the only side effect). Main thread, before workers.
preflight_report preflight(const options& o);

}  // namespace simul::load
