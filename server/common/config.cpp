// Validating the server configuration, and the model names. The key table is config_fields.hpp;
// reading YAML is config_reader.cpp, printing it config_writer.cpp.
#include "server/common/config.hpp"

#include <algorithm>
#include <array>
#include <concepts>
#include <utility>

#include "core/chat_hub.hpp"
#include "server/common/config_fields.hpp"

namespace simul::server {
namespace {

using namespace config_detail;

// Checks each field against its rule (as a visit_fields visitor), naming where a bad value was set.
class checker {
 public:
  explicit checker(const config_origins& origins) : origins_(origins) {}

  void operator()(std::string_view, bool) {}
  void operator()(std::string_view, model_kind) {}
  template <std::unsigned_integral T>
  void operator()(std::string_view key, T v, int_rule rule) {
    if (!rule.allows(v)) bad(key, rule.reason(std::to_string(v)));
  }
  void operator()(std::string_view key, double v, real_rule rule) {
    if (!rule.allows(v)) bad(key, rule.reason(format_real(v)));
  }
  void operator()(std::string_view key, std::chrono::milliseconds v, duration_rule rule) {
    if (!rule.allows(v)) bad(key, rule.reason(show_duration(v)));
  }
  void operator()(std::string_view key, const std::string& v, text_rule rule) {
    if (auto reason = rule.check(v); !reason.empty()) bad(key, reason);
  }

  // Blames `key`, at its origin or else at `other`'s (the value that made it wrong).
  [[noreturn]] void bad(std::string_view key, const std::string& reason,
                        std::string_view other = {}) const {
    auto it = origins_.find(key);
    if (it == origins_.end() && !other.empty()) it = origins_.find(other);
    fail(it == origins_.end() ? "" : it->second, key, reason);
  }

 private:
  const config_origins& origins_;
};

// TLS needs both PEM files, and the async model: one OpenSSL connection cannot be read and
// written by two threads at once, which is how the threaded model serves a connection.
void check_tls(const config& cfg, const checker& check) {
  const auto& t = cfg.tls;
  if (t.cert_file.empty() != t.key_file.empty()) {
    const char* unset = t.cert_file.empty() ? "tls.cert_file" : "tls.key_file";
    const char* set = t.cert_file.empty() ? "tls.key_file" : "tls.cert_file";
    check.bad(unset, std::string("must be set when ") + set + " is (TLS needs a certificate and its key)", set);
  }
  if (t.configured() && cfg.model != model_kind::async) {
    check.bad("tls.cert_file",
              "TLS is served by the async model only (model: " + std::string(to_string(cfg.model)) +
                  "); use model: async, or leave tls.cert_file empty",
              "model");
  }
}

// The chat network is served by the async model's chat sessions (hiredis on the io_context).
void check_cluster(const config& cfg, const checker& check) {
  if (cfg.cluster.enabled() && cfg.model != model_kind::async) {
    check.bad("cluster.redis",
              "a chat network is served by the async model only (model: " + std::string(to_string(cfg.model)) +
                  "); use model: async, or leave cluster.redis empty",
              "model");
  }
}

void check_cross_fields(const config& cfg, const checker& check) {
  const auto& l = cfg.limits;
  if (l.sendq_soft_bytes > l.sendq_hard_bytes) {
    check.bad("limits.sendq_soft_bytes",
              "must not exceed limits.sendq_hard_bytes (" + std::to_string(l.sendq_soft_bytes) +
                  " > " + std::to_string(l.sendq_hard_bytes) + ")",
              "limits.sendq_hard_bytes");
  }
  // One reply line must fit in the send queue, and one input line in the backlog.
  for (auto [key, value] :
       {std::pair{"limits.sendq_hard_bytes", l.sendq_hard_bytes},
        std::pair{"limits.flood_max_backlog_bytes", l.flood_max_backlog_bytes}}) {
    if (value < l.max_line_bytes) {
      check.bad(key,
                "must be at least limits.max_line_bytes (" + std::to_string(value) + " < " +
                    std::to_string(l.max_line_bytes) + ")",
                "limits.max_line_bytes");
    }
  }
  // Replies carry nicks and room names whole: the line limit must leave them room.
  core::hub_config hub;
  hub.server_name = cfg.chat_service.server_name;
  hub.network = cfg.chat_service.network;
  hub.nick_len = cfg.chat_service.nick_len;
  hub.channel_len = cfg.chat_service.channel_len;
  if (const auto need = core::min_line_bytes(hub); cfg.chat.enabled && l.max_line_bytes < need) {
    check.bad("limits.max_line_bytes",
              "must be at least " + std::to_string(need) + " with chat.nick_len " +
                  std::to_string(hub.nick_len) + " and chat.channel_len " +
                  std::to_string(hub.channel_len) +
                  " (got " + std::to_string(l.max_line_bytes) +
                  "; a WHO or ISUPPORT reply would cut a nick or room name)",
              "chat.nick_len");
  }
  check_tls(cfg, check);
  check_cluster(cfg, check);
  struct listener {
    const char* name;
    const listener_config& cfg;
  };
  // The TLS listeners take part in the port check only when they will be opened.
  const listener_config no_listener{false, 0};
  const bool tls = cfg.tls.configured();
  const std::array listeners{listener{"echo", cfg.echo}, listener{"chat", cfg.chat},
                             listener{"metrics", cfg.metrics},
                             listener{"echo.tls", tls && cfg.echo.enabled ? cfg.tls.echo : no_listener},
                             listener{"chat.tls", tls && cfg.chat.enabled ? cfg.tls.chat : no_listener}};
  if (std::none_of(listeners.begin(), listeners.end(), [](auto& s) { return s.cfg.enabled; })) {
    check.bad("echo.enabled", "at least one of echo, chat and metrics must be enabled",
              "chat.enabled");
  }
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto& a = listeners[j];
      const auto& b = listeners[i];
      if (a.cfg.enabled && b.cfg.enabled && b.cfg.port != 0 && a.cfg.port == b.cfg.port) {
        auto port_key = [](std::string name) {
          auto dot = name.find('.');
          return dot == std::string::npos ? name + ".port" : name.substr(0, dot) + ".tls_port";
        };
        std::string key = port_key(b.name);
        check.bad(key, "same port as " + port_key(a.name) + " (" + std::to_string(b.cfg.port) + ")",
                  port_key(a.name));
      }
    }
  }
}

}  // namespace

void validate(const config& cfg) { validate(cfg, config_origins{}); }

void validate(const config& cfg, const config_origins& origins) {
  checker check(origins);
  visit_fields(cfg, check);
  check_cross_fields(cfg, check);
}

}  // namespace simul::server
