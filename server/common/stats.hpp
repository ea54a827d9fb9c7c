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
/// (simul_disconnects_total{service=...,reason=...}).
enum class disconnect_reason { client, idle, error, sendq, flood, ping, registration, shutdown, rejected, killed };
inline constexpr std::size_t disconnect_reason_count = 10;

std::string_view to_string(service s) noexcept;
std::string_view to_string(disconnect_reason r) noexcept;

struct counter {
  std::atomic<std::uint64_t> value{0};
  void add(std::uint64_t n = 1) noexcept { value.fetch_add(n, std::memory_order_relaxed); }
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

  service_stats& of(service s) noexcept { return services[static_cast<std::size_t>(s)]; }
  const service_stats& of(service s) const noexcept { return services[static_cast<std::size_t>(s)]; }
  void disconnected(service s, disconnect_reason r) noexcept {
    disconnects[static_cast<std::size_t>(s)][static_cast<std::size_t>(r)].add();
  }
};

}  // namespace simul::server
