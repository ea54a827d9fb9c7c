// Chat service state for the async model: the core chat hub and the live sessions it delivers to.
#pragma once

#include <asio/awaitable.hpp>

#include "server/config.hpp"
#include "server/stats.hpp"

namespace simul::server {

struct async_chat {
  async_chat(const config& cfg, stats& st) : cfg_(cfg), stats_(st) {}

  /// Tells every chat client the server is shutting down and lets their queues flush.
  asio::awaitable<void> drain() { co_return; }

  const config& cfg_;
  stats& stats_;
};

}  // namespace simul::server
