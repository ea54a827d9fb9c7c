// Internal to the chat hub (not for servers): client and room state, and the per-call context that
// runs one command and collects its deliveries. Shared by chat_hub.cpp and chat_commands.cpp.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/chat_hub.hpp"
#include "core/irc_message.hpp"

namespace simul::core {

inline constexpr std::size_t user_len = 16;      // ISUPPORT USERLEN
inline constexpr std::size_t topic_len = 390;    // ISUPPORT TOPICLEN
inline constexpr std::size_t realname_len = 128;
inline constexpr std::size_t max_targets = 4;    // ISUPPORT TARGMAX for PRIVMSG and NOTICE

struct chat_hub::client {
  client_id id = 0;
  std::string host;
  std::string nick;                // empty until NICK
  std::string user;                // empty until USER
  std::string realname;
  std::string prefix;              // "nick!user@host", kept current once registered
  std::vector<std::string> rooms;  // ascii_lower() keys of joined rooms, in join order
  bool cap_negotiating = false;    // CAP LS/REQ seen: registration waits for CAP END
  bool registered = false;
  bool invisible = false;          // user mode +i (reported only)
};

struct chat_hub::room {
  std::string name;                 // as spelled by its creator
  std::string topic;
  std::vector<client_id> members;   // join order
};

/// Runs one hub call for one acting client and collects the output. After the client has been
/// removed (QUIT, error) it must not be touched: c_ becomes null.
class chat_hub::context {
 public:
  context(chat_hub& hub, client& c) : hub_(hub), c_(&c) {}

  hub_output take() { return std::move(out_); }

  void dispatch(const irc_message& m);
  void parse_error(std::error_code ec, std::string_view line);
  void line_too_long();
  void error_and_close(std::string_view msg);
  /// Removes the client; peers sharing a room see QUIT :reason when `broadcast`.
  void remove_client(std::string_view reason, bool broadcast);

 private:
  using params = std::initializer_list<std::string_view>;

  // Output.
  std::string_view me() const;  // the target of replies: nick, or "*" before one is set
  void send_self(std::string line);
  void send(std::vector<client_id> to, std::string line);
  std::string server_line(std::string_view command, params p, bool trailing = true) const;
  std::string user_line(std::string_view command, params p, bool trailing = true) const;
  void numeric(std::string_view code, params p, bool trailing = true);
  void not_enough_params(std::string_view command);
  std::vector<client_id> peers() const;  // everyone sharing a room with c_, without c_

  // Registration.
  void try_register();
  void welcome();
  void motd();
  void set_nick(std::string_view nick);

  // Rooms.
  room* find_room(std::string_view name) const;
  bool is_member(const std::string& key) const;
  void join_one(std::string_view name);
  void part_one(std::string_view name, std::string_view reason, bool has_reason);
  void leave_room(std::string key);  // membership only, no messages
  void names_of(const room& r);
  void topic_of(const room& r);

  // Commands.
  void on_cap(const irc_message& m);
  void on_nick(const irc_message& m);
  void on_user(const irc_message& m);
  void on_pass(const irc_message& m);
  void on_ping(const irc_message& m);
  void on_quit(const irc_message& m);
  void on_join(const irc_message& m);
  void on_part(const irc_message& m);
  void on_topic(const irc_message& m);
  void on_names(const irc_message& m);
  void on_list(const irc_message& m);
  void on_message(const irc_message& m);  // PRIVMSG and NOTICE
  void on_mode(const irc_message& m);
  void on_who(const irc_message& m);
  void on_whois(const irc_message& m);
  void on_userhost(const irc_message& m);
  void on_ison(const irc_message& m);
  void on_motd(const irc_message& m);
  void on_lusers(const irc_message& m);

  chat_hub& hub_;
  client* c_;
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

/// At most n bytes of s: untrusted tokens echoed in error replies are clipped.
inline std::string_view clip(std::string_view s, std::size_t n = 64) { return s.substr(0, n); }

}  // namespace simul::core
