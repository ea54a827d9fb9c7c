// The async model's echo service: bytes back, in order, with backpressure and no idle buffer.
// Plain TCP is a connection object driven by its reactor operation (echo_read.hpp); TLS (and
// plain TCP where that operation is not available) is a coroutine waiting for readiness.
#include <time.h>

#include <chrono>
#include <memory>
#include <string>

#include "server/async/echo_read.hpp"
#include "server/async/session_scope.hpp"
#include "server/async/tls_stream.hpp"

namespace simul::server {

#if SIMUL_ECHO_REACTOR_READ

namespace {
// The time of a message, for the idle sweeper (which looks every 250 ms): the kernel's coarse
// monotonic clock (the same clock as steady_clock, a tick behind at most) costs a fraction of
// a precise reading, once per message.
clock::time_point coarse_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}
}  // namespace

/// One plain-TCP echo connection: read into the shared buffer, send back at once; if the peer
/// takes less, keep the rest and read nothing more until it is sent. Allocated at accept, deletes
/// itself when it ends. Everything a session coroutine would hold is here, and one reusable
/// reactor operation instead of an operation, a frame and executors per message.
class async_server::tcp_echo final : public connection {
 public:
  tcp_echo(async_server& srv, tcp::socket socket, std::string address)
      : srv_(srv), socket_(std::move(socket)), address_(std::move(address)),
        scope_(srv, service::echo, *this, &address_), op_(*this, srv.echo_read_) {}

  void start() {
    asio::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    read();
  }

  // Called by op_ (echo_read.hpp).
  void on_read(asio::error_code ec, std::size_t n) {
    auto& buf = srv_.echo_read_;
    if (n > 0) buf.held = false;  // ours, and used now
    if (ec == asio::error::operation_aborted || stopped()) return finish();
    if (!ec && n == 0) {
      // Readable, nothing read yet: read here. Bytes another connection's read left in the
      // buffer for it come first (only if its completion was queued instead of run at once):
      // wait again, behind that completion.
      if (buf.held) return read();
      n = socket_.read_some(asio::buffer(buf.data, buf.size), ec);
      if (ec == asio::error::would_block) return read();
    }
    if (ec) {
      if (ec != asio::error::eof) decide(disconnect_reason::error);
      return finish();
    }
    srv_.echo_conns_.touch(*this, coarse_now());
    auto& st = srv_.stats_.of(service::echo);
    st.bytes_in_total.add(n);
    bytes_in += n;
    std::size_t written = socket_.write_some(asio::buffer(buf.data, n), ec);
    if (ec == asio::error::would_block) written = 0, ec = {};
    sent(written);
    if (ec) {
      decide(disconnect_reason::error);
      return finish();
    }
    if (written < n) {
      // The peer reads slower than it writes: keep only the rest, and read nothing more from it
      // until that is gone (backpressure instead of an unbounded buffer).
      rest_ = std::make_unique<pending>(std::string(buf.data + written, n - written));
      busy = true;
      return op_.start_write_wait(*srv_.echo_reactor_, socket_);
    }
    read();
  }

  void on_writable(asio::error_code ec) {
    std::size_t w = 0;
    if (!ec) {
      w = socket_.write_some(asio::buffer(rest_->bytes.data() + rest_->done, rest_->bytes.size() - rest_->done), ec);
      if (ec == asio::error::would_block) w = 0, ec = {};
    }
    sent(w);
    if (ec) {
      decide(disconnect_reason::error);  // unless stopped before: the first reason counts
      return finish();
    }
    rest_->done += w;
    if (rest_->done < rest_->bytes.size()) return op_.start_write_wait(*srv_.echo_reactor_, socket_);
    rest_.reset();
    busy = false;
    read();
  }

  void destroy() { delete this; }

 private:
  struct pending {
    std::string bytes;
    std::size_t done = 0;
  };

  void on_stop(disconnect_reason) override {
    asio::error_code ec;
    socket_.cancel(ec);
  }

  void read() {
    if (srv_.draining_ || stopped()) return finish();
    op_.start_read(*srv_.echo_reactor_, socket_);
  }

  void sent(std::size_t n) {
    srv_.stats_.of(service::echo).bytes_out_total.add(n);
    bytes_out += n;
  }

  void finish() {
    busy = false;
    if (srv_.draining_) decide(disconnect_reason::shutdown);
    asio::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    delete this;
  }

  async_server& srv_;
  tcp::socket socket_;
  std::string address_;
  session_scope scope_;
  std::unique_ptr<pending> rest_;  // unsent bytes while the peer is slow
  detail::echo_reactor_op<tcp_echo> op_;
};

void async_server::start_echo(tcp::socket socket, std::string address) {
  if (!echo_reactor_) echo_reactor_ = &asio::use_service<asio::detail::epoll_reactor>(io_);
  (new tcp_echo(*this, std::move(socket), std::move(address)))->start();
}

#else

void async_server::start_echo(tcp::socket socket, std::string address) {
  spawn(echo_session(std::move(socket), std::move(address)), "echo session");
}

#endif

template <session_stream Stream>
asio::awaitable<void> async_server::echo_session(Stream stream, std::string address) {
  stream_connection conn(stream);
  session_scope scope(*this, service::echo, conn, &address);
  auto& st = stats_.of(service::echo);
  auto& buf = echo_read_;
  asio::error_code ec;
  stream.set_option(tcp::no_delay(true), ec);
  stream.non_blocking(true, ec);
  while (!draining_ && !conn.stopped()) {
    // Wait for readability without holding a buffer: idle connections cost no buffer memory.
    auto [wec] = co_await stream.async_wait(tcp::socket::wait_read, nothrow);
    if (wec || conn.stopped()) break;
    // Into the echo sessions' shared buffer (one thread; the bytes are used before the next
    // suspension), unless a plain-TCP connection's bytes still wait there (echo_read.hpp).
    if (buf.held) continue;
    std::size_t n = stream.read_some(asio::buffer(buf.data, buf.size), ec);
    if (ec == asio::error::would_block) continue;
    if (ec) {
      if (ec != asio::error::eof) conn.decide(disconnect_reason::error);
      break;
    }
    echo_conns_.touch(conn, clock::now());
    st.bytes_in_total.add(n);
    conn.bytes_in += n;
    std::size_t written = stream.write_some(asio::buffer(buf.data, n), ec);
    if (ec == asio::error::would_block) written = 0, ec = {};
    if (written < n && !ec) {
      // The peer reads slower than it writes: keep only the rest, and read nothing more from it
      // until that is gone (backpressure instead of an unbounded buffer).
      std::string rest(buf.data + written, n - written);
      std::size_t done = 0;
      conn.busy = true;
      while (done < rest.size() && !ec) {
        auto [aec] = co_await stream.async_wait(tcp::socket::wait_write, nothrow);
        if (aec) {
          ec = aec;
          break;
        }
        done += stream.write_some(asio::buffer(rest.data() + done, rest.size() - done), ec);
        if (ec == asio::error::would_block) ec = {};
      }
      written += done;
      conn.busy = false;
    }
    st.bytes_out_total.add(written);
    conn.bytes_out += written;
    if (ec) {
      conn.decide(disconnect_reason::error);  // unless stopped before: the first reason counts
      break;
    }
  }
  if (draining_) conn.decide(disconnect_reason::shutdown);
  stream.shutdown(tcp::socket::shutdown_send, ec);
}
template asio::awaitable<void> async_server::echo_session(tcp_stream, std::string);
template asio::awaitable<void> async_server::echo_session(tls_stream, std::string);

}  // namespace simul::server
