// The async model's skeleton: listeners, admission, the idle sweeper, stats and the drain.
#include "server/async/server.hpp"

#include <csignal>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "server/async/chat.hpp"
#include "server/async/echo_poller.hpp"
#include "server/async/spawn.hpp"
#include "server/async/session_scope.hpp"
#include "server/async/tls_stream.hpp"
#include "server/cluster/chat_node.hpp"
#include "server/common/config_fields.hpp"
#include "server/common/lifecycle.hpp"
#include "server/common/logging.hpp"
#include "server/common/metrics.hpp"

namespace simul::server {

namespace {
constexpr std::size_t sweep_batch = 1024;  // connections looked at before yielding to the loop
constexpr std::chrono::milliseconds sweep_period{250};
// Workers share each port: the kernel spreads new connections over their listeners.
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
}  // namespace

async_server::async_server(const config& cfg, std::optional<worker_role> role)
    : cfg_(cfg), role_(role), admission_(cfg_.limits) {
  if (cfg_.echo.enabled) open_listener(echo_acceptor_, service::echo, listen_port(cfg_.echo.port, role ? role->echo_port : 0));
  if (cfg_.chat.enabled) {
    chat_ = std::make_unique<async_chat>(cfg_, stats_);
    if (cfg_.cluster.enabled()) {
      node_ = std::make_unique<cluster::chat_node>(io_, cfg_, stats_, *chat_);
      node_->on_left = [this] { drained_.cancel(); };  // the drain waits for it
      chat_->join(*node_);
    }
    open_listener(chat_acceptor_, service::chat, listen_port(cfg_.chat.port, role ? role->chat_port : 0));
  }
  if (cfg_.metrics.enabled) open_listener(metrics_acceptor_, service::metrics, cfg_.metrics.port);
  open_tls_listeners();
}

async_server::~async_server() {
  close_echo_poller();
  if (reload_thread_.joinable()) reload_thread_.join();
}

std::uint16_t async_server::port_of(const std::optional<tcp::acceptor>& a) {
  if (!a || !a->is_open()) return 0;
  asio::error_code ec;
  auto ep = a->local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void async_server::open_listener(std::optional<tcp::acceptor>& a, service svc, std::uint16_t port) {
  asio::error_code ec;
  const bool private_metrics = role_ && svc == service::metrics;
  const std::string bind = private_metrics ? "127.0.0.1" : cfg_.bind;
  if (private_metrics) port = 0;
  auto address = asio::ip::make_address(bind, ec);
  if (ec) throw listener_error(svc, bind, port, "bad bind address");
  tcp::endpoint ep(address, port);
  a.emplace(io_);
  a->open(ep.protocol(), ec);
  if (!ec) a->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && role_ && !private_metrics) a->set_option(reuse_port(true), ec);
  if (!ec) a->bind(ep, ec);
  if (!ec) a->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw listener_error(svc, bind, port, ec.message());
}

void async_server::spawn(asio::awaitable<void> task, const char* what) {
  // Never a silent `detached`: an exception that escapes a coroutine is logged.
  spawn_logged(io_, std::move(task), what);
}

connection_list& async_server::list_of(service svc) noexcept {
  switch (svc) {
    case service::echo: return echo_conns_;
    case service::chat: return chat_conns_;
    case service::metrics: break;
  }
  return metrics_conns_;
}

void async_server::run(bool handle_signals) {
  if (handle_signals) {
    signals_.emplace(io_, SIGINT, SIGTERM, SIGHUP);
    spawn(signal_watcher(), "signal watcher");
  }
  if (echo_acceptor_) spawn(listener(*echo_acceptor_, service::echo), "echo listener");
  if (chat_acceptor_) spawn(listener(*chat_acceptor_, service::chat), "chat listener");
  if (metrics_acceptor_) spawn(listener(*metrics_acceptor_, service::metrics), "metrics listener");
  if (chat_tls_acceptor_) spawn(listener(*chat_tls_acceptor_, service::chat, true), "chat TLS listener");
  if (echo_tls_acceptor_) spawn(listener(*echo_tls_acceptor_, service::echo, true), "echo TLS listener");
  spawn(sweeper(), "sweeper");
  if (node_) node_->start();
  if (cfg_.log.stats_interval.count() > 0) spawn(stats_reporter(), "stats reporter");
  // A worker's start is announced by its supervisor, which knows all of them.
  if (!role_) log_started(cfg_, echo_port(), chat_port(), metrics_port());
  io_.run();
}

void async_server::request_shutdown() {
  asio::post(io_, [this] { begin_drain(); });
}

bool async_server::admit(tcp::socket& socket, service svc, std::string& address, bool tls) {
  if (svc == service::metrics) return true;
  asio::error_code ec;
  if (admission_.per_address() || logging_connections()) {
    auto remote = socket.remote_endpoint(ec);
    if (ec) return false;  // already gone
    address = remote.address().to_string();
  }
  auto reason = admission_.admit(address);
  if (reason.empty()) return true;
  // One line saying why, written without waiting (a fresh socket's buffer has room), then close.
  if (address.empty())
    if (auto remote = socket.remote_endpoint(ec); !ec) address = remote.address().to_string();
  count_refusal(stats_, svc, reason, address);
  if (tls && tls_refusal(socket, svc, reason)) return false;
  socket.non_blocking(true, ec);
  if (!tls) socket.write_some(asio::buffer(refusal_line(svc, reason)), ec);
  socket.close(ec);
  return false;
}

asio::awaitable<void> async_server::listener(tcp::acceptor& acceptor, service svc, bool tls) {
  accept_backoff backoff;
  asio::steady_timer pause(io_);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (!acceptor.is_open() || (draining_ && svc != service::metrics)) co_return;
    if (ec) {
      pause.expires_after(backoff.failed(stats_, svc, ec.message()));
      co_await pause.async_wait(nothrow);
      continue;
    }
    backoff.succeeded();
    std::string address;
    if (!admit(socket, svc, address, tls)) continue;
    if (tls) {
      spawn(tls_session(std::move(socket), svc, std::move(address)), "TLS session");
      continue;
    }
    switch (svc) {
      case service::echo: start_echo(std::move(socket), std::move(address)); break;
      case service::chat: spawn(chat_session(std::move(socket), std::move(address)), "chat session"); break;
      case service::metrics: spawn(metrics_session(std::move(socket)), "metrics session"); break;
    }
  }
}

template <session_stream Stream>
asio::awaitable<void> async_server::chat_session(Stream stream, std::string address) {
  chat_client<Stream> client(stream, cfg_, chat_->next_id());
  session_scope scope(*this, service::chat, client, &address);
  co_await chat_->serve(client, scratch_);
}
template asio::awaitable<void> async_server::chat_session(tcp_stream, std::string);
template asio::awaitable<void> async_server::chat_session(tls_stream, std::string);

asio::awaitable<void> async_server::signal_watcher() {
  for (;;) {
    auto [ec, sig] = co_await signals_->async_wait(nothrow);
    if (ec) co_return;
    if (sig == SIGHUP) {
      reload();
      continue;
    }
    if (draining_) exit_on_second_signal(sig);
    log_drain_signal(sig, cfg_.drain_time);
    begin_drain();
  }
}

asio::awaitable<void> async_server::sweeper() {
  echo_clock_ = clock::now() + sweep_period;
  while (!stopped_) {
    const auto idle = cfg_.timeouts.idle;  // a reload may change it
    sweep_timer_.expires_after(sweep_period);
    auto [ec] = co_await sweep_timer_.async_wait(nothrow);
    if (ec || stopped_) co_return;
    auto now = clock::now();
    echo_clock_ = now + sweep_period;
    echo_conns_.set_lazy(idle / 8);
    echo_conns_.expire(idle, now, sweep_batch, disconnect_reason::idle);
    metrics_conns_.expire(metrics_request_timeout, now, sweep_batch, disconnect_reason::idle);
    handshakes_.expire(cfg_.tls.handshake_timeout, now, sweep_batch, disconnect_reason::handshake);
  }
}

asio::awaitable<void> async_server::stats_reporter() {
  std::uint64_t last_in = 0, last_out = 0;
  const auto interval = cfg_.log.stats_interval;
  while (!stopped_) {
    stats_timer_.expires_after(interval);
    auto [ec] = co_await stats_timer_.async_wait(nothrow);
    if (ec || stopped_) co_return;
    log_stats_line(stats_, last_in, last_out, interval);
  }
}

void async_server::reload() {
  if (reloading_) {
    spdlog::info("reload: one is already in progress");
    return;
  }
  reloading_ = true;
  if (reload_thread_.joinable()) reload_thread_.join();
  reload_thread_ = std::thread([this, running = cfg_] {
    auto next = reload_config(reloader_, running, stats_);
    asio::post(io_, [this, next = std::move(next)]() mutable {
      reloading_ = false;
      if (next) apply_config(std::move(*next));
    });
  });
}

void async_server::apply_config(config next) {
  // Only run-time keys differ (merge_reload). Sessions read their settings when they start, so
  // connections accepted from now on get the new SendQ, flood and timeout values.
  const tls_config running_tls = cfg_.tls;
  cfg_ = std::move(next);
  admission_.set_limits(cfg_.limits);
  if (chat_) chat_->reconfigure(cfg_);
  apply_logging(cfg_.log);
  // The certificate is read again on every reload (a renewed one usually keeps its path); if
  // it is bad, the running certificate and its paths stay.
  if (tls_ctx_ && !reload_tls(cfg_.tls)) {
    cfg_.tls.cert_file = running_tls.cert_file;
    cfg_.tls.key_file = running_tls.key_file;
  }
}

void async_server::begin_drain() {
  if (draining_) return;
  draining_ = true;
  asio::error_code ec;
  if (echo_acceptor_) echo_acceptor_->close(ec);
  if (chat_acceptor_) chat_acceptor_->close(ec);
  if (chat_tls_acceptor_) chat_tls_acceptor_->close(ec);
  if (echo_tls_acceptor_) echo_tls_acceptor_->close(ec);
  // Handshakes in progress end now: they have no session to flush.
  while (auto* c = handshakes_.front()) {
    handshakes_.remove(*c);
    c->stop(disconnect_reason::shutdown);
  }
  spawn(drain(), "drain");
}

asio::awaitable<void> async_server::drain() {
  const auto limit = cfg_.drain_time;
  drained_.expires_after(limit);
  // Echo connections waiting for input end now; those mid-write finish it first. After each
  // yield the walk starts over: connections stopped before it may have been freed meanwhile.
  for (bool more = true; more;) {
    more = false;
    std::size_t n = 0;
    for (auto* c = echo_conns_.front(); c;) {
      auto* next = connection_list::next(*c);  // a stop may unlink c at once (tcp_echo)
      if (c->busy || c->stopped()) {
        c = next;
        continue;
      }
      c->stop(disconnect_reason::shutdown);
      c = next;
      if (++n == sweep_batch) {
        more = true;
        break;
      }
    }
    if (more) co_await asio::post(io_, asio::use_awaitable);
  }
  if (chat_) chat_->drain();
  // Wait for the last connection to close (its scope cancels the timer) and, on a chat network,
  // for Redis to store the node's leave (on_left cancels it), or for the deadline.
  auto waiting = [this] { return echo_conns_.size() + chat_conns_.size() > 0 || (node_ && node_->leaving()); };
  while (waiting() && std::chrono::steady_clock::now() < drained_.expiry()) co_await drained_.async_wait(nothrow);
  if (node_ && node_->leaving())
    spdlog::warn("cluster: Redis did not store this node's leave within {}; the other nodes drop its users after "
                 "cluster.lease_seconds",
                 config_detail::show_duration(limit));
  const auto left = echo_conns_.size() + chat_conns_.size();
  if (left > 0) {
    log_drain_deadline(left, chat_ ? chat_->queued_bytes() : 0, limit);
    for (auto* list : {&echo_conns_, &chat_conns_})
      while (auto* c = list->front()) {
        list->remove(*c);
        c->stop(disconnect_reason::shutdown);
      }
  }
  // Let the stopped sessions run their last steps, then stop everything else.
  co_await asio::post(io_, asio::use_awaitable);
  stopped_ = true;
  asio::error_code ec;
  if (metrics_acceptor_) metrics_acceptor_->close(ec);
  sweep_timer_.cancel();
  stats_timer_.cancel();
  if (signals_) signals_->cancel(ec);
  log_drain_complete(left);
  io_.stop();
}

}  // namespace simul::server
