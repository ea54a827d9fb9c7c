// A node of a chat network (cluster.redis; docs/CLUSTER.md): every node keeps a full mirror of
// the network's chat state (a core::chat_hub) and applies one totally ordered log of chat
// events, the Redis stream "simul:<network>:log". The node that owns a client adds that client's
// events to the log; every node reads the whole log and applies each entry, in order, to its
// mirror, delivering only what is addressed to its own connections. Same events, same order,
// same start: identical mirrors, so nicks, rooms, modes and queries span the network and every
// room has one order.
//
// Two Redis connections on the server's io_context (no threads): one for commands (XADD, INCR,
// GET, ...), one for the blocking XREAD. Loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "core/chat_hub.hpp"
#include "server/cluster/chat_network.hpp"
#include "server/cluster/redis_client.hpp"
#include "server/common/config.hpp"
#include "server/common/stats.hpp"

struct redisReply;

namespace simul::cluster {

/// A stream entry id "ms-seq", ordered.
struct entry_id {
  std::uint64_t ms = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const entry_id&) const = default;
  /// Parses "ms-seq" (or "ms"); nullopt if malformed.
  static std::optional<entry_id> parse(std::string_view s);
  std::string str() const;
};

/// The node number part of a network-unique client id: (node << 32) | local serial.
constexpr std::uint32_t node_of(core::client_id id) noexcept { return static_cast<std::uint32_t>(id >> 32); }

/// The default cluster.node: "hostname:pid".
std::string default_node_name();

class chat_node final : public server::chat_network {
 public:
  /// `cfg` is the server's running config (read again on a resync); `out` receives what to deliver.
  chat_node(asio::io_context& io, const server::config& cfg, server::stats& st, sink& out);
  ~chat_node() override;
  chat_node(const chat_node&) = delete;
  chat_node& operator=(const chat_node&) = delete;

  /// Connects to Redis; the node joins the network as soon as Redis answers, and again after
  /// every reconnect.
  void start();

  core::chat_hub& hub() override { return *hub_; }
  bool joined() const noexcept override { return phase_ == phase::joined; }
  core::client_id next_id() noexcept override;
  bool connect(core::client_id id, std::string_view host) override;
  bool line(core::client_id id, std::string_view line, bool too_long) override;
  void disconnect(core::client_id id, std::string_view reason) override;
  void leave() override;

  /// After leave(): its node-leave entry is on its way to Redis, not yet acknowledged.
  bool leaving() const noexcept { return leaving_; }
  /// Called once Redis has answered the node-leave entry's XADD (or the connection was lost
  /// before it did): the drain waits for it, so that the others drop this node's users now,
  /// not a lease later. Never called after the node is destroyed.
  std::function<void()> on_left;

  /// This node's number in the network (0 while it has none).
  std::uint32_t number() const noexcept { return node_; }

 private:
  enum class phase { down, joining, joined, left };
  struct peer {
    std::chrono::steady_clock::time_point last_seen;
    std::chrono::steady_clock::time_point declared{};  // when this node last declared it down
    std::string name;
  };

  // Adds one entry to the log: kind, client, data, as node `from` (default: this node);
  // `done` (if any) is called with Redis's answer, as a redis_client callback. Local QUITs that
  // could not be queued before go first.
  bool publish(char kind, core::client_id client, std::string_view data, std::uint32_t from = 0,
               redis_client::callback done = {});
  // publish() without the QUITs kept back first.
  bool xadd(char kind, core::client_id client, std::string_view data, std::uint32_t from,
            redis_client::callback done);
  /// Publishes the local QUITs that could not be queued (Redis away or its queue full), in
  /// order, while they fit: on rejoining, on every answer from Redis and before any new entry.
  void publish_unsent_quits();
  void on_up();
  void on_down(const std::string& reason);
  void join();
  void fresh_join();
  void resume();
  void become_joined();
  /// Drops every local user (told `why`) and the mirror, and joins again with a new number;
  /// `announce`: first tell the others (node-leave) to drop this node's users.
  void resync(const std::string& why, bool announce = false);
  void read_next();
  void on_read(const redisReply* r, std::uint64_t epoch);
  void apply_entry(std::string_view id, const redisReply& fields);
  void apply(core::client_id actor, core::hub_output out);
  void drop_node(std::uint32_t n, std::string_view reason);
  /// A local client's line came back but its connect never did (lost with a connection to
  /// Redis): it is told and closed, to connect again.
  void lost_client(core::client_id id);
  /// Loads the snapshot ("" = none) and reads the log from its entry; false if it is unusable.
  bool load_snapshot(std::string_view value);
  /// The lowest-numbered live node writes a snapshot now and then and trims the log before it.
  void maybe_snapshot();
  void schedule_tick();
  void tick();
  void set_phase(phase p);
  void new_hub();
  std::string split_reason(std::uint32_t n) const;

  asio::io_context& io_;
  const server::config& cfg_;
  server::stats& stats_;
  sink& out_;
  const std::string name_;      // cluster.node or hostname:pid
  const std::string log_key_;   // simul:<network>:log
  const std::string nodes_key_; // simul:<network>:nodes (INCR: node numbers)
  const std::string snapshot_key_;

  std::optional<core::chat_hub> hub_;  // the mirror
  phase phase_ = phase::down;
  std::uint64_t epoch_ = 0;            // bumped by every (re)join and resync: stale answers are dropped
  std::uint32_t node_ = 0;             // this node's number; 0 = none yet
  std::uint32_t serial_ = 0;           // last local client serial
  entry_id last_id_{};                 // the last entry applied
  std::string run_id_;                 // Redis's run_id when the node joined
  bool reading_ = false;
  std::uint64_t applied_since_snapshot_ = 0;
  std::chrono::steady_clock::time_point last_snapshot_{};
  bool snapshotting_ = false;
  std::map<std::uint32_t, peer> peers_;                        // nodes seen in the log
  std::set<std::uint32_t> gone_;                               // nodes declared down or left
  std::map<std::uint32_t, std::set<core::client_id>> members_; // clients by node, in id order
  std::set<core::client_id> local_;  // local clients whose connect was applied and disconnect not yet
  std::map<core::client_id, std::string> unsent_quits_;        // local disconnects not yet published
  asio::steady_timer tick_timer_;
  bool stopping_ = false;
  bool leaving_ = false;
  // Last: destroyed first, while everything their callbacks touch is still there.
  redis_client cmd_;
  redis_client sub_;
};

}  // namespace simul::cluster
