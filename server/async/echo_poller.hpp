// The plain-TCP echo's event loop inside the io_context: an epoll set of its own, whose
// descriptor is one entry in Asio's reactor. Internal to server/async (echo.cpp).
//
// Why (docs/ARCHITECTURE.md, docs/BENCHMARKS.md): an echo message costs two system calls, recv
// and send, in any event loop; what a loop adds per message is its own bookkeeping. Through
// Asio's reactor, each connection's readiness goes through the reactor's per-descriptor state
// (a cache miss per message at 10,000 connections), its operation queues and the scheduler:
// measured, user space was 7% of the server's CPU against 1.7% for a hand-written C epoll loop.
// Here the echo sockets are in an edge-triggered epoll set of their own; when Asio's reactor
// reports that set readable, one epoll_wait takes up to 256 ready connections and each is
// served at once: recv into the shared buffer, send back. Per message that is the C loop's work;
// per wake-up, one epoll_wait more.
//
// The wait on the set is a reactor operation (`set_wait`) queued on the set's descriptor, as
// Asio queues its own reads: its `perform` is the epoll_wait (ready events: done; none: keep
// waiting), and the reactor calls its completion at once, so the events are served before
// anything else runs and no connection can end between the wait and its event. A wait that took
// fewer events than the array holds emptied the set's ready list ("done and exhausted"): the
// next wait is queued without any system call and the next readiness wakes it (the set is
// registered edge-triggered, as Asio registers everything). A full array means more may be
// ready: the rest are taken by a posted step (other handlers run in between; the step calls
// epoll_wait itself and serves its events at once) before the wait is queued again.
//
// It relies on Asio 1.22's detail namespace (reactor_op, epoll_reactor's descriptor
// registration). Without Asio's epoll reactor (io_uring), plain TCP echo is the coroutine.
#pragma once

#include <asio/detail/config.hpp>

#include "server/async/server.hpp"

#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define SIMUL_ECHO_POLLER 1

#include <sys/epoll.h>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <vector>

#include <asio/detail/epoll_reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

namespace simul::server::detail {

/// An edge-triggered epoll set served from the io_context's reactor. Each registered descriptor
/// carries a pointer; `Handler::on_event(void* ptr, std::uint32_t events)` is called for each
/// event on the loop thread (after `Handler::before_serving()` once per batch, and
/// `Handler::prefetch(ptr)` a little ahead). Events are served right after the epoll_wait that took them, with
/// one exception (a wait tried at once, whose completion Asio posts), so the object a pointer
/// names may have ended meanwhile: a handler keeps ended objects until `Handler::collect()`,
/// which the set calls before each epoll_wait, or until holding_events() is false.
template <class Handler>
class epoll_set {
 public:
  static constexpr int max_events = 256;

  /// Throws std::system_error if the set cannot be made or registered.
  epoll_set(asio::io_context& io, Handler& handler)
      : io_(io), reactor_(asio::use_service<asio::detail::epoll_reactor>(io)), handler_(handler), wait_(*this) {
    fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    if (int err = reactor_.register_descriptor(fd_, data_)) {
      ::close(fd_);
      throw std::system_error(err, std::generic_category(), "registering the echo epoll set");
    }
    queue_wait();
  }

  /// Loop thread, with the io_context still alive. A wait still queued is completed as
  /// aborted (or destroyed with the io_context), which does nothing: this object must outlive
  /// the io_context.
  void close() {
    if (fd_ < 0) return;
    reactor_.deregister_descriptor(fd_, data_, true);
    reactor_.cleanup_descriptor_data(data_);
    ::close(fd_);
    fd_ = -1;
  }
  ~epoll_set() { close(); }
  epoll_set(const epoll_set&) = delete;
  epoll_set& operator=(const epoll_set&) = delete;

  /// Adds `fd` for `events` (EPOLLIN or EPOLLOUT; edge-triggered). Readiness it already has is
  /// reported. Returns errno, 0 on success.
  int add(int fd, void* ptr, std::uint32_t events) { return control(EPOLL_CTL_ADD, fd, ptr, events); }
  /// Changes what `fd` waits for; readiness it already has is reported again, which also serves
  /// to come back to a socket that may hold more than one read took. Returns errno, 0 on success.
  int modify(int fd, void* ptr, std::uint32_t events) { return control(EPOLL_CTL_MOD, fd, ptr, events); }
  /// Takes `fd` out of the set (do it before closing: a close removes it only if no other
  /// descriptor, e.g. in a forked child, refers to the same socket).
  void remove(int fd) noexcept { ::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

  /// Whether events taken by an epoll_wait wait to be served (their pointers must stay valid).
  bool holding_events() const noexcept { return count_ > 0; }

 private:
  class set_wait : public asio::detail::reactor_op {
   public:
    explicit set_wait(epoll_set& set)
        : reactor_op(asio::error_code(), &set_wait::do_perform, &set_wait::do_complete), set_(set) {}

   private:
    static status do_perform(reactor_op* base) {
      auto& set = static_cast<set_wait*>(base)->set_;
      set.count_ = set.take();
      if (set.count_ == 0) return not_done;
      return set.count_ < max_events ? done_and_exhausted : done;
    }
    static void do_complete(void* owner, asio::detail::operation* base, const asio::error_code& ec, std::size_t) {
      auto& set = static_cast<set_wait*>(base)->set_;
      if (!owner || ec || static_cast<set_wait*>(base)->ec_ || set.fd_ < 0) return;  // shutting down
      const int n = set.count_;
      set.serve(n);
      set.after_batch(n);
    }
    epoll_set& set_;
  };

  int control(int op, int fd, void* ptr, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events | EPOLLET | EPOLLRDHUP;
    ev.data.ptr = ptr;
    return ::epoll_ctl(fd_, op, fd, &ev) == 0 ? 0 : errno;
  }

  int take() {
    handler_.collect();
    int n;
    do {
      n = ::epoll_wait(fd_, events_.data(), max_events, 0);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? 0 : n;
  }

  void serve(int n) {
    handler_.before_serving();
    // The objects behind the events are cold in the cache (a miss each at 10,000 connections):
    // fetch the next ones while this one's system calls run.
    constexpr int ahead = 2;
    for (int i = 0; i < n && i < ahead; ++i) handler_.prefetch(events_[i].data.ptr);
    for (int i = 0; i < n; ++i) {
      if (i + ahead < n) handler_.prefetch(events_[i + ahead].data.ptr);
      handler_.on_event(events_[i].data.ptr, events_[i].events);
    }
    count_ = 0;
  }

  void after_batch(int n) {
    if (n < max_events) return queue_wait();
    // More may be ready: take them in a step of their own, after what else waits to run.
    asio::post(io_, [this] {
      if (fd_ < 0) return;
      int m = take();
      serve(m);
      after_batch(m);
    });
  }

  void queue_wait() {
    // Speculative, as Asio's own reads: after a wait that emptied the ready list the reactor
    // queues it without a system call (not speculative, it would re-arm the descriptor with
    // epoll_ctl every time). Tried at once, a wait that finds events is posted (holding_events).
    wait_.ec_ = asio::error_code();
    reactor_.start_op(asio::detail::epoll_reactor::read_op, fd_, data_, &wait_, false, true);
  }

  asio::io_context& io_;
  asio::detail::epoll_reactor& reactor_;
  Handler& handler_;
  int fd_ = -1;
  asio::detail::epoll_reactor::per_descriptor_data data_ = nullptr;
  set_wait wait_;
  int count_ = 0;  // events taken and not yet served
  std::array<epoll_event, max_events> events_{};
};

}  // namespace simul::server::detail

namespace simul::server {

/// The plain-TCP echo connections' epoll set and the connections that ended (echo.cpp).
class async_server::echo_poller {
 public:
  explicit echo_poller(asio::io_context& io) : io_(io), set(io, *this) {}

  void before_serving() noexcept;
  void prefetch(void* conn) const noexcept;
  void on_event(void* conn, std::uint32_t events);
  /// The time of this batch of events (coarse: read once per batch).
  clock::time_point now() const noexcept { return now_; }
  /// Frees the connections that ended (the set calls it when no event can point to them).
  void collect();
  /// Keeps an ended connection until collect().
  void bury(tcp_echo& c);
  /// Ends the connections left and closes the set; io_ must still be alive.
  void close(connection_list& echo_conns);

 private:
  asio::io_context& io_;
  std::vector<tcp_echo*> graveyard_;
  clock::time_point now_{};

 public:
  detail::epoll_set<echo_poller> set;  // after graveyard_: its first wait may collect
};

}  // namespace simul::server

#else

namespace simul::server {
class async_server::echo_poller {};  // not used: plain-TCP echo is the coroutine
}  // namespace simul::server

#endif
