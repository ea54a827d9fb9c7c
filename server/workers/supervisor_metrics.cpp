// The supervisor's metrics listener: /healthz answered by the supervisor itself, /metrics
// gathered from every worker's private listener (127.0.0.1, a port it reported at start) at the
// time of the scrape, each worker within timeouts.worker_scrape_seconds, and merged with the
// supervisor's own figures, every worker's samples labelled worker="i". /readyz is the
// supervisor's own state and, on a chat network, every worker's /readyz asked the same way.
#include <charconv>
#include <memory>
#include <sstream>

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

#include "server/async/connection.hpp"
#include "server/common/metrics.hpp"
#include "server/workers/metrics_merge.hpp"
#include "server/workers/supervisor.hpp"

namespace simul::server {

namespace {

using namespace asio::experimental::awaitable_operators;

// Metrics requests served at once; more are closed unanswered (each one costs a connection to
// every worker).
constexpr std::size_t max_metrics_sessions = 16;
// Largest worker response read (a worker's /metrics is ~10 KiB).
constexpr std::size_t max_worker_reply_bytes = 4 * 1024 * 1024;

bool parse_status(std::string_view digits, unsigned& status) {
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), status);
  return ec == std::errc() && p == digits.data() + digits.size() && digits.size() == 3;
}

// One worker's page over HTTP/1.0 from 127.0.0.1:port: its status code and body; nothing on
// any failure.
asio::awaitable<std::optional<worker_reply>> fetch_worker_page(std::uint16_t port, std::string target) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket(executor);
  const asio::ip::tcp::endpoint ep(asio::ip::address_v4::loopback(), port);
  if (auto [ec] = co_await socket.async_connect(ep, nothrow); ec) co_return std::nullopt;
  const std::string request = "GET " + target + " HTTP/1.0\r\n\r\n";
  if (auto [ec, n] = co_await asio::async_write(socket, asio::buffer(request), nothrow); ec) co_return std::nullopt;
  std::string reply;
  auto [ec, n] = co_await asio::async_read(socket, asio::dynamic_buffer(reply, max_worker_reply_bytes), nothrow);
  constexpr std::string_view status_line = "HTTP/1.0 ";
  if (ec != asio::error::eof || !reply.starts_with(status_line)) co_return std::nullopt;
  const auto body = reply.find("\r\n\r\n");
  if (body == std::string::npos) co_return std::nullopt;
  worker_reply page;
  if (!parse_status(std::string_view(reply).substr(status_line.size(), 3), page.status)) co_return std::nullopt;
  page.body = reply.substr(body + 4);
  co_return page;
}

asio::awaitable<void> sleep_until(std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  co_await timer.async_wait(nothrow);
}

}  // namespace

asio::awaitable<void> supervisor::metrics_listener() {
  for (;;) {
    auto [ec, socket] = co_await metrics_acceptor_->async_accept(nothrow);
    if (!metrics_acceptor_->is_open()) co_return;
    if (ec) {
      // EMFILE and the like: the supervisor holds few descriptors; wait a moment and go on.
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(nothrow);
      continue;
    }
    if (metrics_sessions_ >= max_metrics_sessions) continue;  // closed unanswered
    spawn(metrics_session(std::move(socket)), "metrics session");
  }
}

asio::awaitable<void> supervisor::metrics_session(tcp::socket socket) {
  ++metrics_sessions_;
  struct count_guard {
    std::size_t& n;
    ~count_guard() { --n; }
  } guard{metrics_sessions_};
  std::string request;
  std::array<char, 1024> buf;
  const auto deadline = clock::now() + metrics_request_timeout;
  while (request.size() < max_http_request_bytes && !http_request_complete(request)) {
    auto got = co_await (socket.async_read_some(asio::buffer(buf), nothrow) || sleep_until(deadline));
    if (got.index() == 1) co_return;  // too slow: closed unanswered
    auto [ec, n] = std::get<0>(got);
    if (ec) co_return;
    request.append(buf.data(), n);
  }
  std::string reply;
  if (!http_request_complete(request)) {
    reply = http_reply(request, stats_, draining_, cfg_.model);  // 431
  } else {
    std::string body;
    const auto target = http_target(request);
    if (target == "/metrics") body = co_await gather_metrics();
    std::string why;
    bool ready = ready_for_traffic(why);
    if (ready && target == "/readyz" && workers_report_readiness()) {
      auto workers_why = co_await workers_not_ready();
      ready = ready_for_traffic(why);  // again: a drain may have begun meanwhile
      if (ready && !workers_why.empty()) {
        ready = false;
        why = std::move(workers_why);
      }
    }
    reply = http_response(request, http_answers{body, ready, why});
  }
  co_await asio::async_write(socket, asio::buffer(reply), nothrow);
  asio::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
}

bool supervisor::ready_for_traffic(std::string& why) const {
  const auto up = std::count_if(workers_.begin(), workers_.end(), [](const worker& w) { return w.ready; });
  const std::string count = std::to_string(up) + "/" + std::to_string(workers_.size()) + " workers running";
  if (draining_) {
    why = "draining (" + count + ")\n";
    return false;
  }
  if (!started_) {
    why = "starting (" + count + ")\n";
    return false;
  }
  if (up == 0) {
    why = "no worker running (" + count + ")\n";
    return false;
  }
  return true;
}

bool supervisor::workers_report_readiness() const { return cfg_.chat.enabled && cfg_.cluster.enabled(); }

asio::awaitable<std::vector<std::optional<worker_reply>>> supervisor::ask_workers(std::string_view target) {
  struct scrape {
    std::vector<std::optional<worker_reply>> replies;
    std::size_t pending = 0;
    asio::steady_timer done;
  };
  const auto deadline = clock::now() + cfg_.worker_scrape_timeout;
  auto state = std::make_shared<scrape>(scrape{{}, 0, asio::steady_timer(io_, deadline + std::chrono::seconds(1))});
  state->replies.resize(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (!workers_[i].ready || workers_[i].metrics_port == 0) continue;
    ++state->pending;
    asio::co_spawn(io_, fetch_worker_page(workers_[i].metrics_port, std::string(target)) || sleep_until(deadline),
                   [state, i](std::exception_ptr, std::variant<std::optional<worker_reply>, std::monostate> got) {
                     if (got.index() == 0) state->replies[i] = std::move(std::get<0>(got));
                     if (--state->pending == 0) state->done.cancel();
                   });
  }
  // Every fetch ends by its deadline; the timer (a second later) only guards against a bug.
  if (state->pending > 0) co_await state->done.async_wait(nothrow);
  co_return std::move(state->replies);
}

asio::awaitable<std::string> supervisor::gather_metrics() {
  auto replies = co_await ask_workers("/metrics");
  std::vector<worker_metrics> texts;
  std::vector<bool> scraped(workers_.size(), false);
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (replies[i] && replies[i]->status == 200) {
      scraped[i] = true;
      texts.emplace_back(workers_[i].index, std::move(replies[i]->body));
    } else {
      ++workers_[i].scrape_failures;
    }
  }
  co_return merge_metrics(own_metrics(scraped), texts);
}

asio::awaitable<std::string> supervisor::workers_not_ready() {
  const auto replies = co_await ask_workers("/readyz");
  std::string why;
  for (std::size_t i = 0; i < workers_.size() && i < replies.size(); ++i) {
    if (!replies[i] || replies[i]->status == 200) continue;  // no answer in time: not held against it
    std::string_view reason = replies[i]->body;
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == '\r')) reason.remove_suffix(1);
    why += "worker " + std::to_string(workers_[i].index) + ": " + std::string(reason.empty() ? "not ready" : reason) + "\n";
  }
  co_return why;
}

std::string supervisor::own_metrics(const std::vector<bool>& scraped) const {
  std::ostringstream out;
  metric_family(out, "simul_workers", "gauge", "Worker processes configured (workers).");
  out << "simul_workers " << workers_.size() << '\n';
  metric_family(out, "simul_workers_running", "gauge", "Worker processes running and serving.");
  out << "simul_workers_running " << std::count_if(workers_.begin(), workers_.end(), [](const worker& w) {
    return w.ready;
  }) << '\n';
  metric_family(out, "simul_worker_restarts_total", "counter", "Workers restarted after they died, by worker.");
  for (const auto& w : workers_) out << "simul_worker_restarts_total{worker=\"" << w.index << "\"} " << w.restarts << '\n';
  metric_family(out, "simul_worker_scraped", "gauge",
         "1 when this scrape holds the worker's figures; 0 when it is not running or did not answer within "
         "timeouts.worker_scrape_seconds.");
  for (std::size_t i = 0; i < workers_.size(); ++i)
    out << "simul_worker_scraped{worker=\"" << workers_[i].index << "\"} " << (scraped[i] ? 1 : 0) << '\n';
  metric_family(out, "simul_worker_scrape_failures_total", "counter", "Scrapes that went without the worker's figures.");
  for (const auto& w : workers_)
    out << "simul_worker_scrape_failures_total{worker=\"" << w.index << "\"} " << w.scrape_failures << '\n';
  metric_family(out, "simul_config_reloads_total", "counter", "SIGHUP config reloads, by result.");
  out << "simul_config_reloads_total{result=\"applied\"} " << stats_.reloads_total.get() << '\n';
  out << "simul_config_reloads_total{result=\"failed\"} " << stats_.reload_failures_total.get() << '\n';
  metric_family(out, "simul_draining", "gauge", "1 while shutting down.");
  out << "simul_draining " << (draining_ ? 1 : 0) << '\n';
  out << render_process_metrics();
  return out.str();
}

}  // namespace simul::server
