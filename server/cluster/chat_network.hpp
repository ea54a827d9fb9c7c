// The seam between the async chat sessions and the chat state when the server is a node of a
// chat network (cluster.redis set; server/cluster/). Standalone, async_chat calls its own hub
// and there is no chat_network at all. In a network the sessions hand every event to the
// network instead; the network puts it in the network's one ordered log, applies the log to its
// mirror hub, and gives async_chat back the output of each applied entry to deliver to its own
// connections. Loop thread only.
#pragma once

#include <string_view>

#include "core/chat_hub.hpp"

namespace simul::server {

class chat_network {
 public:
  /// What the network calls back (async_chat).
  class sink {
   public:
    /// The output of one applied entry; `actor` is the client the entry was about (its
    /// registered_now and close concern that client, if it is local). Deliver to local clients only.
    virtual void apply(core::client_id actor, core::hub_output out) = 0;
    /// The node lost its place in the network (declared down, log lost, Redis restarted): every
    /// local chat client is told "ERROR :<why>" and closed. Ids issued before are void.
    virtual void reset(std::string_view why) = 0;

   protected:
    ~sink() = default;
  };

  virtual ~chat_network() = default;

  /// The mirror of the network's chat state (read-only use: nicks, PING lines, gauges). It may be
  /// replaced by a resync: do not keep the reference across suspensions.
  virtual core::chat_hub& hub() = 0;
  /// Joined: connected to the network and applying its log.
  virtual bool joined() const noexcept = 0;
  /// A network-unique id for a new local client; 0 while not joined.
  virtual core::client_id next_id() noexcept = 0;
  /// A new local client (only while joined). False: not published (the client is refused).
  virtual bool connect(core::client_id id, std::string_view host) = 0;
  /// One line of a local client (`too_long`: the framer's 417 instead). False: refused (the
  /// network is unavailable or its queue full): the client is told so.
  virtual bool line(core::client_id id, std::string_view line, bool too_long) = 0;
  /// A local client is gone; its peers see QUIT :<reason>. Kept until the network takes it.
  virtual void disconnect(core::client_id id, std::string_view reason) = 0;
  /// Server shutdown: the node leaves the network (its users QUIT for everyone else).
  virtual void leave() = 0;
};

}  // namespace simul::server
