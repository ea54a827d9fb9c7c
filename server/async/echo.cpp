// The async model's echo service: bytes back, in order, with backpressure and no idle buffer.
// Plain TCP is a connection object served by the echo's own epoll set (echo_poller.hpp); TLS
// (and plain TCP where that set is not available) is a coroutine waiting for readiness.
#include "server/async/echo_poller.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

#include "server/async/session_scope.hpp"
#include "server/async/tls_stream.hpp"

namespace simul::server {

#if SIMUL_ECHO_POLLER

namespace detail {

namespace {
// Asio keeps the reactor's epoll descriptor private. An explicit instantiation may name a private
// member; the friend it defines hands the member pointer out.
struct epoll_fd_tag {
  using type = int asio::detail::epoll_reactor::*;
  friend type member(epoll_fd_tag);
};
template <class Tag, typename Tag::type Member>
struct expose {
  friend typename Tag::type member(Tag) { return Member; }
};
template struct expose<epoll_fd_tag, &asio::detail::epoll_reactor::epoll_fd_>;

// The scheduler's queue and its lock, and an operation's completion function: to take the
// connections queued right behind the one running.
struct queue_tag {
  using type = asio::detail::op_queue<asio::detail::scheduler_operation> asio::detail::scheduler::*;
  friend type member(queue_tag);
};
template struct expose<queue_tag, &asio::detail::scheduler::op_queue_>;
struct mutex_tag {
  using type = asio::detail::conditionally_enabled_mutex asio::detail::scheduler::*;
  friend type member(mutex_tag);
};
template struct expose<mutex_tag, &asio::detail::scheduler::mutex_>;
struct func_tag {
  using type = reactor_entry::completion asio::detail::scheduler_operation::*;
  friend type member(func_tag);
};
template struct expose<func_tag, &asio::detail::scheduler_operation::func_>;
}  // namespace

int reactor_epoll_fd(asio::io_context& io) {
  return asio::use_service<asio::detail::epoll_reactor>(io).*member(epoll_fd_tag{});
}

void take_queued(void* owner, reactor_entry::completion fn, reactor_entry::queue& out, std::size_t limit) {
  auto& sched = *static_cast<asio::detail::scheduler*>(owner);
  asio::detail::conditionally_enabled_mutex::scoped_lock lock(sched.*member(mutex_tag{}));
  auto& queue = sched.*member(queue_tag{});
  for (; limit > 0; --limit) {
    auto* op = queue.front();
    if (!op || op->*member(func_tag{}) != fn) break;
    queue.pop();
    out.push(op);
  }
}

}  // namespace detail

/// One plain-TCP echo connection: on readiness, read into the shared buffer and send back at
/// once; if the peer takes less, keep the rest and read nothing more until it is sent. Allocated
/// at accept; its entry in the reactor's epoll set is itself (echo_poller.hpp). When it ends, its
/// socket is closed and its accounting done at once; the object is freed once nothing can point
/// to it.
static_assert(sizeof(connection) == 64, "tcp_echo's hot fields are laid out for a one-line connection");

class alignas(64) async_server::tcp_echo final : public connection, public detail::reactor_entry {
 public:
  tcp_echo(async_server& srv, int fd, std::string address)
      : reactor_entry(&tcp_echo::on_ready), fd_(fd), srv_(srv), address_(std::move(address)) {
    scope_.emplace(srv, service::echo, *this, &address_);
    active_at_ = last_active;
  }

  /// Ends it now: closes the socket (the epoll set forgets it), counts and logs the end.
  void end() {
    if (fd_ < 0) return;
    if (srv_.draining_) decide(disconnect_reason::shutdown);
    // Out of the set before the close: closing removes it only with the last descriptor of the
    // socket, and a process forked meanwhile (before its exec) may hold another.
    srv_.echo_poller_->remove(fd_);
    ::shutdown(fd_, SHUT_WR);
    ::close(fd_);
    fd_ = -1;
    rest_.reset();
    writing_ = busy = false;
    bytes_in = in_;  // for the close's line
    bytes_out = in_ - unsent_;
    scope_.reset();
    // On the queue (ended by something else that ran first): its completion frees it.
    if (queued())
      orphan_ = true;
    else
      srv_.echo_poller_->bury(*this);
  }

 private:
  struct pending {
    std::string bytes;
    std::size_t done = 0;
  };

  // The reactor reported the socket (the events as the "bytes"); no owner: the io_context is
  // destroying its queue.
  static void on_ready(void* owner, asio::detail::scheduler_operation* op, const asio::error_code&,
                       std::size_t events) {
    compensate(owner);
    serve(op, static_cast<std::uint32_t>(events), owner != nullptr);
    if (!owner) return;
    // The connections the same epoll_wait reported, queued right behind this one: served now,
    // in their order, without a pass through the scheduler each.
    queue next;
    detail::take_queued(owner, &tcp_echo::on_ready, next, max_batch);
    while (auto* o = next.front()) {
      next.pop();
      serve(o, events_of(*o), true);
    }
  }

  static void serve(asio::detail::scheduler_operation* op, std::uint32_t events, bool run) {
    auto* self = static_cast<tcp_echo*>(static_cast<reactor_entry*>(op));
    if (self->orphan_) {
      delete self;
    } else if (run) {
      self->on_event(events);
    }
  }

  /// Readiness (edge-triggered: whatever it reports is handled now).
  void on_event(std::uint32_t events) {
    if (fd_ < 0) return;  // ended: nothing left to serve
    if (writing_) {
      if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) write_rest();
      return;  // input waits until the rest is gone (the set reports it again then)
    }
    if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return echo_once();
    // The peer has finished sending (or the socket failed): what it sent before is echoed,
    // then the end is read; no later event would come for it.
    while (fd_ >= 0 && !writing_) echo_once();
  }

  void on_stop(disconnect_reason) override { end(); }
  clock::time_point last_activity() const noexcept override { return active_at_; }

  // Activity for the idle sweep, in this line: the list itself (and the connection's line) is
  // touched only when the connection's place there is older than the list's laziness.
  void note_activity() {
    const auto now = srv_.echo_clock_;
    active_at_ = now;
    if (now < move_after_) return;
    auto& list = srv_.echo_conns_;
    list.touch(*this, now);
    move_after_ = now + list.lazy();
  }

  // One read and its echo.
  void echo_once() {
    auto& buf = srv_.echo_scratch_;
    ssize_t n;
    do {
      n = ::recv(fd_, buf.data(), buf.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (srv_.draining_) end();
      return;
    }
    if (n <= 0) {
      if (n < 0) decide(disconnect_reason::error);
      return end();  // n == 0: the client closed (its reason stays "client")
    }
    const auto got = static_cast<std::size_t>(n);
    note_activity();
    srv_.stats_.of(service::echo).bytes_in_total.add_one_writer(got);
    in_ += got;
    asio::error_code ec;
    std::size_t written = send_some(buf.data(), got, ec);
    sent(written);
    if (written < got) unsent_ += got - written;
    if (ec) {
      decide(disconnect_reason::error);
      return end();
    }
    if (written < got) {
      // The peer reads slower than it writes: keep only the rest, and read nothing more from it
      // until that is gone (backpressure instead of an unbounded buffer).
      rest_ = std::make_unique<pending>(pending{std::string(buf.data() + written, got - written)});
      writing_ = busy = true;
      return watch(EPOLLOUT);
    }
    if (srv_.draining_) return end();
    // A full buffer: more may wait, and an edge-triggered set would not say so again.
    if (got == buf.size()) watch(EPOLLIN);
  }

  void write_rest() {
    asio::error_code ec;
    std::size_t w = send_some(rest_->bytes.data() + rest_->done, rest_->bytes.size() - rest_->done, ec);
    sent(w);
    unsent_ -= w;
    if (ec) {
      decide(disconnect_reason::error);  // unless stopped before: the first reason counts
      return end();
    }
    rest_->done += w;
    if (rest_->done < rest_->bytes.size()) return;  // the next EPOLLOUT edge brings us back
    rest_.reset();
    writing_ = busy = false;
    if (srv_.draining_) return end();
    watch(EPOLLIN);  // reports input that came meanwhile
  }

  // What the socket waits for next; the set reports readiness it already has.
  void watch(std::uint32_t events) {
    if (srv_.echo_poller_->modify(fd_, *this, events) != 0) {
      decide(disconnect_reason::error);
      end();
    }
  }

  // One send without waiting (the socket is non-blocking): the bytes taken, 0 if it is full, or
  // the error. Straight to the system call: this is half of every message's cost.
  std::size_t send_some(const char* data, std::size_t n, asio::error_code& ec) {
    ssize_t r;
    do {
      r = ::send(fd_, data, n, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r >= 0) return static_cast<std::size_t>(r);
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, asio::error::get_system_category());
    return 0;
  }

  void sent(std::size_t n) { srv_.stats_.of(service::echo).bytes_out_total.add_one_writer(n); }

  // What a message touches, all in the cache line the reactor's loop has just written to (the
  // entry's): the object is line-aligned and the connection before it is one line.
  int fd_;  // in the entry's tail padding
  bool orphan_ = false;   // ended while queued: its completion frees it
  bool writing_ = false;  // rest_ holds bytes: read nothing until they are sent
  async_server& srv_;
  std::uint64_t in_ = 0;           // bytes read (the connection's bytes_in at the end)
  clock::time_point active_at_{};  // last read (as the sweeper counts it: echo_clock_)
  clock::time_point move_after_{};  // when the next read moves it in the idle list
  // The rest: backpressure and the end.
  std::uint64_t unsent_ = 0;       // read and not (yet) sent back
  std::unique_ptr<pending> rest_;  // unsent bytes while the peer is slow
  std::string address_;
  std::optional<session_scope> scope_;
};

void async_server::echo_poller::collect() {
  for (auto* c : graveyard_) delete c;
  graveyard_.clear();
}

void async_server::echo_poller::bury(tcp_echo& c) {
  graveyard_.push_back(&c);
  if (graveyard_.size() > 1) return;  // a collection is already on its way
  asio::post(io_, [this] { collect(); });
}

void async_server::echo_poller::close(connection_list& echo_conns) {
  for (auto* c = echo_conns.front(); c;) {
    auto* next = connection_list::next(*c);
    if (auto* e = dynamic_cast<tcp_echo*>(c)) e->end();
    c = next;
  }
  collect();  // the ones still queued go with the io_context's queue
}

void async_server::start_echo(tcp::socket socket, std::string address) {
  if (!echo_poller_) echo_poller_ = std::make_unique<echo_poller>(io_);
  asio::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  const int fd = socket.release(ec);  // Asio forgets it: the reactor's set serves it directly
  if (ec) return;
  int non_blocking = 1;
  auto* c = new tcp_echo(*this, fd, std::move(address));
  if (::ioctl(fd, FIONBIO, &non_blocking) != 0 || echo_poller_->add(fd, *c, EPOLLIN) != 0) {
    c->decide(disconnect_reason::error);
    c->end();
  }
}

void async_server::close_echo_poller() {
  if (echo_poller_) echo_poller_->close(echo_conns_);
}

#else

void async_server::start_echo(tcp::socket socket, std::string address) {
  spawn(echo_session(std::move(socket), std::move(address)), "echo session");
}

void async_server::close_echo_poller() {}

#endif

template <session_stream Stream>
asio::awaitable<void> async_server::echo_session(Stream stream, std::string address) {
  stream_connection conn(stream);
  session_scope scope(*this, service::echo, conn, &address);
  auto& st = stats_.of(service::echo);
  auto& buf = echo_scratch_;
  asio::error_code ec;
  stream.set_option(tcp::no_delay(true), ec);
  stream.non_blocking(true, ec);
  while (!draining_ && !conn.stopped()) {
    // Wait for readability without holding a buffer: idle connections cost no buffer memory.
    auto [wec] = co_await stream.async_wait(tcp::socket::wait_read, nothrow);
    if (wec || conn.stopped()) break;
    // Into the echo sessions' shared buffer (one thread; the bytes are used before the next
    // suspension).
    std::size_t n = stream.read_some(asio::buffer(buf), ec);
    if (ec == asio::error::would_block) continue;
    if (ec) {
      if (ec != asio::error::eof) conn.decide(disconnect_reason::error);
      break;
    }
    echo_conns_.touch(conn, clock::now());
    st.bytes_in_total.add(n);
    conn.bytes_in += n;
    std::size_t written = stream.write_some(asio::buffer(buf.data(), n), ec);
    if (ec == asio::error::would_block) written = 0, ec = {};
    if (written < n && !ec) {
      // The peer reads slower than it writes: keep only the rest, and read nothing more from it
      // until that is gone (backpressure instead of an unbounded buffer).
      std::string rest(buf.data() + written, n - written);
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
