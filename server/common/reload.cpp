// Config reload on SIGHUP: which keys apply at run time, and the log of what changed.
#include "server/common/reload.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "server/common/log_event.hpp"

namespace simul::server {

bool reloadable(std::string_view key) noexcept {
  if (key == "limits.max_line_bytes") return false;  // the framers and ISUPPORT of live clients
  for (std::string_view prefix : {"limits.", "timeouts."})
    if (key.substr(0, prefix.size()) == prefix) return true;
  for (std::string_view k : {"chat.motd", "chat.motd_file", "chat.operators", "log.level", "log.format",
                             "shutdown.drain_seconds", "tls.cert_file", "tls.key_file"})
    if (key == k) return true;
  return false;
}

config merge_reload(const config& running, const config& next, config_change& change) {
  change = {};
  const auto before = config_values(running);
  const auto after = config_values(next);
  for (std::size_t i = 0; i < before.size() && i < after.size(); ++i) {
    if (before[i].second == after[i].second) continue;
    (reloadable(before[i].first) ? change.applied : change.restart).push_back(before[i].first);
  }
  config merged = running;
  const auto max_line = merged.limits.max_line_bytes;
  merged.limits = next.limits;
  merged.limits.max_line_bytes = max_line;
  merged.timeouts = next.timeouts;
  merged.worker_scrape_timeout = next.worker_scrape_timeout;
  merged.worker_start_timeout = next.worker_start_timeout;
  merged.chat_service.motd = next.chat_service.motd;
  merged.chat_service.motd_file = next.chat_service.motd_file;
  merged.chat_service.operators = next.chat_service.operators;
  merged.log.level = next.log.level;
  merged.log.format = next.log.format;
  merged.drain_time = next.drain_time;
  // TLS: the handshake deadline and the certificate's files (the async model loads them again;
  // TLS on or off, and its ports, need a restart).
  merged.tls.handshake_timeout = next.tls.handshake_timeout;
  merged.tls.refusal_handshakes = next.tls.refusal_handshakes;
  if (running.tls.configured() && next.tls.configured()) {
    merged.tls.cert_file = next.tls.cert_file;
    merged.tls.key_file = next.tls.key_file;
  } else if (running.tls.configured() != next.tls.configured()) {
    for (auto* key : {"tls.cert_file", "tls.key_file"}) {
      std::erase(change.applied, key);
      if (std::find(change.restart.begin(), change.restart.end(), key) == change.restart.end()) change.restart.push_back(key);
    }
  }
  return merged;
}

std::optional<config> reload_config(const config_reloader& reloader, const config& running, stats& st) {
  if (!reloader) {
    log_event("reload_ignored", "reload: SIGHUP ignored: no config file to reload")
        .with("result", "ignored")
        .json_only()
        .warn();
    return std::nullopt;
  }
  config next;
  try {
    next = reloader();
  } catch (const std::exception& e) {
    st.reload_failures_total.add();
    log_event("reload_failed", "reload failed, keeping the running config: {error}")
        .with("error", e.what())
        .with("result", "failed")
        .json_only()
        .error();
    return std::nullopt;
  }
  config_change change;
  config merged = merge_reload(running, next, change);
  std::map<std::string, std::string, std::less<>> old_values, new_values;
  for (auto& [k, v] : config_values(running)) old_values[k] = v;
  for (auto& [k, v] : config_values(next)) new_values[k] = v;
  auto key_event = [&](const std::string& k, std::string_view text, std::string_view result) {
    return log_event("reload_key", text)
        .with("key", k)
        .with("old", old_values[k])
        .with("new", new_values[k])
        .with("result", result)
        .json_only();
  };
  for (const auto& k : change.applied) key_event(k, "reload: {key}: {old} -> {new}", "applied").info();
  for (const auto& k : change.restart)
    key_event(k, "reload: {key}: {old} -> {new} needs a restart; still {old}", "restart_needed").warn();
  log_event("reload_done", "reload: {applied} key(s) applied, {restart_needed} need a restart")
      .with("applied", change.applied.size())
      .with("restart_needed", change.restart.size())
      .with("result", "ok")
      .json_only()
      .info();
  st.reloads_total.add();
  return merged;
}

}  // namespace simul::server
