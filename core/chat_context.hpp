// Internal to the chat hub (not for servers): the per-call context that parses one command, checks
// it, calls chat_state to change rooms and users, and collects the replies and broadcasts.
// Handlers live in chat_registration.cpp, chat_channels.cpp, chat_modes.cpp, chat_messages.cpp,
// chat_queries.cpp and chat_operators.cpp; dispatch and output helpers in chat_hub.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/chat_hub.hpp"
#include "core/chat_state.hpp"
#include "core/irc_message.hpp"
#include "core/irc_numerics.hpp"

namespace simul::core {

/// Runs one hub call for one acting client and collects the output. After the client has been
/// removed (QUIT, error, KILL of oneself) it must not be touched: c_ becomes null.
class chat_hub::context {
 public:
  context(chat_hub& hub, chat_client& c) : hub_(hub), st_(*hub.state_), c_(&c) {}

  hub_output take() { return std::move(out_); }

  void dispatch(const irc_message& m);
  void parse_error(std::error_code ec, std::string_view line);
  void line_too_long();
  void error_and_close(std::string_view msg);
  /// Removes the client; peers sharing a room see QUIT :reason when `broadcast`.
  void remove_client(std::string_view reason, bool broadcast);

 private:
  using params = std::initializer_list<std::string_view>;
  using handler = void (context::*)(const irc_message&);
  struct command_entry {
    std::string_view name;
    handler fn;                 // null: accepted and ignored
    std::size_t min_params;     // fewer (or an empty one among them): 461, sent by dispatch()
    bool before_registration;   // allowed before registration completes
  };
  static const command_entry commands_[];

  const hub_config& cfg() const noexcept { return hub_.config_; }
  std::int64_t now() const { return hub_.now(); }

  // Output (chat_hub.cpp).
  std::string_view me() const;  // the target of replies: nick, or "*" before one is set
  void send_self(std::string line);
  void send(std::vector<client_id> to, std::string line);
  std::string server_line(std::string_view cmd, params p, bool trailing = true) const;
  std::string user_line(std::string_view cmd, params p, bool trailing = true) const;
  /// ":server CODE me p... [:text]": the numeric's fixed text, if any, is the last parameter.
  void reply(const numeric_reply& n, params p = {}, bool trailing = true);
  void need_more_params(std::string_view cmd);
  /// Every member of r, or every member but `except`.
  /// The ids of the room's members, but `except` when given (any id is a valid client id, 0 included).
  static std::vector<client_id> member_ids(const chat_room& r, std::optional<client_id> except = std::nullopt);
  /// Removes `victim` (another client or oneself): ERROR to it, QUIT to its peers, a close.
  void kill_client(chat_client& victim, std::string_view quit_reason, std::string_view error);

  // Registration (chat_registration.cpp).
  void try_register();
  void welcome();
  void isupport();
  void motd();
  void on_cap(const irc_message& m);
  void on_nick(const irc_message& m);
  void on_user(const irc_message& m);
  void on_pass(const irc_message& m);
  void on_ping(const irc_message& m);
  void on_quit(const irc_message& m);

  // Rooms (chat_channels.cpp).
  bool can_see(const chat_room& r) const;  // not secret, or the acting client is in it
  bool can_see(const chat_client& u) const;  // not invisible, or sharing a room with us, or us
  void join_one(std::string_view name, std::string_view key);
  void part_one(std::string_view name, std::string_view reason, bool has_reason);
  void kick_one(std::string_view room, std::string_view nick, std::string_view reason);
  void names_of(const chat_room& r);
  void names_all();
  void topic_of(const chat_room& r);
  void on_join(const irc_message& m);
  void on_part(const irc_message& m);
  void on_topic(const irc_message& m);
  void on_names(const irc_message& m);
  void on_list(const irc_message& m);
  void on_kick(const irc_message& m);
  void on_invite(const irc_message& m);

  // Modes (chat_modes.cpp).
  void on_mode(const irc_message& m);
  void room_mode(chat_room& r, const irc_message& m);
  void user_mode(const irc_message& m);
  void ban_list(const chat_room& r);

  // Messages (chat_messages.cpp).
  void on_message(const irc_message& m);  // PRIVMSG and NOTICE
  void on_away(const irc_message& m);
  void on_wallops(const irc_message& m);

  // Queries (chat_queries.cpp).
  void on_who(const irc_message& m);
  void on_whois(const irc_message& m);
  void whois_one(const chat_client& u);
  void on_whowas(const irc_message& m);
  void on_userhost(const irc_message& m);
  void on_ison(const irc_message& m);
  void on_motd(const irc_message& m);
  void on_lusers(const irc_message& m);
  void lusers();

  // Operators (chat_operators.cpp).
  void on_oper(const irc_message& m);
  void on_kill(const irc_message& m);

  chat_hub& hub_;
  chat_state& st_;
  chat_client* c_;
  hub_output out_;
};

/// Calls f(piece) for each non-empty piece of a comma-separated list.
template <class F>
void for_each_in_list(std::string_view list, F&& f) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto piece = list.substr(0, comma);
    if (!piece.empty()) f(piece);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

/// The i-th piece (0-based) of a comma-separated list, or "" when there are fewer.
inline std::string_view nth_in_list(std::string_view list, std::size_t i) {
  while (i-- > 0) {
    auto comma = list.find(',');
    if (comma == std::string_view::npos) return {};
    list.remove_prefix(comma + 1);
  }
  return list.substr(0, list.find(','));
}

/// At most n bytes of s: untrusted tokens echoed in error replies are clipped.
inline std::string_view clip(std::string_view s, std::size_t n = 64) { return s.substr(0, n); }

/// "@" for an operator, "+" for voice, "" otherwise: the highest prefix only, or all of them
/// ("@+") for a client that enabled CAP multi-prefix.
inline std::string_view prefix_of(const chat_member& m, bool all = false) {
  if (all && m.op && m.voice) return "@+";
  return m.op ? "@" : m.voice ? "+" : "";
}

}  // namespace simul::core
