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

  /// When it was last active (what the idle sweep looks at). A kind of session that keeps
  /// its own time of activity (tcp_echo) answers with that.
  virtual clock::time_point last_activity() const noexcept { return last_active; }

  // The fields come in an order that makes the object 64 bytes (vtable pointer included): a
  // plain-TCP echo connection (echo.cpp) starts its own fields on the next cache line.
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
  clock::time_point placed_{};  // when it took its place in the list (its last_active then)

 public:
  bool busy = false;  // mid-write: a drain lets it finish

 private:
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

/// An intrusive list of live connections, in the order of their last move to the back. One list
/// per service lets a single sweeper timer find expired connections in O(expired) instead of one
/// timer per connection, and lets a drain reach every connection.
///
/// Moves are lazy (as nginx re-adds a timer only when it moved by more than a small delay): a
/// touch records the time, and moves the connection to the back only if its place is older than
/// `lazy` (set_lazy; 0: every touch moves). A move touches three other connections' memory,
/// which at 10,000 busy connections is a cache miss each, once per message otherwise. The list
/// stays sorted by place, and a connection's last activity is never older than its place, so a
/// sweep that meets a place younger than the timeout can stop there.
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
    c.placed_ = c.last_active;
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

  /// Records activity; the connection moves to the back (newest) if its place is older than lazy.
  void touch(connection& c, clock::time_point now) noexcept {
    c.last_active = now;
    if (!c.linked_ || now - c.placed_ < lazy_) return;
    if (tail_ == &c) {
      c.placed_ = now;
      return;
    }
    remove(c);
    push_back(c);
  }

  void set_lazy(clock::duration lazy) noexcept { lazy_ = lazy; }
  clock::duration lazy() const noexcept { return lazy_; }

  /// Unlinks and stops connections idle for `timeout` at `now`, looking at no more than `limit`
  /// (the rest wait for the next sweep): from the front, up to the first place younger than
  /// the timeout. Those passed over were active after their place was taken.
  void expire(clock::duration timeout, clock::time_point now, std::size_t limit, disconnect_reason why) {
    for (connection* c = head_; c && limit-- > 0 && c->placed_ + timeout <= now;) {
      connection* next = c->next_;
      if (c->last_activity() + timeout <= now) {
        remove(*c);  // the session's scope finds it unlinked
        c->stop(why);
      }
      c = next;
    }
  }

  connection* front() const noexcept { return head_; }
  static connection* next(const connection& c) noexcept { return c.next_; }
  std::size_t size() const noexcept { return size_; }

 private:
  connection* head_ = nullptr;
  connection* tail_ = nullptr;
  std::size_t size_ = 0;
  clock::duration lazy_{};
};

}  // namespace simul::server
