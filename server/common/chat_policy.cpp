// The chat policy shared by both models.
#include "server/common/chat_policy.hpp"

#include <ctime>

#include "core/errc.hpp"
#include "core/irc_message.hpp"

namespace simul::server {

core::hub_config make_hub_config(const config& cfg) {
  core::hub_config h;
  h.server_name = cfg.chat_service.server_name;
  h.network = cfg.chat_service.network;
  h.motd = cfg.chat_service.motd;
  h.nick_len = cfg.chat_service.nick_len;
  h.channel_len = cfg.chat_service.channel_len;
  h.max_line_bytes = cfg.limits.max_line_bytes;
  h.version = std::string("simul-") + SIMUL_VERSION;
  char when[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
  h.created = when;
  // Validated when the config was read, so nothing is left to report here.
  (void)core::parse_oper_accounts(cfg.chat_service.operators, h.operators);
  h.clock = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  return h;
}

void reconfigure_hub(core::chat_hub& hub, const config& cfg) {
  auto h = make_hub_config(cfg);
  hub.set_motd(std::move(h.motd));
  hub.set_operators(std::move(h.operators));
}

std::string_view close_message(disconnect_reason why) noexcept {
  switch (why) {
    case disconnect_reason::sendq: return "SendQ exceeded";
    case disconnect_reason::flood: return "Excess Flood";
    case disconnect_reason::ping: return "Ping timeout";
    case disconnect_reason::registration: return "Registration timed out";
    case disconnect_reason::shutdown: return "Server shutting down";
    case disconnect_reason::idle: return "Idle timeout";
    default: return "Closing link";
  }
}

std::string_view quit_message(disconnect_reason why) noexcept {
  switch (why) {
    case disconnect_reason::client: return "Client closed connection";
    case disconnect_reason::error: return "Connection error";
    default: return close_message(why);
  }
}

std::string last_words(disconnect_reason why) {
  return core::format_message("", "ERROR", {close_message(why)}, {512, true});
}

disconnect_reason liveness_reason(std::error_code why) noexcept {
  return why == core::errc::registration_timeout ? disconnect_reason::registration : disconnect_reason::ping;
}

core::hub_output ping_output(core::chat_hub& hub, core::client_id id) {
  core::hub_output ping;
  ping.deliveries.push_back(core::delivery{hub.make_ping(), {id}});
  return ping;
}

void update_chat_gauges(const core::chat_hub& hub, stats& st) noexcept {
  st.chat_users.value.store(hub.users(), std::memory_order_relaxed);
  st.chat_rooms.value.store(hub.rooms(), std::memory_order_relaxed);
}

}  // namespace simul::server
