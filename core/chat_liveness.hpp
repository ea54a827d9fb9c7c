// Registration timeout and PING/PONG liveness of one chat connection, as pure timing logic.
// The server's timer calls poll() at next_deadline(); the server does the I/O it asks for.
#pragma once

#include <chrono>
#include <system_error>

#include "core/limits.hpp"

namespace simul::core {

/// Not thread-safe; one per chat connection.
///
/// - Before registration: the client must register within timeouts.registration of
///   connecting (activity does not extend this), else close with errc::registration_timeout.
/// - After registration: when nothing was received for ping_interval, poll() asks for one
///   PING; if nothing at all (PONG or anything else) arrives within ping_timeout after it,
///   poll() asks to close with errc::ping_timeout.
/// A zero duration disables that timeout.
class liveness {
 public:
  using clock = std::chrono::steady_clock;

  enum class action { none, send_ping, close };
  struct decision {
    action what = action::none;
    std::error_code reason;  // for close: errc::registration_timeout or errc::ping_timeout
  };

  liveness(const timeouts& t, clock::time_point connected_at) noexcept;

  /// Any line (or any byte) received from the client.
  void on_activity(clock::time_point now) noexcept;

  /// Registration completed (hub_output::registered_now).
  void on_registered(clock::time_point now) noexcept;

  /// What to do at `now`. Returns send_ping at most once per silent period.
  decision poll(clock::time_point now) noexcept;

  /// When poll() next has something to do; time_point::max() when nothing is scheduled.
  clock::time_point next_deadline() const noexcept;

  bool registered() const noexcept { return registered_; }
  bool ping_outstanding() const noexcept { return ping_sent_; }

 private:
  std::chrono::milliseconds registration_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  clock::time_point connected_at_;
  clock::time_point last_activity_;
  clock::time_point ping_sent_at_{};
  bool registered_ = false;
  bool ping_sent_ = false;
};

}  // namespace simul::core
