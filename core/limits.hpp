// The configurable limits, timeouts and policies shared by both server models.
// Plain values with the documented defaults (config/server.yaml lists the same numbers).
#pragma once

#include <cstddef>
#include <cstdint>

namespace simul::core {

struct limits {
  std::uint32_t max_connections = 10000;        // per process, all services together
  std::uint32_t max_connections_per_ip = 0;     // 0 = off
  std::size_t max_line_bytes = 512;             // chat line, including CRLF
  std::size_t sendq_hard_bytes = 1024 * 1024;   // chat: close at once above this
  std::size_t sendq_soft_bytes = 256 * 1024;    // chat: close if above this ...
  std::uint32_t sendq_soft_seconds = 10;        // ... for this long
  std::uint32_t flood_burst = 20;               // token bucket size, lines
  double flood_lines_per_second = 10;           // token refill rate
  std::size_t flood_max_backlog_bytes = 8192;   // unread input while throttled; above it: close
};

struct timeouts {
  std::uint32_t registration_seconds = 30;   // chat: NICK+USER within this
  std::uint32_t idle_seconds = 300;          // echo: close a silent client
  std::uint32_t ping_interval_seconds = 120; // chat: PING a client silent this long
  std::uint32_t ping_timeout_seconds = 60;   // chat: close if no reply within this
};

}  // namespace simul::core
