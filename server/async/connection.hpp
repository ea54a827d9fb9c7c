// Per-connection bookkeeping of the async model (loop thread only): the entry every live
// session has in its service's list, the list itself, and the guard that links and counts it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "server/common/stats.hpp"

namespace simul::server {

using clock = std::chrono::steady_clock;

/// Completion token for expected I/O failures as values: auto [ec, n] = co_await op(..., nothrow).
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// One live connection, as the server sees it: a link in its service's list (oldest activity
/// first), why it ended, and its one close path. Lives in the session's coroutine frame.
class connection {
 public:
  connection() = default;
  virtual ~connection() = default;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Ends the connection for `why`: the first call decides the reason and cancels the
  /// session's waits; later calls do nothing. The session then runs its last steps.
  void stop(disconnect_reason why) {
    if (stopped_) return;
    stopped_ = true;
    decide(why);
    on_stop(why);
  }
  bool stopped() const noexcept { return stopped_; }

  /// Records why the connection ends, if nothing decided it before (the first decision counts).
  void decide(disconnect_reason why) noexcept {
    if (decided_) return;
    decided_ = true;
    reason_ = why;
  }
  disconnect_reason reason() const noexcept { return reason_; }

  bool busy = false;  // mid-write: a drain lets it finish
  clock::time_point last_active{};
  std::uint64_t bytes_in = 0;   // for the close's debug line
  std::uint64_t bytes_out = 0;

 protected:
  /// What stopping means for this kind of session (cancel its waits, drop its queue, ...).
  virtual void on_stop(disconnect_reason why) = 0;

 private:
  friend class connection_list;
  connection* prev_ = nullptr;
  connection* next_ = nullptr;
  bool linked_ = false;
  bool stopped_ = false;
  bool decided_ = false;
  disconnect_reason reason_ = disconnect_reason::client;  // EOF unless decided otherwise
};

/// A connection whose stop cancels its stream's waits (echo, metrics).
template <class Stream>
class stream_connection final : public connection {
 public:
  explicit stream_connection(Stream& s) : stream_(s) {}

 private:
  void on_stop(disconnect_reason) override {
    asio::error_code ec;
    stream_.cancel(ec);
  }
  Stream& stream_;
};

/// An intrusive list of live connections, oldest activity first. One list per service lets a
/// single sweeper timer find expired connections in O(expired) instead of one timer per
/// connection, and lets a drain reach every connection.
class connection_list {
 public:
  connection_list() = default;
  connection_list(const connection_list&) = delete;
  connection_list& operator=(const connection_list&) = delete;

  void push_back(connection& c) noexcept {
    c.prev_ = tail_;
    c.next_ = nullptr;
    (tail_ ? tail_->next_ : head_) = &c;
    tail_ = &c;
    c.linked_ = true;
    ++size_;
  }

  void remove(connection& c) noexcept {
    if (!c.linked_) return;
    (c.prev_ ? c.prev_->next_ : head_) = c.next_;
    (c.next_ ? c.next_->prev_ : tail_) = c.prev_;
    c.prev_ = c.next_ = nullptr;
    c.linked_ = false;
    --size_;
  }

  /// Records activity: the connection moves to the back (newest).
  void touch(connection& c, clock::time_point now) noexcept {
    c.last_active = now;
    if (c.linked_ && tail_ != &c) {
      remove(c);
      push_back(c);
    }
  }

  connection* front() const noexcept { return head_; }
  static connection* next(const connection& c) noexcept { return c.next_; }
  std::size_t size() const noexcept { return size_; }

 private:
  connection* head_ = nullptr;
  connection* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace simul::server
