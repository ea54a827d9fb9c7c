// Listener and life-cycle pieces shared by both models.
#include "server/common/lifecycle.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "core/irc_message.hpp"
#include "server/common/config_fields.hpp"
#include "server/common/process_info.hpp"

namespace simul::server {

std::string refusal_line(service svc, std::string_view reason) {
  if (svc == service::chat) return core::format_message("", "ERROR", {reason}, {512, true});
  return "error: " + std::string(reason) + "\r\n";
}

void count_refusal(stats& st, service svc, std::string_view reason) {
  st.of(svc).rejected_total.add();
  st.disconnected(svc, disconnect_reason::rejected);
  thread_local log_limiter limiter;
  std::uint64_t held = 0;
  if (limiter.allow(held)) spdlog::info("{}: refused a connection: {} ({} more refusals held back)", to_string(svc), reason, held);
}

bool logging_connections() noexcept { return spdlog::should_log(spdlog::level::debug); }

void log_accepted(service svc, std::string_view peer) {
  spdlog::debug("{}: accepted a connection from {}", to_string(svc), peer.empty() ? "?" : peer);
}

void log_closed(service svc, std::string_view peer, std::chrono::steady_clock::duration lasted, std::uint64_t bytes_in,
                std::uint64_t bytes_out, disconnect_reason why) {
  spdlog::debug("{}: closed the connection from {} after {:.3f} s: {} B in, {} B out, reason {}", to_string(svc),
                peer.empty() ? "?" : peer, std::chrono::duration<double>(lasted).count(), bytes_in, bytes_out,
                to_string(why));
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
    spdlog::warn("{} listener: accept failed: {} ({} more suppressed); retrying in {} ms", to_string(svc), error, held,
                 wait.count());
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

void log_started(const config& cfg, std::uint16_t echo, std::uint16_t chat, std::uint16_t metrics,
                 std::string_view extra) {
  spdlog::info("simul-server {} ({}) model={} echo={} chat={} metrics={}{}{}", SIMUL_VERSION, SIMUL_GIT_SHA,
               to_string(cfg.model), echo, chat, metrics, extra.empty() ? "" : " ", extra);
  if (auto w = fd_limit_warning(process_max_fds(), cfg.limits.max_connections); !w.empty()) spdlog::warn("{}", w);
}

void log_drain_signal(int sig, std::chrono::milliseconds drain) {
  spdlog::info("signal {}: draining for up to {}", sig, config_detail::show_duration(drain));
}

void exit_on_second_signal(int sig) {
  spdlog::warn("second signal ({}): exiting now", sig);
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

void log_drain_deadline(std::size_t left, std::uint64_t unsent, std::chrono::milliseconds drain) {
  spdlog::warn("drain: {} connections still open after {}; closing them, {} queued bytes unsent", left,
               config_detail::show_duration(drain), unsent);
}

void log_drain_complete(std::size_t closed_at_deadline) {
  if (closed_at_deadline == 0)
    spdlog::info("drain complete: every connection closed cleanly");
  else
    spdlog::warn("drain complete: {} connections were closed at the deadline", closed_at_deadline);
}

}  // namespace simul::server
