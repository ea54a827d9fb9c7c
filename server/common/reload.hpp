// SIGHUP: what a reload of the config file may change in a running server. Both models re-read
// the file (and re-apply the command line's flags) through a reloader that main() supplies,
// then apply the run-time keys and log the rest as needing a restart. An invalid file changes
// nothing: the error is logged with its file:line:col and the server runs on.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "server/common/config.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// Produces the configuration a reload asks for; throws config_error when it is invalid.
using config_reloader = std::function<config()>;

/// Whether `key` (dotted, from the key table) takes effect at run time on SIGHUP: the limits
/// (but max_line_bytes), timeouts, the MOTD, the log level and format, the drain time, the TLS
/// certificate's files (while TLS stays on: turning it on or off needs a restart). Those
/// that apply per connection (SendQ, flood, timeouts) apply to connections accepted from then on.
bool reloadable(std::string_view key) noexcept;

struct config_change {
  std::vector<std::string> applied;  // changed keys now in effect
  std::vector<std::string> restart;  // changed keys that need a restart; their old values stay
};

/// The configuration after a reload from `running` to `next`: run-time keys from `next`, the
/// rest from `running`; `change` says which changed keys are which.
config merge_reload(const config& running, const config& next, config_change& change);

/// Runs the reloader and, if it succeeds, returns the merged configuration after logging each
/// applied key (with old and new value) and each key that needs a restart; counts the reload
/// in `st`. On failure logs the error, counts it, and returns nothing: keep the running config.
std::optional<config> reload_config(const config_reloader& reloader, const config& running, stats& st);

}  // namespace simul::server
