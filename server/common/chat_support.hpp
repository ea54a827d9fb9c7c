// Pieces of the chat service that both server models share: hub settings from the config and
// the close messages clients see.
#pragma once

#include <string_view>

#include "core/chat_hub.hpp"
#include "server/common/config.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// The hub's settings from the server config (names, MOTD, limits, version).
core::hub_config make_hub_config(const config& cfg);

/// The ERROR text a client gets when the server closes it for `why`.
std::string_view close_message(disconnect_reason why) noexcept;

/// Copies the hub's user and room counts into the gauges.
void update_chat_gauges(const core::chat_hub& hub, stats& st) noexcept;

}  // namespace simul::server
