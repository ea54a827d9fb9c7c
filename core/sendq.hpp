// Per-client output queue accounting (Redis-style client output buffer limits): a FIFO of shared
// lines with a hard byte limit and a soft limit that may be exceeded only for a while.
// Pure logic: the caller passes the time; no I/O. Both server models drain it with their writer.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/irc_message.hpp"

namespace simul::core {

/// Not thread-safe; one per connection (the threaded server guards it with the connection's mutex).
/// An empty queue owns no heap memory (so idle connections stay cheap).
class sendq {
 public:
  using clock = std::chrono::steady_clock;

  /// hard_bytes == 0 or soft_bytes == 0 disables that limit.
  sendq(std::size_t hard_bytes, std::size_t soft_bytes, std::chrono::milliseconds soft_duration) noexcept;

  /// Queues a line. Returns errc::sendq_exceeded, without queueing it, if bytes() would pass the
  /// hard limit; the caller should then close the client ("SendQ exceeded").
  std::error_code push(shared_line line, clock::time_point now);

  /// errc::sendq_exceeded when bytes() has been above the soft limit continuously for at least
  /// soft_duration, else no error. Call it from a timer and/or after push().
  std::error_code check(clock::time_point now) const noexcept;

  /// When a writer that cannot write (the client is not reading) should call check() next so
  /// the soft limit fires on time without another push: above soft, the moment the allowed
  /// time runs out; below it, `now` + soft_duration (a push after `now` cannot run out sooner).
  /// time_point::max() when the soft limit is off, or when a push alone can run it out
  /// (soft_duration == 0: push() and check() catch that at once).
  clock::time_point next_check(clock::time_point now) const noexcept;

  /// Fills `out` with views of the pending bytes in order (the first one without its already
  /// written part), at most out.size() lines and, after the first line, at most max_bytes in all.
  /// Returns how many views were filled. Views stay valid until consume() releases their line.
  std::size_t peek(std::span<std::string_view> out, std::size_t max_bytes = static_cast<std::size_t>(-1)) const noexcept;

  /// The pending bytes of the first line (empty if the queue is empty).
  std::string_view front() const noexcept;

  /// `n` bytes (n <= bytes()) were written: drops finished lines, remembers a partial one.
  void consume(std::size_t n, clock::time_point now) noexcept;

  /// Drops everything (connection closing without flush).
  void clear() noexcept;

  std::size_t bytes() const noexcept { return bytes_; }  // pending bytes, written parts excluded
  std::size_t lines() const noexcept { return lines_.size() - head_; }
  bool empty() const noexcept { return bytes_ == 0 && lines() == 0; }

  std::size_t hard_bytes() const noexcept { return hard_; }
  std::size_t soft_bytes() const noexcept { return soft_; }

 private:
  void update_soft(clock::time_point now) noexcept;

  std::size_t hard_;
  std::size_t soft_;
  std::chrono::milliseconds soft_duration_;
  std::vector<shared_line> lines_;  // [head_, size) pending; a vector, not a deque: empty = no heap
  std::size_t head_ = 0;
  std::size_t offset_ = 0;          // bytes of lines_[head_] already written
  std::size_t bytes_ = 0;
  clock::time_point above_soft_since_{};
  bool above_soft_ = false;
};

}  // namespace simul::core
