// The threaded model's skeleton: listeners and their acceptor threads, admission, the control
// thread (signals, stats, drain) and the connection registry.
#include "server/threaded/server.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

#include "server/common/lifecycle.hpp"
#include "server/common/logging.hpp"
#include "server/common/metrics.hpp"
#include "server/threaded/chat.hpp"
#include "server/threaded/socket.hpp"

namespace simul::server {

namespace {
int make_eventfd() {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) throw startup_error(std::string("eventfd: ") + std::strerror(errno));
  return fd;
}

void signal_eventfd(int fd) noexcept {
  if (fd >= 0) (void)::eventfd_write(fd, 1);
}
}  // namespace

/// Lives on the connection's thread: release() when the session function returns or unwinds.
class threaded_server::conn_guard {
 public:
  conn_guard(threaded_server& srv, threaded_conn& c) : srv_(srv), c_(c) {}
  ~conn_guard() { srv_.release(c_); }
  conn_guard(const conn_guard&) = delete;
  conn_guard& operator=(const conn_guard&) = delete;

 private:
  threaded_server& srv_;
  threaded_conn& c_;
};

threaded_server::threaded_server(const config& cfg)
    : cfg_(cfg), threads_(std::size_t{cfg.threaded_stack_kib} * 1024, stats_.threads), admission_(cfg_.limits),
      current_(std::make_shared<const config>(cfg)) {
  try {
    drain_fd_ = make_eventfd();
    stop_fd_ = make_eventfd();
    wake_fd_ = make_eventfd();
    drained_fd_ = make_eventfd();
    auto open = [&](listener& l, const listener_config& lc, int stop) {
      if (!lc.enabled) return;
      l.fd = open_listen_socket(l.svc, cfg_.bind, lc.port);
      l.port = local_port(l.fd);
      l.stop_fd = stop;
    };
    open(echo_listener_, cfg_.echo, drain_fd_);
    if (cfg_.chat.enabled) chat_ = std::make_unique<threaded_chat>(cfg_, stats_, threads_, drain_fd_);
    open(chat_listener_, cfg_.chat, drain_fd_);
    open(metrics_listener_, cfg_.metrics, stop_fd_);
  } catch (...) {
    for (int fd : {echo_listener_.fd, chat_listener_.fd, metrics_listener_.fd, drain_fd_, stop_fd_, wake_fd_, drained_fd_})
      if (fd >= 0) ::close(fd);
    throw;
  }
}

threaded_server::~threaded_server() {
  // run() has joined every thread by now (or was never called).
  for (int fd : {echo_listener_.fd, chat_listener_.fd, metrics_listener_.fd, drain_fd_, stop_fd_, wake_fd_, drained_fd_})
    if (fd >= 0) ::close(fd);
}

void threaded_server::request_shutdown() { signal_eventfd(wake_fd_); }

void threaded_server::run(bool handle_signals) {
  if (run_called_.exchange(true)) return;
  int sig_fd = -1;
  if (handle_signals) {
    // Blocked here before any thread exists, so every thread inherits the mask and the signals
    // arrive only through the signalfd, on this thread. (The mask stays: the process is ending.)
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    sig_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sig_fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  }
  for (auto* l : {&echo_listener_, &chat_listener_, &metrics_listener_})
    if (l->fd >= 0) acceptors_.emplace_back([this, l] { acceptor(*l); });
  log_started(cfg_, echo_port(), chat_port(), metrics_port());

  const auto interval = cfg_.log.stats_interval;
  auto next_stats = interval.count() > 0 ? steady_clock::now() + interval : steady_clock::time_point::max();
  auto drain_deadline = steady_clock::time_point::max();
  std::uint64_t last_in = 0, last_out = 0;
  auto start_drain = [&] {
    const auto drain = current_config()->drain_time;
    begin_drain();
    drain_deadline = steady_clock::now() + drain;
  };
  for (;;) {
    const bool draining = draining_.load();
    // Draining, it waits for the last close (drained_fd_) or the deadline; no polling.
    pollfd fds[2] = {{draining ? drained_fd_ : wake_fd_, POLLIN, 0}, {sig_fd, POLLIN, 0}};
    if (::poll(fds, 2, poll_timeout_ms(std::min(next_stats, drain_deadline))) < 0 && errno != EINTR) {
      // Never thrown: the acceptors are running. Unheard of for two eventfds; retry shortly.
      spdlog::error("control thread: poll failed: {}", std::strerror(errno));
      ::poll(nullptr, 0, 100);
      continue;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(sig_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig == SIGHUP) {
          reload();
        } else {
          if (draining_.load()) exit_on_second_signal(sig);
          log_drain_signal(sig, current_config()->drain_time);
          start_drain();
        }
      }
    }
    if ((fds[0].revents & POLLIN) && !draining) start_drain();
    if (steady_clock::now() >= next_stats) {
      log_stats_line(stats_, last_in, last_out, interval);
      next_stats += interval;
    }
    if (draining_.load() && (open_connections() == 0 || steady_clock::now() >= drain_deadline)) break;
  }
  finish();
  if (sig_fd >= 0) ::close(sig_fd);
}

void threaded_server::acceptor(listener& l) {
  accept_backoff backoff;
  log_limiter thread_log;
  pollfd fds[2] = {{l.fd, POLLIN, 0}, {l.stop_fd, POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::error("{} listener: poll failed: {}", to_string(l.svc), std::strerror(errno));
      ::poll(&fds[1], 1, 1000);
      continue;
    }
    if (fds[1].revents) break;
    if (!fds[0].revents) continue;
    int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED) continue;
      // EMFILE, ENFILE, ENOBUFS, ENOMEM, ...: the listener never dies and never spins.
      auto wait = backoff.failed(stats_, l.svc, std::strerror(err));
      if (::poll(&fds[1], 1, static_cast<int>(wait.count())) > 0) break;  // stopped meanwhile
      continue;
    }
    backoff.succeeded();
    if (draining_.load() && l.svc != service::metrics) {
      ::close(fd);
      break;
    }
    try {
      if (auto c = admit(fd, l.svc)) dispatch(std::move(c), thread_log);
    } catch (const std::exception& e) {
      spdlog::error("{} listener: {}", to_string(l.svc), e.what());
    }
  }
  // Closed now, not at the end: new clients are refused instead of waiting in the backlog.
  ::close(l.fd);
  l.fd = -1;
}

std::unique_ptr<threaded_conn> threaded_server::admit(int fd, service svc) {
  std::unique_ptr<threaded_conn> c;
  try {
    c = std::make_unique<threaded_conn>();
  } catch (...) {
    ::close(fd);
    throw;
  }
  c->fd = fd;
  c->svc = svc;
  if (svc != service::metrics) c->address = peer_address(fd);
  std::string_view reason;
  {
    std::lock_guard lock(reg_mu_);
    if (svc != service::metrics) reason = admission_.admit(c->address);
    if (reason.empty()) conns_.insert(c.get());
    c->cfg = current_;
  }
  if (reason.empty()) {
    stats_.of(svc).connections.add();
    if (svc != service::metrics && logging_connections()) log_accepted(svc, c->address);
    return c;
  }
  // Counted first: a client that reads the reason also sees the count. Then one line saying
  // why, written without waiting (a fresh socket's buffer has room), and the close.
  count_refusal(stats_, svc, reason, c->address);
  send_now(fd, refusal_line(svc, reason));
  ::close(fd);
  return nullptr;
}

void threaded_server::dispatch(std::unique_ptr<threaded_conn> conn, log_limiter& thread_log) {
  threaded_conn* raw = conn.get();
  auto ec = threads_.start([this, raw] {
    std::unique_ptr<threaded_conn> own(raw);  // the thread owns the connection from here
    conn_guard guard(*this, *own);
    switch (own->svc) {
      case service::echo:
        stats_.of(service::echo).connections_total.add();
        echo_session(*own);
        break;
      case service::metrics:
        stats_.of(service::metrics).connections_total.add();
        metrics_session(*own);
        break;
      case service::chat: chat_session(*own); break;  // counts itself once its writer runs
    }
  });
  if (!ec) {
    conn.release();
    return;
  }
  // No thread (EAGAIN: the process or system thread limit, or memory): refuse this client with
  // a reason, as over a connection limit; those already connected carry on.
  std::uint64_t held = 0;
  if (thread_log.allow(held))
    log_event("connection_refused",
              "{service}: cannot start a connection thread: {error} ({threads} live; {held_back} more suppressed); "
              "refusing the client")
        .with("service", to_string(raw->svc))
        .with("error", ec.message())
        .with("threads", threads_.live())
        .with("held_back", held)
        .with("peer", raw->address)
        .with("reason", out_of_threads)
        .json_only()
        .warn();
  stats_.of(raw->svc).rejected_total.add();
  raw->decide(stats_, disconnect_reason::rejected);
  send_now(raw->fd, refusal_line(raw->svc, out_of_threads));
  release(*raw);
}

void threaded_server::release(threaded_conn& c) {
  // Counted before the close: a client that sees the close also sees the counters move.
  stats_.of(c.svc).connections.sub();
  c.decide(stats_, disconnect_reason::client);  // EOF, unless the session decided otherwise
  if (c.svc != service::metrics && logging_connections())
    log_closed(c.svc, c.address, steady_clock::now() - c.started, c.bytes_in, c.bytes_out, c.reason());
  {
    std::lock_guard lock(reg_mu_);
    conns_.erase(&c);
    if (c.svc != service::metrics) {
      admission_.release(c.address);
      if (admission_.open() == 0 && draining_.load()) signal_eventfd(drained_fd_);  // the drain's wait ends
    }
    // Closed under the lock: the drain never shuts down a descriptor number already reused.
    ::close(c.fd);
    c.fd = -1;
  }
}

void threaded_server::chat_session(threaded_conn& c) { chat_->serve(c); }

std::shared_ptr<const config> threaded_server::current_config() const {
  std::lock_guard lock(reg_mu_);
  return current_;
}

void threaded_server::reload() {
  auto next = reload_config(reloader_, *current_config(), stats_);
  if (!next) return;
  auto fresh = std::make_shared<const config>(std::move(*next));
  {
    std::lock_guard lock(reg_mu_);
    admission_.set_limits(fresh->limits);
    current_ = fresh;
  }
  if (chat_) chat_->reconfigure(*fresh);
  apply_logging(fresh->log);
}

void threaded_server::begin_drain() {
  if (draining_.exchange(true)) return;
  // Chat first: every session is marked closing before its reader is woken below.
  if (chat_) chat_->drain();
  {
    // Echo connections waiting for input see EOF now; those mid-write finish it first, then
    // see draining_ and close. (One that turns busy meanwhile is still fine: SHUT_RD leaves the
    // sending side alone.)
    std::lock_guard lock(reg_mu_);
    for (auto* c : conns_)
      if (c->svc == service::echo && !c->busy.load()) ::shutdown(c->fd, SHUT_RD);
  }
  signal_eventfd(drain_fd_);  // echo and chat acceptors stop; chat readers wake
}

void threaded_server::shut_down_sockets(bool include_metrics) {
  std::lock_guard lock(reg_mu_);
  for (auto* c : conns_) {
    if (c->svc == service::metrics && !include_metrics) continue;
    c->hard_closed.store(true);
    ::shutdown(c->fd, SHUT_RDWR);  // wakes every blocked recv, send and poll on it
  }
}

std::size_t threaded_server::open_connections() const {
  std::lock_guard lock(reg_mu_);
  return admission_.open();
}

void threaded_server::finish() {
  const auto left = open_connections();
  if (left > 0) {
    log_drain_deadline(left, chat_ ? chat_->queued_bytes() : 0, current_config()->drain_time);
    shut_down_sockets(false);
  }
  signal_eventfd(stop_fd_);  // the metrics listener too
  for (auto& t : acceptors_) t.join();
  acceptors_.clear();
  shut_down_sockets(true);
  threads_.wait_idle();
  log_drain_complete(left);
}

}  // namespace simul::server
