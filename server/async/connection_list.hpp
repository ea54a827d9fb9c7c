// An intrusive list of live connections, oldest activity first. One list per service lets a
// single sweeper timer find expired connections in O(expired) instead of one timer per
// connection, and lets a drain reach every connection. Loop thread only.
#pragma once

#include <chrono>
#include <cstddef>

#include <asio/ip/tcp.hpp>

#include "server/common/stats.hpp"

namespace simul::server {

using clock = std::chrono::steady_clock;

/// Lives in a session's coroutine frame; the list only points at it.
struct conn_entry {
  conn_entry* prev = nullptr;
  conn_entry* next = nullptr;
  bool linked = false;
  bool busy = false;        // mid-write: a drain lets it finish
  bool closing = false;     // the server decided to close it; `reason` says why
  disconnect_reason reason = disconnect_reason::client;
  clock::time_point last_active{};
  asio::ip::tcp::socket* socket = nullptr;
  void* session = nullptr;  // the service's own session object, if it has one
};

class connection_list {
 public:
  connection_list() = default;
  connection_list(const connection_list&) = delete;
  connection_list& operator=(const connection_list&) = delete;

  void push_back(conn_entry& e) noexcept {
    e.prev = tail_;
    e.next = nullptr;
    (tail_ ? tail_->next : head_) = &e;
    tail_ = &e;
    e.linked = true;
    ++size_;
  }

  void remove(conn_entry& e) noexcept {
    if (!e.linked) return;
    (e.prev ? e.prev->next : head_) = e.next;
    (e.next ? e.next->prev : tail_) = e.prev;
    e.prev = e.next = nullptr;
    e.linked = false;
    --size_;
  }

  /// Records activity: the entry moves to the back (newest).
  void touch(conn_entry& e, clock::time_point now) noexcept {
    e.last_active = now;
    if (e.linked && tail_ != &e) {
      remove(e);
      push_back(e);
    }
  }

  conn_entry* front() const noexcept { return head_; }
  std::size_t size() const noexcept { return size_; }

 private:
  conn_entry* head_ = nullptr;
  conn_entry* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace simul::server
