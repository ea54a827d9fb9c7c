// spread: processes and source addresses for a run.
#include "client/spread.hpp"

#include <algorithm>

namespace simul::load {

namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

}  // namespace

std::uint64_t process_budget(std::uint64_t fd_limit, unsigned threads) {
  const std::uint64_t reserve = 64 + 4ull * threads;
  return fd_limit > reserve + 1 ? fd_limit - reserve : 1;
}

std::optional<spread_plan> plan_spread(const spread_input& in, std::string& error) {
  spread_plan plan;
  plan.process_budget = process_budget(in.fd_limit, in.threads);
  const std::uint64_t needed = std::max<std::uint64_t>(1, ceil_div(in.sockets, plan.process_budget));
  plan.processes = in.forced_processes ? in.forced_processes : static_cast<unsigned>(std::min<std::uint64_t>(needed, 256));
  if (plan.processes < needed) {
    plan.warnings.push_back("open-file limit is " + std::to_string(in.fd_limit) + ": " + std::to_string(in.sockets) +
                            " connections in " + std::to_string(plan.processes) + " process(es) need about " +
                            std::to_string(ceil_div(in.sockets, plan.processes) + in.fd_limit - plan.process_budget) +
                            " each: expect EMFILE (give --processes " + std::to_string(needed) + " or more)");
  }
  plan.threads = plan.processes == 1 ? in.threads : std::max(1u, in.threads / plan.processes);
  plan.sources.assign(plan.processes, {});

  if (!in.sources.empty()) {
    // --source: each process gets its own addresses when there are enough to go round, else all of
    // them (the kernel shares one address's ports between processes).
    for (unsigned p = 0; p < plan.processes; ++p) {
      if (in.sources.size() < plan.processes) {
        plan.sources[p] = in.sources;
        continue;
      }
      for (std::size_t i = p; i < in.sources.size(); i += plan.processes) plan.sources[p].push_back(in.sources[i]);
    }
  }
  if (in.ephemeral_ports == 0) return plan;

  // Each source address reaches each target from every ephemeral port once. Keep a tenth of the
  // range for everything else on the machine.
  const std::uint64_t per_target = ceil_div(in.sockets, std::max<std::size_t>(1, in.targets));
  const std::uint64_t usable_ports = std::max<std::uint64_t>(1, in.ephemeral_ports * 9 / 10);
  // Loopback addresses cost nothing, so those are filled to an eighth of the range only: connect()
  // searches for a free port under a lock, on the event loop's thread, and the search grows long
  // as an address fills up (100,000 connections over 6 addresses stalled the loops for seconds).
  const std::uint64_t loopback_ports = std::max<std::uint64_t>(1, in.ephemeral_ports / 8);
  if (!in.sources.empty()) {
    const std::uint64_t capacity = in.ephemeral_ports * in.sources.size();
    if (per_target > capacity) {
      plan.warnings.push_back(std::to_string(per_target) + " connections to one server port need more than " +
                              std::to_string(in.ephemeral_ports) + " ephemeral ports x " +
                              std::to_string(in.sources.size()) + " source address(es) = " + std::to_string(capacity) +
                              ": expect EADDRNOTAVAIL; give more --source addresses");
    }
    return plan;
  }
  if (per_target <= (in.loopback ? loopback_ports : usable_ports)) return plan;  // the kernel's choice
  if (!in.loopback) {
    error = std::to_string(per_target) + " connections to one server port need " +
            std::to_string(ceil_div(per_target, usable_ports)) + " source addresses (" +
            std::to_string(in.ephemeral_ports) +
            " ephemeral ports each, ip_local_port_range): give --source with that many local addresses";
    return std::nullopt;
  }
  // Loopback: the whole of 127.0.0.0/8 is ours. Each process gets its own addresses, enough for
  // its share: 127.0.0.1, 127.0.0.2, ... in order.
  const std::uint64_t per_process = ceil_div(per_target, plan.processes);
  const std::uint64_t each = ceil_div(per_process, loopback_ports);
  ipv4 next = (127u << 24) | 1u;
  for (unsigned p = 0; p < plan.processes; ++p) {
    for (std::uint64_t i = 0; i < each; ++i) plan.sources[p].push_back(next++);
  }
  plan.auto_sources = true;
  return plan;
}

}  // namespace simul::load
