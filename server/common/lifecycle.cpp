// Listener and life-cycle pieces shared by both models.
#include "server/common/lifecycle.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "core/irc_message.hpp"
#include "server/common/config_fields.hpp"
#include "server/common/log_event.hpp"
#include "server/common/process_info.hpp"

namespace simul::server {

std::string refusal_line(service svc, std::string_view reason) {
  if (svc == service::chat) return core::format_message("", "ERROR", {reason}, {512, true});
  return "error: " + std::string(reason) + "\r\n";
}

void count_refusal(stats& st, service svc, std::string_view reason, std::string_view peer) {
  st.of(svc).rejected_total.add();
  st.disconnected(svc, disconnect_reason::rejected);
  thread_local log_limiter limiter;
  std::uint64_t held = 0;
  if (!limiter.allow(held)) return;
  log_event ev("connection_refused", "{service}: refused a connection: {reason} ({held_back} more refusals held back)");
  ev.with("service", to_string(svc)).with("reason", reason).with("held_back", held);
  if (!peer.empty()) ev.with("peer", peer);
  ev.info();
}

bool logging_connections() noexcept { return spdlog::should_log(spdlog::level::debug); }

void log_accepted(service svc, std::string_view peer) {
  log_event("connection_accepted", "{service}: accepted a connection from {peer}")
      .with("service", to_string(svc))
      .with("peer", peer.empty() ? "?" : peer)
      .debug();
}

void log_closed(service svc, std::string_view peer, std::chrono::steady_clock::duration lasted, std::uint64_t bytes_in,
                std::uint64_t bytes_out, disconnect_reason why) {
  log_event("connection_closed",
            "{service}: closed the connection from {peer} after {duration_s} s: {bytes_in} B in, {bytes_out} B out, "
            "reason {reason}")
      .with("service", to_string(svc))
      .with("peer", peer.empty() ? "?" : peer)
      .with("duration_s", std::chrono::duration<double>(lasted).count())
      .with("bytes_in", bytes_in)
      .with("bytes_out", bytes_out)
      .with("reason", to_string(why))
      .debug();
}

startup_error listener_error(service svc, const std::string& bind, std::uint16_t port, std::string_view why) {
  std::string text(why);
  // "Address already in use" -> "address already in use", to read well after a colon.
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] - 'A' + 'a');
  return startup_error(std::string(to_string(svc)) + " listener " + bind + ":" + std::to_string(port) + ": " + text);
}

std::chrono::milliseconds accept_backoff::failed(stats& st, service svc, std::string_view error) {
  st.accept_errors_total.add();
  const auto wait = delay_;
  std::uint64_t held = 0;
  if (log_.allow(held))
    log_event("accept_failed",
              "{service} listener: accept failed: {error} ({held_back} more suppressed); retrying in {retry_ms} ms")
        .with("service", to_string(svc))
        .with("error", error)
        .with("held_back", held)
        .with("retry_ms", wait.count())
        .warn();
  delay_ = std::min(delay_ * 2, max_delay);
  return wait;
}

namespace {
// Descriptors the server holds besides its connections: stdio, listeners, epoll, eventfds,
// signalfd, metrics connections, /proc reads.
constexpr std::uint64_t reserved_fds = 32;
}  // namespace

std::string fd_limit_warning(std::uint64_t max_fds, std::uint32_t max_connections) {
  if (max_fds == 0 || max_fds >= max_connections + reserved_fds) return {};
  return fmt::format(
      "open-files limit is {} but limits.max_connections is {}: accepts will fail with EMFILE near {} "
      "connections; raise the limit (ulimit -n, systemd LimitNOFILE=) to at least {} or lower "
      "limits.max_connections",
      max_fds, max_connections, max_fds > reserved_fds ? max_fds - reserved_fds : 0, max_connections + reserved_fds);
}

namespace {

// `more`: the template's end, for fields the caller adds.
log_event started_event(const config& cfg, std::uint16_t echo, std::uint16_t chat, std::uint16_t metrics,
                        std::string_view more = {}) {
  log_event e("started",
              "simul-server {version} ({commit}) model={model} echo={echo_port} chat={chat_port} metrics={metrics_port}" +
                  std::string(more));
  e.with("version", SIMUL_VERSION)
      .with("commit", SIMUL_GIT_SHA)
      .with("model", to_string(cfg.model))
      .with("echo_port", echo)
      .with("chat_port", chat)
      .with("metrics_port", metrics);
  return e;
}

void warn_fd_limit(const config& cfg) {
  const auto max_fds = process_max_fds();
  if (auto w = fd_limit_warning(max_fds, cfg.limits.max_connections); !w.empty())
    log_event("fd_limit_low", w)
        .with("max_fds", max_fds)
        .json_only()
        .with("max_connections", cfg.limits.max_connections)
        .json_only()
        .warn();
}

}  // namespace

void log_started(const config& cfg, std::uint16_t echo, std::uint16_t chat, std::uint16_t metrics) {
  started_event(cfg, echo, chat, metrics).info();
  warn_fd_limit(cfg);
}

void log_started(const config& cfg, std::uint16_t echo, std::uint16_t chat, std::uint16_t metrics,
                 std::size_t workers, std::string_view pids) {
  started_event(cfg, echo, chat, metrics, " workers={workers} pids={pids}")
      .with("workers", workers)
      .with("pids", pids)
      .info();
  warn_fd_limit(cfg);
}

void log_drain_signal(int sig, std::chrono::milliseconds drain) {
  log_event("drain_started", "signal {signal}: draining for up to {drain}")
      .with("signal", sig)
      .with("drain", config_detail::show_duration(drain))
      .with("drain_ms", drain.count())
      .json_only()
      .info();
}

void exit_on_second_signal(int sig) {
  log_event("second_signal", "second signal ({signal}): exiting now").with("signal", sig).warn();
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

void log_drain_deadline(std::size_t left, std::uint64_t unsent, std::chrono::milliseconds drain) {
  log_event("drain_deadline",
            "drain: {open} connections still open after {drain}; closing them, {unsent_bytes} queued bytes unsent")
      .with("open", left)
      .with("drain", config_detail::show_duration(drain))
      .with("unsent_bytes", unsent)
      .warn();
}

void log_drain_complete(std::size_t closed_at_deadline) {
  if (closed_at_deadline == 0)
    log_event("drain_complete", "drain complete: every connection closed cleanly")
        .with("closed_at_deadline", 0)
        .json_only()
        .info();
  else
    log_event("drain_complete", "drain complete: {closed_at_deadline} connections were closed at the deadline")
        .with("closed_at_deadline", closed_at_deadline)
        .warn();
}

}  // namespace simul::server
