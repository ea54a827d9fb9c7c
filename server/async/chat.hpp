// Chat service for the async model: the core chat hub and the live sessions it delivers to.
// Each connection has a reader and a writer coroutine; outgoing lines go through the client's
// bounded SendQ; a broadcast shares one immutable buffer among all recipients.
// Everything here runs on the loop thread only.
#pragma once

#include <span>
#include <unordered_map>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "core/chat_hub.hpp"
#include "server/common/config.hpp"
#include "server/async/connection_list.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

struct chat_session;

class async_chat {
 public:
  async_chat(const config& cfg, stats& st);
  ~async_chat();

  /// Serves one chat connection until it closes. `entry` is its connection-list entry;
  /// `scratch` a read buffer shared by all sessions (used between suspensions only).
  asio::awaitable<void> serve(asio::ip::tcp::socket& socket, conn_entry& entry, std::span<char> scratch);

  /// Tells every chat client "ERROR :Server shutting down" and starts flushing and closing them.
  asio::awaitable<void> drain();

 private:
  asio::awaitable<void> reader(chat_session& s, std::span<char> scratch);
  asio::awaitable<void> writer(chat_session& s);
  void deliver(core::hub_output out, chat_session* actor);
  void kill(chat_session& s, disconnect_reason why);

  const config& cfg_;
  stats& stats_;
  core::chat_hub hub_;
  std::unordered_map<core::client_id, chat_session*> sessions_;
  core::client_id next_id_ = 1;
  bool draining_ = false;
};

}  // namespace simul::server
