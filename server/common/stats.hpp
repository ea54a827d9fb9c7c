// Counters and gauges shared by both server models and rendered by the metrics listener.
// Every field is a relaxed atomic: the async model touches them from one thread (cheap), the
// threaded model from many.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

namespace simul::server {

enum class service { echo, chat, metrics };
inline constexpr std::size_t service_count = 3;

/// Why a connection ended; one counter per service and reason
/// (simul_disconnects_total{service=...,reason=...}). `handshake`: a TLS handshake failed or
/// took longer than timeouts.tls_handshake_seconds.
enum class disconnect_reason { client, idle, error, sendq, flood, ping, registration, shutdown, rejected, killed, handshake };
inline constexpr std::size_t disconnect_reason_count = 11;

/// Why a TLS handshake failed (simul_tls_handshake_failures_total{reason=...}).
enum class tls_failure { timeout, closed, version, cipher, certificate, protocol, shutdown };
inline constexpr std::size_t tls_failure_count = 7;

std::string_view to_string(service s) noexcept;
std::string_view to_string(tls_failure f) noexcept;
std::string_view to_string(disconnect_reason r) noexcept;

struct counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n = 1) noexcept { value.fetch_add(n, std::memory_order_relaxed); }
  /// add() for a counter that only one thread ever writes (the async model's loop): a plain
  /// load and store, no locked instruction; readers on other threads still see whole values.
  void add_one_writer(std::uint64_t n) noexcept {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void sub(std::uint64_t n = 1) noexcept { value.fetch_sub(n, std::memory_order_relaxed); }
  std::uint64_t get() const noexcept { return value.load(std::memory_order_relaxed); }
};

struct service_stats {
  counter connections;        // gauge: open now
  counter connections_total;  // accepted and served
  counter rejected_total;     // refused by a connection limit (or no thread could be made)
  counter bytes_in_total;
  counter bytes_out_total;
};

/// TLS (async model): sessions over TLS, handshakes, their failures and times, reloads.
struct tls_stats {
  /// Upper bounds of the handshake time histogram, in seconds (then +Inf).
  static constexpr std::array<double, 13> bucket_seconds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                         0.25,  0.5,    1,     2.5,  5,     10};
  std::array<counter, 2> connections;  // gauge: open TLS sessions, by service (echo, chat)
  std::array<counter, tls_failure_count> handshake_failures;
  std::array<counter, bucket_seconds.size() + 1> handshake_buckets;  // not cumulative
  counter handshake_microseconds_total;
  counter reloads_total;          // certificate reloads that took effect (SIGHUP)
  counter reload_failures_total;  // reloads refused (the old certificate stays)

  void handshake_done(double seconds) noexcept {
    std::size_t i = 0;
    while (i < bucket_seconds.size() && seconds > bucket_seconds[i]) ++i;
    handshake_buckets[i].add();
    handshake_microseconds_total.add(static_cast<std::uint64_t>(seconds * 1e6));
  }
  void handshake_failed(tls_failure f) noexcept { handshake_failures[static_cast<std::size_t>(f)].add(); }
};

/// The chat network (cluster.redis set): rendered only then, and /readyz is 503 while `up` is 0.
struct cluster_stats {
  std::atomic<bool> enabled{false};
  counter up;                  // gauge: 1 while the node is joined to the network
  counter published_total;     // log entries this node added
  counter applied_total;       // log entries applied to this node's mirror of the network
  counter refused_total;       // client lines refused: network unavailable or its queue full
  counter joins_total;         // times this node joined, or resumed after a lost Redis connection
  counter resyncs_total;       // times this node dropped its users and joined again
  counter declared_down_total; // other nodes this node declared down (lease expired)
  counter queue_bytes;         // gauge: bytes of commands waiting for Redis (cluster.max_queue_bytes)

  bool ready() const noexcept { return !enabled.load(std::memory_order_relaxed) || up.get() != 0; }
};

struct stats {
  std::array<service_stats, service_count> services;
  std::array<std::array<counter, disconnect_reason_count>, service_count> disconnects;
  counter accept_errors_total;
  counter lines_in_total;   // chat lines read
  counter lines_out_total;  // chat lines queued to clients
  counter chat_users;       // gauge: registered chat users
  counter chat_rooms;       // gauge: rooms with members
  counter threads;          // gauge: connection threads (threaded model)
  counter reloads_total;           // SIGHUP reloads applied
  counter reload_failures_total;   // SIGHUP reloads refused (invalid file): the old config runs on
  tls_stats tls;
  cluster_stats cluster;

  service_stats& of(service s) noexcept { return services[static_cast<std::size_t>(s)]; }
  const service_stats& of(service s) const noexcept { return services[static_cast<std::size_t>(s)]; }
  void disconnected(service s, disconnect_reason r) noexcept {
    disconnects[static_cast<std::size_t>(s)][static_cast<std::size_t>(r)].add();
  }
};

}  // namespace simul::server
