// The plain-TCP echo's reactor operation: a message costs one recv and one send, as in a
// hand-written epoll loop, and an idle connection holds no buffer. Internal to server/async
// (echo.cpp).
//
// Why not Asio's own operations (1.22, epoll reactor):
//   - async_wait(wait_read) + read_some: the reactor re-arms the descriptor with epoll_ctl(MOD)
//     for every wait: epoll_ctl + recv + send per message.
//   - async_read_some: each new read first tries a speculative recv, which fails when the
//     previous read drained the socket (1.22 stops speculating only after a read of 0 bytes):
//     recv (EAGAIN) + recv + send per message, and the read needs a buffer of its own that an
//     idle connection holds.
//   - Either way, behind a coroutine: per message an operation and an initiation frame are
//     allocated, executors are copied and the coroutine is resumed; a quarter of the server's
//     CPU at 1,000 connections went there (perf, docs/BENCHMARKS.md).
// This operation lives inside its connection (one per connection, reused: a connection waits
// for one thing at a time) and completes by calling the connection directly:
//   - Woken by the reactor (the socket became readable), it reads into the echo sessions' shared
//     buffer and the reactor completes it at once (the first operation it performs is called
//     directly), which sends the bytes back before anything else runs. A read shorter than the
//     buffer reports the socket drained (done_and_exhausted), so the next read is queued without
//     any system call and without re-arming.
//   - Started while the reactor may have missed readiness (first read, a readiness event that
//     came while no read was queued, a read that filled the buffer), it only peeks one byte. Data
//     waiting completes it as "readable" (0 bytes, no error), and the connection reads with
//     read_some itself; nothing waiting queues it. So the shared buffer is never filled by an
//     operation whose completion is posted rather than run at once.
//   - The shared buffer has an owner flag: if bytes read into it have not been consumed yet (a
//     completion that was not run at once after all), the next woken read falls back to
//     "readable" instead of overwriting them. Correctness never depends on the direct call.
//   - As a write wait (backpressure) it is Asio's async_wait(wait_write): the reactor adds
//     EPOLLOUT and completes it when the socket has room.
// It relies on Asio 1.22's detail namespace (reactor_op, epoll_reactor::start_op, the socket's
// descriptor state); with another reactor (io_uring) the echo is the coroutine with async_wait.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>

#include <asio/detail/config.hpp>
#include <asio/error.hpp>
#include <asio/ip/tcp.hpp>

#include "server/async/stream.hpp"

#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define SIMUL_ECHO_REACTOR_READ 1
#include <asio/detail/epoll_reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/socket_ops.hpp>

namespace simul::server::detail {

/// The socket's reactor state (descriptor and per-descriptor data), which tcp::socket keeps in a
/// protected member: reached through a pointer to that member, taken in a derived class.
struct socket_internals : asio::ip::tcp::socket {
  static auto& of(asio::ip::tcp::socket& s) { return (s.*(&socket_internals::impl_)).get_implementation(); }
};

/// The reactor operation of one echo connection `Conn`, which must offer
///   on_read(ec, n): n > 0 bytes are in the shared buffer (held: clear `held` once used), or
///                   n == 0 and no error: input waits, read it with read_some; or the error
///                   (eof, operation_aborted after cancel());
///   on_writable(ec): the socket has room (or the error);
///   destroy(): the io_context is going away with this operation pending.
template <class Conn>
class echo_reactor_op : public asio::detail::reactor_op {
 public:
  echo_reactor_op(Conn& conn, shared_read_buffer& buf)
      : reactor_op(asio::error_code(), &echo_reactor_op::do_perform, &echo_reactor_op::do_complete),
        conn_(conn),
        buf_(buf) {}

  void start_read(asio::detail::epoll_reactor& reactor, asio::ip::tcp::socket& socket) {
    start(reactor, socket, false);
  }
  void start_write_wait(asio::detail::epoll_reactor& reactor, asio::ip::tcp::socket& socket) {
    start(reactor, socket, true);
  }

 private:
  void start(asio::detail::epoll_reactor& reactor, asio::ip::tcp::socket& socket, bool write) {
    auto& impl = socket_internals::of(socket);
    fd_ = impl.socket_;
    write_ = write;
    ec_ = {};
    bytes_transferred_ = 0;
    buf_.starting = !write;
    // As Asio starts its own: a read may be tried at once (the reactor knows when not to), a
    // write wait never is.
    reactor.start_op(write ? asio::detail::epoll_reactor::write_op : asio::detail::epoll_reactor::read_op,
                     impl.socket_, impl.reactor_data_, this, false, !write);
    buf_.starting = false;
  }

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<echo_reactor_op*>(base);
    if (o->write_) return done;  // woken for EPOLLOUT: room to write
    if (o->buf_.starting || o->buf_.held) {
      // Is anything there? The byte stays in the socket; the connection reads it itself.
      char byte;
      ssize_t r;
      do {
        r = ::recv(o->fd_, &byte, 1, MSG_PEEK);
      } while (r < 0 && errno == EINTR);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return not_done;
      return done;  // "readable": data, the end of the stream or an error waits
    }
    if (!asio::detail::socket_ops::non_blocking_recv1(o->fd_, o->buf_.data, o->buf_.size, 0, true, o->ec_,
                                                      o->bytes_transferred_))
      return not_done;
    if (o->bytes_transferred_ > 0) o->buf_.held = true;
    // Shorter than the buffer (or the end of the stream): the socket is drained, and the
    // reactor may queue the next read without trying it first.
    return o->bytes_transferred_ < o->buf_.size ? done_and_exhausted : done;
  }

  static void do_complete(void* owner, asio::detail::operation* base, const asio::error_code&, std::size_t) {
    auto* o = static_cast<echo_reactor_op*>(base);
    if (!owner) {
      // Destroyed without running (the io_context is going away): its bytes are dropped.
      if (!o->write_ && o->bytes_transferred_ > 0) o->buf_.held = false;
      o->conn_.destroy();
      return;
    }
    if (o->write_)
      o->conn_.on_writable(o->ec_);
    else
      o->conn_.on_read(o->ec_, o->bytes_transferred_);
  }

  Conn& conn_;
  shared_read_buffer& buf_;
  int fd_ = -1;
  bool write_ = false;
};

}  // namespace simul::server::detail

#endif
