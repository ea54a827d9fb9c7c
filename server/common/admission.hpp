// Admission control for echo and chat connections: limits.max_connections and
// limits.max_connections_per_ip, and the counts behind them. Sans-IO: the caller passes the
// peer's address as text. Not thread-safe: the async model uses it from the loop thread, the
// threaded model under its registry mutex. (Metrics connections are not counted here.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/limits.hpp"

namespace simul::server {

class admission {
 public:
  explicit admission(const core::limits& l) { set_limits(l); }

  /// New limits (a config reload): they apply to the next admit(); nobody is closed for them.
  void set_limits(const core::limits& l) noexcept {
    max_total_ = l.max_connections;
    max_per_ip_ = l.max_connections_per_ip;
  }

  /// Counts a new connection from `address` and returns an empty view, or returns why it is
  /// refused ("too many connections", "too many connections from your address") and counts nothing.
  std::string_view admit(std::string_view address);

  /// A connection admitted from `address` has closed. Call once per successful admit().
  void release(std::string_view address);

  /// Admitted connections open now.
  std::size_t open() const noexcept { return open_; }

  /// Connections open now from `address` (0 when the per-address limit is off).
  std::uint32_t open_from(std::string_view address) const;

  /// Whether admit() needs the peer's address (only with a per-address limit).
  bool per_address() const noexcept { return max_per_ip_ > 0; }

 private:
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  std::uint32_t max_total_ = 0;
  std::uint32_t max_per_ip_ = 0;  // 0 = off
  std::size_t open_ = 0;
  std::unordered_map<std::string, std::uint32_t, hash, std::equal_to<>> per_ip_;  // only while non-zero
};

}  // namespace simul::server
