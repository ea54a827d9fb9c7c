// What both models do the same way around their listeners and their life: refusing a client
// over a limit, backing off after accept errors, start-up errors, and the log lines of start,
// signals and drain. The models differ only in how they wait.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/common/config.hpp"
#include "server/common/logging.hpp"
#include "server/common/models.hpp"
#include "server/common/server.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// The one line a refused client gets before the close: "ERROR :<reason>" on chat (an IRC
/// line, built by core's formatter), "error: <reason>" on echo.
std::string refusal_line(service svc, std::string_view reason);

/// Counts a refused connection (rejected_total, disconnects{reason="rejected"}) and logs it at
/// info, at most once a second per thread (with the number held back and the client's
/// address `peer`, when known).
void count_refusal(stats& st, service svc, std::string_view reason, std::string_view peer = {});

/// Per-connection events, logged at debug: the accept, and the close with its duration, bytes
/// and reason. `peer` is the client's address.
void log_accepted(service svc, std::string_view peer);
void log_closed(service svc, std::string_view peer, std::chrono::steady_clock::duration lasted, std::uint64_t bytes_in,
                std::uint64_t bytes_out, disconnect_reason why);

/// Whether per-connection events are logged (the peer's address is worth looking up).
bool logging_connections() noexcept;

/// The start-up error for a listener that could not be opened, e.g.
/// "chat listener 127.0.0.1:6667: address already in use".
startup_error listener_error(service svc, const std::string& bind, std::uint16_t port, std::string_view why);

/// After an accept error (EMFILE, ENFILE, ENOBUFS, ...) a listener waits and retries; it never
/// dies and never spins. The wait doubles from 10 ms to 1 s and resets on the next success.
/// One per listener; not thread-safe.
class accept_backoff {
 public:
  /// Counts the failure, logs it (at most once a second, with the number held back) and
  /// returns how long to wait before the next accept.
  std::chrono::milliseconds failed(stats& st, service svc, std::string_view error);
  void succeeded() noexcept { delay_ = first_delay; }

 private:
  static constexpr std::chrono::milliseconds first_delay{10};
  static constexpr std::chrono::milliseconds max_delay{1000};
  std::chrono::milliseconds delay_ = first_delay;
  log_limiter log_;
};

/// "simul-server VERSION (SHA) model=M echo=P chat=P metrics=P" (tests read the ports from it),
/// and a warning when the open-files limit cannot hold limits.max_connections.
void log_started(const config& cfg, std::uint16_t echo, std::uint16_t chat, std::uint16_t metrics);
/// The supervisor's: the same, then " workers=N pids=P1,P2,..." (JSON: "workers":N and
/// "pids":"P1,P2,...").
void log_started(const config& cfg, std::uint16_t echo, std::uint16_t chat, std::uint16_t metrics,
                 std::size_t workers, std::string_view pids);

/// The warning, if any, that the open-files limit `max_fds` (0 = unlimited) is too low for
/// `max_connections` connections plus the server's own descriptors; empty when it is enough.
std::string fd_limit_warning(std::uint64_t max_fds, std::uint32_t max_connections);

/// A first SIGINT/SIGTERM: the drain begins.
void log_drain_signal(int sig, std::chrono::milliseconds drain);

/// A second signal during the drain: the process exits at once, status 1.
[[noreturn]] void exit_on_second_signal(int sig);

/// The drain's deadline came with `left` connections still open; they are closed now, and the
/// chat output still queued for them (`unsent` bytes) is dropped.
void log_drain_deadline(std::size_t left, std::uint64_t unsent, std::chrono::milliseconds drain);

/// The last line of a drain: "drain complete: every connection closed cleanly", or how many
/// were closed at the deadline.
void log_drain_complete(std::size_t closed_at_deadline);

}  // namespace simul::server
