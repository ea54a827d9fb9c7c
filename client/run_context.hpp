// State shared by every worker thread of one run: the options, the resolved target, and the few
// counters that cross threads during setup (each touched once per connection, never per message).
#pragma once

#include <asio/ip/address_v4.hpp>
#include <asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/options.hpp"
#include "client/stream.hpp"

namespace simul::load {

using clock = std::chrono::steady_clock;

/// Nanoseconds of the steady clock, the time base of every latency.
inline std::uint64_t steady_ns(clock::time_point t) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

/// `from` plus `s` seconds; time_point::max() when s is infinite or beyond any run (a year).
inline clock::time_point after(clock::time_point from, double s) {
  if (!(s < 365 * 24 * 3600.0)) return clock::time_point::max();
  return from + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
}

/// Which share of a run's connections one process takes: connection ids ≡ index (mod count).
struct shard_share {
  std::size_t index = 0;
  std::size_t count = 1;
};

/// Read-only after construction except for the atomics. Owned by the local shard; outlives the workers.
struct run_context {
  /// `targets`: the resolved --targets (or --host:--port), in order; `share`: this process's part.
  run_context(options o, std::vector<asio::ip::tcp::endpoint> t, shard_share sh)
      : opts(std::move(o)), targets(std::move(t)), share(sh), schedule(opts.schedule()) {
    for (auto a : opts.sources) sources.emplace_back(a);
    if (opts.scenario == scenario_kind::chat) {
      room_members = std::make_unique<std::atomic<std::uint32_t>[]>(opts.rooms);
    }
    if (opts.tls) tls = make_client_tls_context(opts.ca_file, opts.insecure);  // throws naming --ca-file
  }

  /// The target of connection `id`: round-robin by id, except that chat goes round-robin by id
  /// within each room (id / rooms), so every room's members are spread over every target.
  std::size_t target_of(std::size_t id) const noexcept {
    const std::size_t step = opts.scenario == scenario_kind::chat ? opts.rooms : 1;
    return (id / step) % targets.size();
  }
  /// The source address of connection `id` (nullptr: the kernel chooses): this process's sources
  /// round-robin over its own connections, per target, so that every (source, target) pair gets
  /// its share of the ephemeral ports.
  const asio::ip::address_v4* source_of(std::size_t id) const noexcept {
    if (sources.empty()) return nullptr;
    return &sources[(id / share.count / targets.size()) % sources.size()];
  }

  options opts;
  std::vector<asio::ip::tcp::endpoint> targets;  // never empty
  shard_share share;
  rate_schedule schedule;                     // --rate, --ramp, --stages (rate 0: nothing due)
  std::vector<asio::ip::address_v4> sources;  // this process's source addresses
  clock::time_point epoch = clock::now();     // the connect ramp starts here (the same in every process)
  std::string run_tag;                        // chat: marks this run's messages and nicks (every process)
  ssl_ctx_ptr tls;                            // --tls: shared by every connection (SSL_new is thread-safe)

  std::atomic<std::size_t> setup_finished{0};  // connections whose setup ended (either way)
  std::atomic<std::size_t> setup_ok{0};        // ... and succeeded
  std::unique_ptr<std::atomic<std::uint32_t>[]> room_members;  // chat: users joined, per room
};

}  // namespace simul::load
