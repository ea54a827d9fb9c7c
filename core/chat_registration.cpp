// chat_hub registration commands: CAP, NICK, USER, PASS, PING, QUIT, and the welcome burst.
#include <algorithm>
#include <string>
#include <vector>

#include "core/chat_context.hpp"

namespace simul::core {
namespace {

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// A user name safe inside "nick!user@host" and as a middle parameter.
std::string sanitize_user(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (out.size() == user_len) break;
    if (c > ' ' && c < 0x7f && c != '@' && c != '!' && c != ':') out.push_back(c);
  }
  return out.empty() ? std::string("user") : out;
}

// The ISUPPORT tokens of 005, in order.
std::vector<std::string> isupport_tokens(const hub_config& cfg) {
  std::string network = cfg.network.empty() ? std::string("simul") : cfg.network;
  std::replace(network.begin(), network.end(), ' ', '_');
  std::vector<std::string> tokens = {
      "CHANTYPES=#",
      "NICKLEN=" + std::to_string(cfg.nick_len),
      "CHANNELLEN=" + std::to_string(cfg.channel_len),
      "CASEMAPPING=ascii",
      "NETWORK=" + network,
      "CHANMODES=,,,n",
      "TARGMAX=PRIVMSG:" + std::to_string(max_targets) + ",NOTICE:" + std::to_string(max_targets),
      "USERLEN=" + std::to_string(user_len),
      "TOPICLEN=" + std::to_string(topic_len),
  };
  if (cfg.max_rooms_per_user > 0) tokens.push_back("CHANLIMIT=#:" + std::to_string(cfg.max_rooms_per_user));
  return tokens;
}

constexpr std::string_view isupport_tail = "are supported by this server";

}  // namespace

std::size_t min_line_bytes(const hub_config& cfg) {
  const std::string_view server = cfg.server_name.empty() ? std::string_view("simul.local") : cfg.server_name;
  const std::string nick(cfg.nick_len, 'n'), room(cfg.channel_len, '#'), user(user_len, 'u'), host(max_host_len, 'h');
  // ":server 352 nick room user host server nick H :0 " and a real name, which may be cut.
  const auto who = format_message(server, "352", {nick, room, user, host, server, nick, "H", "0 x"}, {1u << 20});
  std::vector<std::string> tokens = isupport_tokens(cfg);
  std::vector<std::string_view> p = {nick};
  for (const auto& t : tokens) p.push_back(t);
  p.push_back(isupport_tail);
  const auto isupport = format_message(server, "005", p, {1u << 20});
  return std::max(who.size() - 1, isupport.size());  // "x" stands for text that may be cut
}

// ---- registration -------------------------------------------------------------------------------

void chat_hub::context::on_cap(const irc_message& m) {
  if (m.size() == 0) return not_enough_params("CAP");
  const auto sub = ascii_upper(m.param(0));
  if (sub == "LS" || sub == "LIST") {
    if (sub == "LS" && !c_->registered) c_->cap_negotiating = true;
    send_self(server_line("CAP", {me(), sub, ""}));  // no capabilities offered
  } else if (sub == "REQ") {
    if (!c_->registered) c_->cap_negotiating = true;
    send_self(server_line("CAP", {me(), "NAK", m.param(1)}));
  } else if (sub == "END") {
    if (c_->cap_negotiating) {
      c_->cap_negotiating = false;
      try_register();
    }
  } else {
    numeric("410", {clip(m.param(0), 32), "Invalid CAP command"});
  }
}

void chat_hub::context::on_nick(const irc_message& m) {
  const auto nick = m.param(0);
  if (nick.empty()) return numeric("431", {"No nickname given"});
  if (!is_valid_nick(nick, hub_.config_.nick_len)) return numeric("432", {clip(nick), "Erroneous nickname"});
  auto it = hub_.nicks_.find(ascii_lower(nick));
  if (it != hub_.nicks_.end() && it->second != c_->id) return numeric("433", {nick, "Nickname is already in use"});
  if (nick == c_->nick) return;
  if (c_->registered) {
    auto to = peers();
    to.push_back(c_->id);  // the user sees its own change too
    send(std::move(to), user_line("NICK", {nick}));  // from the old nick!user@host
  }
  set_nick(nick);
  try_register();
}

void chat_hub::context::set_nick(std::string_view nick) {
  if (!c_->nick.empty()) {
    auto old = hub_.nicks_.find(ascii_lower(c_->nick));
    if (old != hub_.nicks_.end() && old->second == c_->id) hub_.nicks_.erase(old);
  }
  c_->nick = std::string(nick);
  hub_.nicks_[ascii_lower(nick)] = c_->id;
  if (c_->registered) c_->prefix = c_->nick + "!" + c_->user + "@" + c_->host;
}

void chat_hub::context::on_user(const irc_message& m) {
  if (c_->registered || !c_->user.empty()) return numeric("462", {"You may not reregister"});
  if (m.size() < 4 || m.param(0).empty()) return not_enough_params("USER");
  c_->user = sanitize_user(m.param(0));
  c_->realname = std::string(clip(m.param(3), realname_len));
  try_register();
}

void chat_hub::context::on_pass(const irc_message&) {
  // No passwords here; accepted and ignored before registration, as RFC 2812 orders PASS first.
  if (c_->registered) numeric("462", {"You may not reregister"});
}

void chat_hub::context::try_register() {
  if (c_->registered || c_->nick.empty() || c_->user.empty() || c_->cap_negotiating) return;
  c_->registered = true;
  ++hub_.registered_;
  c_->prefix = c_->nick + "!" + c_->user + "@" + c_->host;
  out_.registered_now = true;
  welcome();
}

void chat_hub::context::welcome() {
  const auto& cfg = hub_.config_;
  numeric("001", {"Welcome to the " + cfg.network + " IRC Network " + c_->prefix});
  numeric("002", {"Your host is " + cfg.server_name + ", running version " + cfg.version});
  numeric("003", {"This server was created " + (cfg.created.empty() ? std::string("at startup") : cfg.created)});
  numeric("004", {cfg.server_name, cfg.version, "i", "n"}, false);

  const std::vector<std::string> tokens = isupport_tokens(cfg);
  std::vector<std::string_view> p = {me()};
  for (const auto& t : tokens) p.push_back(t);
  p.push_back(isupport_tail);
  send_self(format_message(cfg.server_name, "005", p, {cfg.max_line_bytes, true}));
  motd();
}

void chat_hub::context::motd() {
  const auto& cfg = hub_.config_;
  if (cfg.motd.empty()) return numeric("422", {"MOTD File is missing"});
  numeric("375", {"- " + cfg.server_name + " Message of the day - "});
  std::string_view text = cfg.motd;
  if (text.back() == '\n') text.remove_suffix(1);
  while (true) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    numeric("372", {"- " + std::string(line)});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  numeric("376", {"End of MOTD command"});
}

void chat_hub::context::on_ping(const irc_message& m) {
  if (m.param(0).empty()) return numeric("409", {"No origin specified"});
  send_self(server_line("PONG", {hub_.config_.server_name, m.param(0)}));
}

void chat_hub::context::on_quit(const irc_message& m) {
  const std::string reason = m.param(0).empty() ? std::string("Client Quit") : std::string(m.param(0));
  send_self(format_message("", "ERROR", {"Closing Link: " + c_->host + " (" + reason + ")"},
                           {hub_.config_.max_line_bytes, true}));
  out_.close = true;
  out_.close_reason = "client quit";
  remove_client(reason, true);
}

}  // namespace simul::core
