// The plain-TCP echo's event loop inside the io_context: echo sockets in the reactor's own epoll
// set, each connection's readiness an operation on the io_context's queue. Internal to
// server/async (echo.cpp).
//
// Why (docs/ARCHITECTURE.md, docs/BENCHMARKS.md): an echo message costs two system calls, recv
// and send, in any event loop; what a loop adds per message is its own bookkeeping. Through
// Asio's sockets, each readiness goes through the reactor's per-descriptor state (a cache miss
// per message at 10,000 connections), its operation queues and a re-arming epoll_ctl or a
// speculative recv; an epoll set of our own, registered in the reactor, cost a second
// epoll_wait per wake-up. Here an echo socket is registered, edge-triggered, in the epoll set the
// reactor itself waits on, and its event data is the connection, which is laid out as the
// reactor expects its own per-descriptor entries to begin: a scheduler operation. When the
// reactor's one epoll_wait reports the socket, the reactor puts the connection on the queue as it
// would its own entry (once, however many events came) and the io_context completes it like any
// other handler: recv into the shared buffer, send back. The first connection's completion also
// serves the connections queued right behind it (those the same epoll_wait reported), taken off
// the queue under one lock, so the scheduler's per-handler cost is paid once per wake-up. Per
// message that is the C loop's work; per wake-up, the C loop's one epoll_wait.
//
// A connection's operation is on the queue only between the epoll_wait that reported it and its
// completion, and the reactor always queues its own wait behind what it reported, so a queued
// entry always has a successor (`queued()`); of those taken behind a completion, all but the
// last still have one, and the last is handled as one ending in its own completion. A
// connection that ends while queued (stopped by the sweeper, a drain, a shutdown) stays
// allocated until its completion comes up, or until the io_context destroys the queue, and
// frees itself then; one that ends in its own completion is freed by a posted step.
//
// It relies on Asio 1.22's detail namespace: epoll_reactor's descriptor (private; read through
// an explicit instantiation, which may name private members), how its run() treats the event
// data (scheduler_operation first, its `task_result_` set to the events, queued unless already
// queued in that run), the scheduler's work accounting (a descriptor's completion is not work:
// each completion compensates, as the reactor's own entries do), and the scheduler's queue, its
// lock and an operation's completion function (private, read the same way; a completion runs
// with the lock released, and other threads only push to the queue's back under it).
// tests/server/echo_test covers every path; an Asio upgrade must re-check these. Without Asio's
// epoll reactor (io_uring), plain TCP echo is the coroutine.
#pragma once

#include <asio/detail/config.hpp>

#include "server/async/server.hpp"

#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define SIMUL_ECHO_POLLER 1

#include <sys/epoll.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include <asio/detail/epoll_reactor.hpp>
#include <asio/detail/op_queue.hpp>
#include <asio/detail/scheduler.hpp>
#include <asio/detail/scheduler_operation.hpp>
#include <asio/io_context.hpp>

namespace simul::server::detail {

/// A descriptor's entry in the reactor's epoll set: what the reactor's run() queues when the
/// descriptor is ready. Its completion function gets the events as the bytes transferred, and a
/// null owner when the io_context destroys the queue instead of running it.
class reactor_entry : public asio::detail::scheduler_operation {
 public:
  using completion = func_type;
  using queue = asio::detail::op_queue<asio::detail::scheduler_operation>;

 protected:
  explicit reactor_entry(func_type on_ready) : scheduler_operation(on_ready) {}

  /// What the reactor reported for a queued entry (the result it would complete it with).
  static std::uint32_t events_of(asio::detail::scheduler_operation& op) noexcept {
    return static_cast<reactor_entry&>(op).task_result_;
  }
  /// Most entries a completion takes from behind it (a reactor run queues up to 128).
  static constexpr std::size_t max_batch = 256;

  /// Between the epoll_wait that reported it and its completion.
  bool queued() noexcept {
    auto* self = static_cast<asio::detail::scheduler_operation*>(this);
    return asio::detail::op_queue_access::next(self) != nullptr;
  }

  /// The scheduler counts each completion as the end of a unit of work; a descriptor's readiness
  /// was never counted as one (as the reactor's own entries), so each completion says so first.
  static void compensate(void* owner) {
    if (owner) static_cast<asio::detail::scheduler*>(owner)->compensating_work_started();
  }
};

/// The epoll descriptor of the io_context's reactor.
int reactor_epoll_fd(asio::io_context& io);

/// Moves the operations at the front of the io_context's queue whose completion is `fn` (at most
/// `limit`) to `out`, in order. `owner`: the scheduler, as a completion gets it.
void take_queued(void* owner, reactor_entry::completion fn, reactor_entry::queue& out, std::size_t limit);

}  // namespace simul::server::detail

namespace simul::server {

/// The plain-TCP echo connections' place in the reactor's epoll set, and the connections that
/// ended in their own completion (echo.cpp).
class async_server::echo_poller {
 public:
  explicit echo_poller(asio::io_context& io) : io_(io), epoll_fd_(detail::reactor_epoll_fd(io)) {}

  /// Adds `fd` for `events` (EPOLLIN or EPOLLOUT; edge-triggered, with EPOLLRDHUP); readiness it
  /// already has is reported. Returns errno, 0 on success.
  int add(int fd, detail::reactor_entry& entry, std::uint32_t events) {
    return control(EPOLL_CTL_ADD, fd, entry, events);
  }
  /// Changes what `fd` waits for; readiness it already has is reported again, which also serves
  /// to come back to a socket that may hold more than one read took. Returns errno, 0 on success.
  int modify(int fd, detail::reactor_entry& entry, std::uint32_t events) {
    return control(EPOLL_CTL_MOD, fd, entry, events);
  }
  /// Takes `fd` out of the set (do it before closing: a close removes it only if no other
  /// descriptor, e.g. in a forked child, refers to the same socket).
  void remove(int fd) noexcept { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

  /// Frees an ended connection after what runs now (nothing can point to it then).
  void bury(tcp_echo& c);
  /// Ends the connections left and frees those it can; io_ must still be alive.
  void close(connection_list& echo_conns);

 private:
  int control(int op, int fd, detail::reactor_entry& entry, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events | EPOLLET | EPOLLRDHUP;
    ev.data.ptr = static_cast<asio::detail::scheduler_operation*>(&entry);
    return ::epoll_ctl(epoll_fd_, op, fd, &ev) == 0 ? 0 : errno;
  }
  void collect();

  asio::io_context& io_;
  int epoll_fd_;
  std::vector<tcp_echo*> graveyard_;
};

}  // namespace simul::server

#else

namespace simul::server {
class async_server::echo_poller {};  // not used: plain-TCP echo is the coroutine
}  // namespace simul::server

#endif
