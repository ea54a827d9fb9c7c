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

/// Read-only after construction except for the atomics. Owned by the runner; outlives the workers.
struct run_context {
  run_context(options o, asio::ip::tcp::endpoint t) : opts(std::move(o)), target(t), schedule(opts.schedule()) {
    for (auto a : opts.sources) sources.emplace_back(a);
    if (opts.scenario == scenario_kind::chat) {
      room_members = std::make_unique<std::atomic<std::uint32_t>[]>(opts.rooms);
    }
    if (opts.tls) tls = make_client_tls_context(opts.ca_file, opts.insecure);  // throws naming --ca-file
  }

  options opts;
  asio::ip::tcp::endpoint target;
  rate_schedule schedule;                     // --rate, --ramp, --stages (rate 0: nothing due)
  std::vector<asio::ip::address_v4> sources;  // --source, round-robin by connection id
  clock::time_point epoch = clock::now();     // the connect ramp starts here
  std::string run_tag;                        // chat: marks this run's messages and nicks
  ssl_ctx_ptr tls;                            // --tls: shared by every connection (SSL_new is thread-safe)

  std::atomic<std::size_t> setup_finished{0};  // connections whose setup ended (either way)
  std::atomic<std::size_t> setup_ok{0};        // ... and succeeded
  std::unique_ptr<std::atomic<std::uint32_t>[]> room_members;  // chat: users joined, per room
};

}  // namespace simul::load
