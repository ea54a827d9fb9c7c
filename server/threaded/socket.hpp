// Small POSIX socket helpers for the threaded model: listening sockets, peer addresses, and
// blocking reads and writes that give up at a deadline. No state; safe from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/common/stats.hpp"

namespace simul::server {

using steady_clock = std::chrono::steady_clock;

/// A bound, listening, non-blocking, close-on-exec TCP socket on bind:port (port 0 = any).
/// Throws startup_error naming the listener, e.g. "echo listener 127.0.0.1:7007: address already in use".
int open_listen_socket(service svc, const std::string& bind, std::uint16_t port);

/// The port a socket is bound to, 0 if unknown.
std::uint16_t local_port(int fd) noexcept;

/// The peer's address as text ("127.0.0.1", "::1"), or "unknown".
std::string peer_address(int fd);

/// Milliseconds from now until `deadline`, for poll(): 0 if past, -1 for time_point::max(),
/// at most INT_MAX.
int poll_timeout_ms(steady_clock::time_point deadline) noexcept;

/// Sets SO_RCVTIMEO and SO_SNDTIMEO (0 = none): blocking recv/send then fail with EAGAIN after
/// that long without progress.
void set_io_timeouts(int fd, std::chrono::milliseconds timeout) noexcept;

/// Disables Nagle: replies leave at once.
void set_no_delay(int fd) noexcept;

/// Writes all of `data`, waiting for room with poll() until `deadline`. Returns the bytes
/// written (less than data.size() on error, shutdown or deadline).
std::size_t send_all(int fd, std::string_view data, steady_clock::time_point deadline) noexcept;

/// Writes what fits now without waiting (a one-line reason before closing). Never blocks.
void send_now(int fd, std::string_view data) noexcept;

}  // namespace simul::server
