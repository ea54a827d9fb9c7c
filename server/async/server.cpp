// The async model's skeleton: listeners, admission, the idle sweeper, stats and the drain.
#include "server/async/server.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "server/async/chat.hpp"
#include "server/async/connection.hpp"
#include "server/common/metrics.hpp"

namespace simul::server {

namespace {
constexpr std::size_t sweep_batch = 1024;  // connections expired before yielding to the loop

// "Address already in use" -> "address already in use", to read well after a colon.
std::string lowercase_first(std::string s) {
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}
}  // namespace

async_server::async_server(const config& cfg) : cfg_(cfg) {
  if (cfg_.echo.enabled) open_listener(echo_acceptor_, service::echo, cfg_.echo.port);
  if (cfg_.chat.enabled) {
    chat_ = std::make_unique<async_chat>(cfg_, stats_);
    open_listener(chat_acceptor_, service::chat, cfg_.chat.port);
  }
  if (cfg_.metrics.enabled) open_listener(metrics_acceptor_, service::metrics, cfg_.metrics.port);
}

async_server::~async_server() = default;

std::uint16_t async_server::port_of(const std::optional<tcp::acceptor>& a) {
  if (!a || !a->is_open()) return 0;
  asio::error_code ec;
  auto ep = a->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void async_server::open_listener(std::optional<tcp::acceptor>& a, service svc, std::uint16_t port) {
  auto where = std::string(to_string(svc)) + " listener " + cfg_.bind + ":" + std::to_string(port);
  asio::error_code ec;
  auto address = asio::ip::make_address(cfg_.bind, ec);
  if (ec) throw startup_error(where + ": bad bind address");
  tcp::endpoint ep(address, port);
  a.emplace(io_);
  a->open(ep.protocol(), ec);
  if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a->bind(ep, ec);
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw startup_error(where + ": " + lowercase_first(ec.message()));
}

void async_server::spawn(asio::awaitable<void> task, const char* what) {
  // Never a silent `detached`: an exception that escapes a coroutine is logged.
  asio::co_spawn(io_, std::move(task), [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("{} ended by exception: {}", what, ex.what());
    }
  });
}

void async_server::run(bool handle_signals) {
  if (handle_signals) {
    signals_.emplace(io_, SIGINT, SIGTERM);
    spawn(signal_watcher(), "signal watcher");
  }
  if (echo_acceptor_) spawn(listener(*echo_acceptor_, service::echo), "echo listener");
  if (chat_acceptor_) spawn(listener(*chat_acceptor_, service::chat), "chat listener");
  if (metrics_acceptor_) spawn(listener(*metrics_acceptor_, service::metrics), "metrics listener");
  spawn(sweeper(), "sweeper");
  if (cfg_.log.stats_interval_seconds > 0) spawn(stats_reporter(), "stats reporter");
  spdlog::info("simul-server {} ({}) model=async echo={} chat={} metrics={}", SIMUL_VERSION, SIMUL_GIT_SHA,
               echo_port(), chat_port(), metrics_port());
  io_.run();
}

void async_server::request_shutdown() {
  asio::post(io_, [this] { begin_drain(); });
}

bool async_server::admit(tcp::socket& socket, service svc) {
  const char* reason = nullptr;
  if (svc != service::metrics) {
    auto open = stats_.of(service::echo).connections.get() + stats_.of(service::chat).connections.get();
    if (open >= cfg_.limits.max_connections) reason = "too many connections";
    if (!reason && cfg_.limits.max_connections_per_ip > 0) {
      asio::error_code ec;
      auto remote = socket.remote_endpoint(ec);
      if (ec) return false;
      auto& n = per_ip_[remote.address()];
      if (n >= cfg_.limits.max_connections_per_ip) {
        reason = "too many connections from your address";
        if (n == 0) per_ip_.erase(remote.address());
      } else {
        ++n;
      }
    }
  }
  if (!reason) return true;
  // One line saying why, written without waiting (a fresh socket's buffer has room), then close.
  std::string line = svc == service::chat ? std::string("ERROR :") + reason + "\r\n"
                                          : std::string("error: ") + reason + "\r\n";
  asio::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(line), ec);
  socket.close(ec);
  stats_.of(svc).rejected_total.add();
  stats_.disconnected(disconnect_reason::rejected);
  spdlog::debug("{}: rejected a connection: {}", to_string(svc), reason);
  return false;
}

asio::awaitable<void> async_server::listener(tcp::acceptor& acceptor, service svc) {
  auto backoff = std::chrono::milliseconds(10);
  asio::steady_timer pause(io_);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (!acceptor.is_open() || (draining_ && svc != service::metrics)) co_return;
    if (ec) {
      // EMFILE, ENFILE, ENOBUFS, ...: the listener never dies and never spins.
      stats_.accept_errors_total.add();
      std::uint64_t held = 0;
      if (accept_log_.allow(held))
        spdlog::warn("{} listener: accept failed: {} ({} more suppressed); retrying in {} ms", to_string(svc),
                     ec.message(), held, backoff.count());
      pause.expires_after(backoff);
      co_await pause.async_wait(nothrow);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    backoff = std::chrono::milliseconds(10);
    if (!admit(socket, svc)) continue;
    switch (svc) {
      case service::echo: spawn(echo_session(std::move(socket)), "echo session"); break;
      case service::chat: spawn(chat_session(std::move(socket)), "chat session"); break;
      case service::metrics: spawn(metrics_session(std::move(socket)), "metrics session"); break;
    }
  }
}

asio::awaitable<void> async_server::chat_session(tcp::socket socket) {
  connection_guard guard(*this, chat_conns_, service::chat, socket);
  co_await chat_->serve(socket, guard.entry, scratch_);
}

void async_server::close_entry(conn_entry& e, disconnect_reason why) {
  e.closing = true;
  e.reason = why;
  asio::error_code ec;
  e.socket->cancel(ec);
}

void async_server::expire(connection_list& list, clock::duration timeout, clock::time_point now,
                          disconnect_reason why) {
  std::size_t n = 0;
  while (auto* e = list.front()) {
    if (e->last_active + timeout > now || n++ == sweep_batch) break;
    list.remove(*e);  // the session's guard finds it unlinked
    close_entry(*e, why);
  }
}

asio::awaitable<void> async_server::signal_watcher() {
  for (;;) {
    auto [ec, sig] = co_await signals_->async_wait(nothrow);
    if (ec) co_return;
    if (draining_) {
      spdlog::warn("second signal ({}): exiting now", sig);
      spdlog::default_logger()->flush();
      std::_Exit(1);
    }
    spdlog::info("signal {}: draining for up to {} s", sig, cfg_.drain_seconds);
    begin_drain();
  }
}

asio::awaitable<void> async_server::sweeper() {
  const auto idle = std::chrono::seconds(cfg_.timeouts.idle_seconds);
  while (!stopped_) {
    sweep_timer_.expires_after(std::chrono::milliseconds(250));
    auto [ec] = co_await sweep_timer_.async_wait(nothrow);
    if (ec || stopped_) co_return;
    auto now = clock::now();
    expire(echo_conns_, idle, now, disconnect_reason::idle);
    expire(metrics_conns_, metrics_request_timeout, now, disconnect_reason::idle);
  }
}

asio::awaitable<void> async_server::stats_reporter() {
  std::uint64_t last_in = 0, last_out = 0;
  const auto interval = std::chrono::seconds(cfg_.log.stats_interval_seconds);
  while (!stopped_) {
    stats_timer_.expires_after(interval);
    auto [ec] = co_await stats_timer_.async_wait(nothrow);
    if (ec || stopped_) co_return;
    log_stats_line(stats_, last_in, last_out, interval);
  }
}

void async_server::begin_drain() {
  if (draining_) return;
  draining_ = true;
  asio::error_code ec;
  if (echo_acceptor_) echo_acceptor_->close(ec);
  if (chat_acceptor_) chat_acceptor_->close(ec);
  spawn(drain(), "drain");
}

asio::awaitable<void> async_server::drain() {
  // Echo connections waiting for input end now; those mid-write finish it first. After each
  // yield the walk starts over: entries closed before it may have been freed meanwhile.
  for (bool more = true; more;) {
    more = false;
    std::size_t n = 0;
    for (auto* e = echo_conns_.front(); e; e = e->next) {
      if (e->busy || e->closing) continue;
      close_entry(*e, disconnect_reason::shutdown);
      if (++n == sweep_batch) {
        more = true;
        break;
      }
    }
    if (more) co_await asio::post(io_, asio::use_awaitable);
  }
  if (chat_) co_await chat_->drain();
  asio::steady_timer tick(io_);
  const auto deadline = clock::now() + std::chrono::seconds(cfg_.drain_seconds);
  while (echo_conns_.size() + chat_conns_.size() > 0 && clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(nothrow);
  }
  auto left = echo_conns_.size() + chat_conns_.size();
  if (left > 0) spdlog::warn("drain: {} connections still open after {} s; closing them", left, cfg_.drain_seconds);
  for (auto* list : {&echo_conns_, &chat_conns_})
    while (auto* e = list->front()) {
      list->remove(*e);
      close_entry(*e, disconnect_reason::shutdown);
    }
  // Let the cancelled sessions run their last steps, then stop everything else.
  co_await asio::post(io_, asio::use_awaitable);
  stopped_ = true;
  asio::error_code ec;
  if (metrics_acceptor_) metrics_acceptor_->close(ec);
  sweep_timer_.cancel();
  stats_timer_.cancel();
  if (signals_) signals_->cancel(ec);
  spdlog::info("drain complete");
  io_.stop();
}

}  // namespace simul::server
