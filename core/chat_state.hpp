// The chat hub's state: clients, nicks, rooms and membership, and the operations that change them
// (join, leave, kick, rename, remove). No replies are built here: command handlers (the hub's
// context) parse and check a command, call these, and describe the change to the clients.
//
// Internal to core/ (servers use chat_hub). Thread affinity: that of the owning chat_hub.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/chat_hub.hpp"

namespace simul::core {

inline constexpr std::size_t user_len = 16;      // ISUPPORT USERLEN
inline constexpr std::size_t topic_len = 390;    // ISUPPORT TOPICLEN
inline constexpr std::size_t kick_len = 255;     // ISUPPORT KICKLEN
inline constexpr std::size_t away_len = 200;     // ISUPPORT AWAYLEN
inline constexpr std::size_t key_len = 23;       // longest channel key kept
inline constexpr std::size_t realname_len = 128;
inline constexpr std::size_t max_targets = 4;    // ISUPPORT TARGMAX for PRIVMSG, NOTICE and KICK
inline constexpr std::size_t max_bans = 50;      // ISUPPORT MAXLIST=b:
inline constexpr std::size_t max_mode_params = 4;  // ISUPPORT MODES
inline constexpr std::size_t max_invites = 32;     // pending invitations kept per user
inline constexpr std::size_t whowas_len = 200;    // nicks remembered for WHOWAS, newest first

struct chat_client {
  client_id id = 0;
  std::string host;
  std::string nick;                // empty until NICK
  std::string user;                // empty until USER
  std::string realname;
  std::string prefix;              // "nick!user@host", kept current once registered
  std::string away;                // away message; empty when present
  std::vector<std::string> rooms;  // ascii_lower() keys of joined rooms, in join order
  std::vector<std::uint64_t> invites;  // serials of rooms this client was INVITEd to
  std::int64_t signon = 0;         // registration time (unix seconds)
  std::int64_t last_message = 0;   // last PRIVMSG/NOTICE sent, for WHOIS idle time
  bool cap_negotiating = false;    // CAP LS/REQ seen: registration waits for CAP END
  bool multi_prefix = false;       // CAP multi-prefix: NAMES and WHO show every prefix ("@+")
  bool registered = false;
  bool invisible = false;          // user mode +i
  bool wallops = false;            // user mode +w
  bool oper = false;               // user mode +o: a server operator (OPER)
};

struct chat_member {
  client_id id = 0;
  bool op = false;     // '@'
  bool voice = false;  // '+'
};

struct chat_ban {
  std::string mask;    // nick!user@host form
  std::string set_by;
  std::int64_t set_at = 0;
};

struct chat_room {
  std::string name;                  // as spelled by its creator
  std::uint64_t serial = 0;          // unique per room ever created (invites name rooms by it)
  std::int64_t created = 0;
  std::string topic;
  std::string topic_by;              // nick of who set it
  std::int64_t topic_at = 0;
  std::vector<chat_member> members;  // join order
  // Modes. +n and +t are on when a room is created.
  bool no_external = true;   // +n
  bool topic_ops = true;     // +t
  bool moderated = false;    // +m
  bool invite_only = false;  // +i
  bool secret = false;       // +s
  std::string key;           // +k; empty = off
  std::size_t limit = 0;     // +l; 0 = off
  std::vector<chat_ban> bans;

  chat_member* member(client_id id) noexcept;
  const chat_member* member(client_id id) const noexcept;
  bool is_banned(const chat_client& c) const;
  /// The modes as MODE parameters: "+iklmnst", then the key ("*" unless `show_key`), the limit.
  std::vector<std::string> mode_params(bool show_key) const;
};

/// A nick no longer in use (its user quit or changed it), for WHOWAS.
struct chat_past {
  std::string nick;
  std::string user;
  std::string host;
  std::string realname;
  std::int64_t until = 0;  // when it stopped being used
};

class chat_state {
 public:
  /// Adds a connection. The caller removes a stale client with the same id first.
  chat_client& add(client_id id, std::string host);
  chat_client* find(client_id id) const;
  /// The connection owning `nick` (any case), registered or not.
  chat_client* find_nick(std::string_view nick) const;
  /// Like find_nick, but only a registered user.
  chat_client* find_user(std::string_view nick) const;
  chat_room* find_room(std::string_view name) const;

  /// Gives `c` the nick (the caller checked it is valid and free).
  void rename(chat_client& c, std::string_view nick);
  void mark_registered(chat_client& c, std::int64_t now);
  void set_oper(chat_client& c, bool on);

  /// Adds `c` to the room `name`, creating it (with `c` as its operator) when it does not exist.
  chat_room& join(chat_client& c, std::string_view name, std::int64_t now);
  /// Removes `c` from `r` (PART, KICK); an empty room is deleted, and `r` with it.
  void leave(chat_client& c, chat_room& r);
  /// Removes the client from every room and the nick table, and destroys it.
  void remove(chat_client& c);
  void clear();

  /// Remembers `c`'s current nick for WHOWAS (a registered user about to quit or rename).
  void remember(const chat_client& c, std::int64_t now);
  /// The remembered users of `nick` (any case), newest first; all of them when `max` is 0.
  std::vector<const chat_past*> history(std::string_view nick, std::size_t max) const;

  /// Everyone sharing a room with `c`, without `c`, each once.
  std::vector<client_id> peers(const chat_client& c) const;
  bool shares_room(const chat_client& a, const chat_client& b) const;
  bool is_member(const chat_client& c, const chat_room& r) const { return r.member(c.id) != nullptr; }

  const std::unordered_map<client_id, std::unique_ptr<chat_client>>& clients() const { return clients_; }
  const std::unordered_map<std::string, std::unique_ptr<chat_room>>& rooms() const { return rooms_; }
  /// Rooms sorted by name, for listings that must not depend on hash order.
  std::vector<const chat_room*> sorted_rooms() const;

  std::size_t users() const noexcept { return registered_; }
  std::size_t max_users() const noexcept { return max_registered_; }
  std::size_t opers() const noexcept { return opers_; }
  std::size_t invisible() const;

  /// The whole state as a versioned binary snapshot (core/chat_snapshot.cpp).
  std::string save() const;
  /// Replaces the state with a snapshot from save(); returns "" or why it was refused (bad
  /// magic or version, truncated, corrupted, inconsistent), in which case nothing changed.
  std::string load(std::string_view snapshot);

 private:
  std::unordered_map<client_id, std::unique_ptr<chat_client>> clients_;
  std::unordered_map<std::string, client_id> nicks_;                   // ascii_lower(nick) → owner
  std::unordered_map<std::string, std::unique_ptr<chat_room>> rooms_;  // ascii_lower(name) → room
  std::size_t registered_ = 0;
  std::size_t max_registered_ = 0;
  std::size_t opers_ = 0;
  std::uint64_t next_serial_ = 1;
  std::deque<chat_past> history_;  // newest first, at most whowas_len
};

}  // namespace simul::core
