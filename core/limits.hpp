// The configurable limits, timeouts and policies shared by both server models.
// Plain values with the documented defaults (config/server.yaml lists the same numbers).
// Durations are milliseconds: the config takes whole seconds or a unit ("250ms", "2s", "1m").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace simul::core {

struct limits {
  std::uint32_t max_connections = 10000;        // per process, all services together
  std::uint32_t max_connections_per_ip = 0;     // 0 = off
  std::size_t max_line_bytes = 512;             // chat line, including CRLF
  std::size_t sendq_hard_bytes = 1024 * 1024;   // chat: close at once above this
  std::size_t sendq_soft_bytes = 256 * 1024;    // chat: close if above this ...
  std::chrono::milliseconds sendq_soft_duration = std::chrono::seconds(10);  // ... this long
  std::uint32_t flood_burst = 20;               // token bucket size, lines
  double flood_lines_per_second = 10;           // token refill rate
  std::size_t flood_max_backlog_bytes = 8192;   // unread input while throttled; above it: close
};

// Keys timeouts.<name>_seconds.
struct timeouts {
  std::chrono::milliseconds registration = std::chrono::seconds(30);    // chat: NICK+USER within this
  std::chrono::milliseconds idle = std::chrono::seconds(300);           // echo: close a silent client
  std::chrono::milliseconds ping_interval = std::chrono::seconds(120);  // chat: PING a client silent this long
  std::chrono::milliseconds ping_timeout = std::chrono::seconds(60);    // chat: close if no reply within this
};

}  // namespace simul::core
