// The plain-TCP echo's read: a message costs one recv and one send, as in a hand-written epoll
// loop, and an idle connection still holds no buffer. Internal to server/async (echo.cpp).
//
// Why not Asio's own operations (1.22, epoll reactor):
//   - async_wait(wait_read) + read_some: the reactor re-arms the descriptor with epoll_ctl(MOD)
//     for every wait: epoll_ctl + recv + send per message.
//   - async_read_some: each new read first tries a speculative recv, which fails when the
//     previous read drained the socket (1.22 stops speculating only after a read of 0 bytes):
//     recv (EAGAIN) + recv + send per message, and the read needs a buffer of its own that an
//     idle connection holds.
// This operation is a reactor operation of its own on the same reactor and descriptor state:
//   - Woken by the reactor (the socket became readable), it reads into the server's shared
//     scratch buffer and completes at once (the reactor calls the first completed operation
//     directly, which resumes the session, which uses the bytes before it suspends again). A
//     read shorter than the buffer reports the socket drained (done_and_exhausted), so the
//     next read is queued without any system call and without re-arming.
//   - Started while the reactor may have missed readiness (first read, a readiness event that
//     came while no read was queued, or a read that filled the buffer), it only peeks one byte.
//     Data waiting completes it as "readable" (0 bytes, no error), and the session reads with
//     read_some itself; nothing waiting queues it. The scratch buffer is never filled by an
//     operation whose completion is posted rather than run at once.
//   - The scratch buffer has an owner flag: if bytes read into it have not been consumed yet (a
//     completion that was not run at once after all), the next woken read falls back to
//     "readable" instead of overwriting them. Correctness never depends on the inline call.
// It relies on Asio 1.22's detail namespace (reactor_op, epoll_reactor::start_op, the socket's
// implementation); with another reactor (io_uring) the echo uses async_wait as before.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <utility>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/detail/config.hpp>
#include <asio/error.hpp>
#include <asio/execution/context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/query.hpp>

#include "server/async/stream.hpp"

#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT)
#define SIMUL_ECHO_REACTOR_READ 1
#include <asio/detail/bind_handler.hpp>
#include <asio/detail/epoll_reactor.hpp>
#include <asio/detail/fenced_block.hpp>
#include <asio/detail/handler_alloc_helpers.hpp>
#include <asio/detail/handler_work.hpp>
#include <asio/detail/memory.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/socket_ops.hpp>
#endif

namespace simul::server {

#if SIMUL_ECHO_REACTOR_READ

namespace detail {

/// The socket's reactor state (descriptor and per-descriptor data), which tcp::socket keeps in a
/// protected member: reached through a pointer to that member, taken in a derived class.
struct socket_internals : asio::ip::tcp::socket {
  static auto& of(asio::ip::tcp::socket& s) { return (s.*(&socket_internals::impl_)).get_implementation(); }
};

template <class Handler, class IoExecutor>
class echo_read_op : public asio::detail::reactor_op {
 public:
  ASIO_DEFINE_HANDLER_PTR(echo_read_op);

  echo_read_op(int fd, shared_read_buffer& buf, Handler& handler, const IoExecutor& io_ex)
      : reactor_op(asio::error_code(), &echo_read_op::do_perform, &echo_read_op::do_complete),
        fd_(fd),
        buf_(buf),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

 private:
  static status do_perform(reactor_op* base) {
    auto* o = static_cast<echo_read_op*>(base);
    if (o->buf_.starting || o->buf_.held) {
      // Is anything there? The byte stays in the socket; the session reads it itself.
      char byte;
      ssize_t r;
      do {
        r = ::recv(o->fd_, &byte, 1, MSG_PEEK);
      } while (r < 0 && errno == EINTR);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return not_done;
      o->bytes_transferred_ = 0;  // "readable": data, end of stream or an error waits
      return done;
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
    auto* o = static_cast<echo_read_op*>(base);
    ptr p = {asio::detail::addressof(o->handler_), o, o};
    shared_read_buffer& buf = o->buf_;
    asio::detail::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    asio::detail::binder2<Handler, asio::error_code, std::size_t> handler(o->handler_, o->ec_,
                                                                          o->bytes_transferred_);
    p.h = asio::detail::addressof(handler.handler_);
    p.reset();
    if (!owner) {
      // Destroyed without running (the io_context is going away): its bytes are dropped.
      if (handler.arg2_ > 0) buf.held = false;
      return;
    }
    asio::detail::fenced_block b(asio::detail::fenced_block::half);
    w.complete(handler, handler.handler_);
  }

  int fd_;
  shared_read_buffer& buf_;
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

}  // namespace detail

/// Waits for input on `socket` (non-blocking mode) and completes with (ec, n): n > 0 bytes read
/// into `buf` (held: set buf.held = false once used), or n == 0 and no error when input waits to
/// be read with read_some, or the error (eof, operation_aborted after cancel()).
template <class Token>
auto async_echo_read(asio::ip::tcp::socket& socket, shared_read_buffer& buf, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code, std::size_t)>(
      [&socket, &buf](auto handler) {
        using handler_type = decltype(handler);
        using executor_type = asio::ip::tcp::socket::executor_type;
        using op = detail::echo_read_op<handler_type, executor_type>;
        auto& impl = detail::socket_internals::of(socket);
        auto& reactor = asio::use_service<asio::detail::epoll_reactor>(
            asio::query(socket.get_executor(), asio::execution::context));
        typename op::ptr p = {asio::detail::addressof(handler), op::ptr::allocate(handler), nullptr};
        p.p = new (p.v) op(impl.socket_, buf, handler, socket.get_executor());
        op* started = p.p;
        p.v = p.p = nullptr;
        buf.starting = true;
        reactor.start_op(asio::detail::epoll_reactor::read_op, impl.socket_, impl.reactor_data_, started,
                         false, true);
        buf.starting = false;
      },
      token);
}

#endif  // SIMUL_ECHO_REACTOR_READ

}  // namespace simul::server
