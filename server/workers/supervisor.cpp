// The supervisor of worker processes: ports, start, restart with back-off, signals, reload.
// Its metrics listener is supervisor_metrics.cpp.
#include "server/workers/supervisor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <asio/post.hpp>
#include <asio/read_until.hpp>
#include <spdlog/spdlog.h>

#include "server/async/connection.hpp"
#include "server/async/spawn.hpp"
#include "server/async/tls_context.hpp"
#include "server/common/config_fields.hpp"
#include "server/common/lifecycle.hpp"
#include "server/common/logging.hpp"

namespace simul::server {

namespace {

// Binds a socket to bind:port the way a lone server's listener would (SO_REUSEADDR, so a port
// in use by anyone is an error), then lets the workers' SO_REUSEPORT listeners share it. It
// never listens: the kernel hands connections to listening sockets only. Returns the socket
// and sets `port` to the bound port.
int reserve_port(const std::string& bind, std::uint16_t& port, const std::string& what) {
  asio::error_code ec;
  const asio::ip::tcp::endpoint ep(asio::ip::make_address(bind, ec), port);
  auto fail = [&](const std::string& why) {
    std::string text = why;
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
    return startup_error(what + " listener " + bind + ":" + std::to_string(port) + ": " + text);
  };
  if (ec) throw fail("bad bind address");
  const int fd = ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw fail(std::strerror(errno));
  const int on = 1;
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 || ::bind(fd, ep.data(), ep.size()) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw fail(std::strerror(err));
  }
  port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

// The signals the loop handles; blocked around fork() so none lands in between.
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  return set;
}

}  // namespace

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return "killed by signal " + std::to_string(WTERMSIG(status)) + (name ? " (SIG" + std::string(name) + ")" : "");
  }
  return "ended with wait status " + std::to_string(status);
}

supervisor::supervisor(const config& cfg, config_reloader reloader)
    : cfg_(cfg), reloader_(std::move(reloader)), self_(::getpid()) {
  auto reserve = [&](bool on, std::uint16_t configured, std::uint16_t& resolved, const char* what) {
    if (!on) return;
    resolved = configured;
    reserved_.push_back(reserve_port(cfg_.bind, resolved, what));
  };
  try {
    reserve(cfg_.echo.enabled, cfg_.echo.port, ports_.echo_port, "echo");
    reserve(cfg_.chat.enabled, cfg_.chat.port, ports_.chat_port, "chat");
    if (cfg_.tls.configured()) {
      make_tls_context(cfg_.tls);  // a bad certificate stops the start here, as in a lone server
      reserve(cfg_.chat.enabled && cfg_.tls.chat.enabled, cfg_.tls.chat.port, ports_.chat_tls_port, "chat TLS");
      reserve(cfg_.echo.enabled && cfg_.tls.echo.enabled, cfg_.tls.echo.port, ports_.echo_tls_port, "echo TLS");
    }
    if (cfg_.metrics.enabled) {
      asio::error_code ec;
      const tcp::endpoint ep(asio::ip::make_address(cfg_.bind, ec), cfg_.metrics.port);
      metrics_acceptor_.emplace(io_);
      if (!ec) metrics_acceptor_->open(ep.protocol(), ec);
      if (!ec) metrics_acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) metrics_acceptor_->bind(ep, ec);
      if (!ec) metrics_acceptor_->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) throw listener_error(service::metrics, cfg_.bind, cfg_.metrics.port, ec.message());
    }
  } catch (...) {
    for (int fd : reserved_) ::close(fd);
    throw;
  }
  workers_.resize(cfg_.workers);
  for (unsigned i = 0; i < workers_.size(); ++i) workers_[i].index = i + 1;
}

supervisor::~supervisor() {
  if (reload_thread_.joinable()) reload_thread_.join();
  for (auto& w : workers_) {
    w.channel.reset();
    w.restart.reset();
    w.ready_deadline.reset();
  }
  for (int fd : reserved_) ::close(fd);
}

void supervisor::spawn(asio::awaitable<void> task, const char* what) {
  spawn_logged(io_, std::move(task), what);
}

int supervisor::run() {
  spawn(signal_watcher(), "signal watcher");
  spawn(child_watcher(), "child watcher");
  if (metrics_acceptor_) spawn(metrics_listener(), "metrics listener");
  spdlog::info("supervisor: starting {} workers (pid {})", workers_.size(), self_);
  for (auto& w : workers_) start(w);
  // Not all ready by timeouts.worker_start_seconds: something is wrong; give up (exit 1).
  start_deadline_.expires_after(cfg_.worker_start_timeout);
  start_deadline_.async_wait([this](asio::error_code ec) {
    if (ec || started_ || draining_) return;
    startup_failed(1, "the workers did not all start within " +
                          config_detail::show_duration(cfg_.worker_start_timeout));
  });
  io_.run();
  return exit_code_;
}

std::size_t supervisor::running() const {
  std::size_t n = 0;
  for (const auto& w : workers_) n += w.pid > 0;
  return n;
}

void supervisor::start(worker& w) {
  int channel[2];
  if (::pipe2(channel, O_CLOEXEC) != 0) {
    const auto wait = w.backoff.next(clock::duration::zero());
    spdlog::error("supervisor: worker {}: pipe: {}; retrying in {}", w.index, std::strerror(errno),
                  config_detail::show_duration(wait));
    start_later(w, wait);
    return;
  }
  const sigset_t handled = handled_signals();
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &handled, &old);
  io_.notify_fork(asio::io_context::fork_prepare);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(channel[0]);
    become_worker(w, channel[1]);
  }
  io_.notify_fork(asio::io_context::fork_parent);
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  ::close(channel[1]);
  if (pid < 0) {
    const int err = errno;
    ::close(channel[0]);
    const auto wait = w.backoff.next(clock::duration::zero());
    spdlog::error("supervisor: worker {}: fork: {}; retrying in {}", w.index, std::strerror(err),
                  config_detail::show_duration(wait));
    start_later(w, wait);
    return;
  }
  w.pid = pid;
  w.ready = false;
  w.metrics_port = 0;
  w.started = clock::now();
  w.channel.emplace(io_, channel[0]);
  spawn(await_ready(w), "worker channel");
  if (started_) watch_readiness(w);
}

void supervisor::watch_readiness(worker& w) {
  if (!w.ready_deadline) w.ready_deadline.emplace(io_);
  const auto limit = cfg_.worker_start_timeout;
  w.ready_deadline->expires_after(limit);
  w.ready_deadline->async_wait([this, &w, pid = w.pid, limit](asio::error_code ec) {
    if (ec || draining_ || w.pid != pid || w.ready) return;
    // Hung before its listeners were open (a file system that does not answer, a stuck
    // library): its death is reaped, logged and restarted with the back-off as any other.
    spdlog::warn("supervisor: worker {} (pid {}) not ready {} after its start; killing it", w.index, pid,
                 config_detail::show_duration(limit));
    ::kill(pid, SIGKILL);
  });
}

void supervisor::become_worker(worker& w, int channel_fd) {
  // The copy of the supervisor's loop in this process is never run again; after fork_child it
  // no longer shares the signal pipe or epoll instance with the supervisor.
  try {
    io_.notify_fork(asio::io_context::fork_child);
  } catch (const std::exception& e) {
    spdlog::critical("worker {}: after fork: {}", w.index, e.what());
    std::_Exit(1);
  }
  // Terminal signals go to the supervisor only (it passes them on); the worker ends when the
  // supervisor does (a drain, as on SIGTERM).
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != self_) std::_Exit(0);
  for (int fd : reserved_) ::close(fd);
  if (metrics_acceptor_) ::close(metrics_acceptor_->native_handle());
  for (auto& other : workers_)
    if (other.channel) ::close(other.channel->native_handle());
  const sigset_t handled = handled_signals();
  ::sigprocmask(SIG_UNBLOCK, &handled, nullptr);
  set_log_worker(w.index);
  apply_logging(cfg_.log);
  int code = 0;
  try {
    worker_role role = ports_;
    role.index = w.index;
    async_server srv(cfg_, role);
    srv.set_reloader(reloader_);
    const std::string ready = "ready " + std::to_string(srv.metrics_port()) + "\n";
    if (::write(channel_fd, ready.data(), ready.size()) != static_cast<ssize_t>(ready.size())) std::_Exit(1);
    ::close(channel_fd);
    srv.run(true);
  } catch (const startup_error& e) {
    spdlog::error("could not start: {}", e.what());
    code = 2;
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    code = 1;
  }
  spdlog::default_logger()->flush();
  std::_Exit(code);
}

asio::awaitable<void> supervisor::await_ready(worker& w) {
  const pid_t pid = w.pid;
  std::string line;
  auto [ec, n] = co_await asio::async_read_until(*w.channel, asio::dynamic_buffer(line, 64), '\n', nothrow);
  if (ec || w.pid != pid) co_return;  // it died first: reap() has it
  w.channel.reset();
  constexpr std::string_view prefix = "ready ";
  if (!line.starts_with(prefix)) co_return;  // not a worker's line: it stays "not ready"
  w.ready = true;
  if (w.ready_deadline) w.ready_deadline->cancel();
  w.metrics_port = static_cast<std::uint16_t>(std::atoi(line.c_str() + prefix.size()));
  if (draining_) co_return;
  if (started_) {
    spdlog::info("supervisor: worker {} running again (pid {})", w.index, w.pid);
    co_return;
  }
  for (const auto& other : workers_)
    if (!other.ready) co_return;
  started_ = true;
  start_deadline_.cancel();
  std::string pids;
  for (const auto& other : workers_) pids += (pids.empty() ? "" : ",") + std::to_string(other.pid);
  log_started(cfg_, ports_.echo_port, ports_.chat_port,
              metrics_acceptor_ ? metrics_acceptor_->local_endpoint().port() : 0, workers_.size(), pids);
}

asio::awaitable<void> supervisor::signal_watcher() {
  for (;;) {
    auto [ec, sig] = co_await signals_.async_wait(nothrow);
    if (ec) co_return;
    if (sig == SIGHUP) {
      reload();
      continue;
    }
    if (draining_) {
      signal_workers(sig);  // each worker is draining too: a second signal ends it at once
      exit_on_second_signal(sig);
    }
    log_drain_signal(sig, cfg_.drain_time);
    begin_drain(sig);
  }
}

asio::awaitable<void> supervisor::child_watcher() {
  for (;;) {
    auto [ec, sig] = co_await children_.async_wait(nothrow);
    if (ec) co_return;
    reap();
  }
}

void supervisor::reap() {
  // One SIGCHLD may stand for several children: reap until none is left to reap.
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (auto& w : workers_)
      if (w.pid == pid) exited(w, status);
  }
}

void supervisor::exited(worker& w, int status) {
  const bool was_ready = w.ready;
  const auto ran = clock::now() - w.started;
  const std::string how = describe_exit(status);
  const pid_t pid = w.pid;
  w.pid = -1;
  w.ready = false;
  w.metrics_port = 0;
  if (w.ready_deadline) w.ready_deadline->cancel();
  if (w.channel) {
    asio::error_code ec;
    w.channel->close(ec);
  }
  if (draining_) {
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!clean && exit_code_ == 0) exit_code_ = 1;
    if (clean)
      spdlog::info("supervisor: worker {} (pid {}) {}", w.index, pid, how);
    else
      spdlog::warn("supervisor: worker {} (pid {}) {} during the drain", w.index, pid, how);
    check_done();
    return;
  }
  if (!started_ && !was_ready) {
    startup_failed(WIFEXITED(status) && WEXITSTATUS(status) == 2 ? 2 : 1,
                   "worker " + std::to_string(w.index) + " (pid " + std::to_string(pid) + ") " + how +
                       " before it was ready");
    return;
  }
  ++w.restarts;
  const auto wait = w.backoff.next(ran);
  spdlog::warn("supervisor: worker {} (pid {}) {} after {:.1f} s; restarting it in {} (restart {})", w.index, pid,
               how, std::chrono::duration<double>(ran).count(), config_detail::show_duration(wait), w.restarts);
  start_later(w, wait);
}

void supervisor::start_later(worker& w, std::chrono::milliseconds wait) {
  if (!w.restart) w.restart.emplace(io_);
  w.restart->expires_after(wait);
  w.restart->async_wait([this, &w](asio::error_code ec) {
    if (ec || draining_ || w.pid > 0) return;
    // Never fork while the reload thread runs: the child would inherit the locks it holds.
    if (reloading_) return start_later(w, std::chrono::milliseconds(50));
    start(w);
  });
}

void supervisor::startup_failed(int code, const std::string& why) {
  if (draining_) return;
  spdlog::error("supervisor: {}; stopping the others", why);
  exit_code_ = code;
  draining_ = true;
  // They have served nothing worth draining yet.
  signal_workers(SIGKILL);
  check_done();
}

void supervisor::begin_drain(int sig) {
  draining_ = true;
  start_deadline_.cancel();
  for (auto& w : workers_) {
    if (w.restart) w.restart->cancel();
    if (w.ready_deadline) w.ready_deadline->cancel();
  }
  spdlog::info("supervisor: passing signal {} to {} workers", sig, running());
  signal_workers(sig);
  check_done();
}

void supervisor::signal_workers(int sig) {
  for (const auto& w : workers_)
    if (w.pid > 0) ::kill(w.pid, sig);
}

void supervisor::check_done() {
  if (!draining_ || running() > 0) return;
  if (exit_code_ == 0) spdlog::info("supervisor: every worker has exited; done");
  asio::error_code ec;
  if (metrics_acceptor_) metrics_acceptor_->close(ec);
  signals_.cancel(ec);
  children_.cancel(ec);
  io_.stop();
}

void supervisor::reload() {
  if (reloading_) {
    spdlog::info("reload: one is already in progress");
    return;
  }
  if (!reloader_) {
    spdlog::warn("reload: SIGHUP ignored: no config file to reload");
    return;
  }
  reloading_ = true;
  // The file is read off the loop; the result comes back to it.
  reload_thread_ = std::thread([this] {
    std::optional<config> next;
    std::string error;
    try {
      next = reloader_();
    } catch (const std::exception& e) {
      error = e.what();
    }
    asio::post(io_, [this, next = std::move(next), error = std::move(error)] {
      reload_thread_.join();
      reloading_ = false;
      if (!next) {
        stats_.reload_failures_total.add();
        spdlog::error("reload failed, keeping the running config (the workers are not told): {}", error);
        return;
      }
      config_change change;
      cfg_ = merge_reload(cfg_, *next, change);
      apply_logging(cfg_.log);
      stats_.reloads_total.add();
      spdlog::info("reload: the config file is valid; passing SIGHUP to {} workers", running());
      signal_workers(SIGHUP);
    });
  });
}

}  // namespace simul::server
