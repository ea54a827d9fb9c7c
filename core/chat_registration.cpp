// chat_hub registration commands: CAP, NICK, USER, PASS, PING, QUIT, and the welcome burst
// (001-005 with ISUPPORT, LUSERS, then the MOTD).
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

// The ISUPPORT tokens, one list per 005 line: a line carries 15 parameters, of which the nick
// and the closing text take two.
std::vector<std::vector<std::string>> isupport_lines(const hub_config& cfg) {
  std::string network = cfg.network.empty() ? std::string("simul") : cfg.network;
  std::replace(network.begin(), network.end(), ' ', '_');
  const auto targets = std::to_string(max_targets);
  std::vector<std::string> first = {
      "CHANTYPES=#",
      "NICKLEN=" + std::to_string(cfg.nick_len),
      "CHANNELLEN=" + std::to_string(cfg.channel_len),
      "CASEMAPPING=ascii",
      "NETWORK=" + network,
      "CHANMODES=b,k,l,imnst",
      "PREFIX=(ov)@+",
      "MODES=" + std::to_string(max_mode_params),
      "TARGMAX=PRIVMSG:" + targets + ",NOTICE:" + targets + ",KICK:" + targets,
  };
  std::vector<std::string> second = {
      "USERLEN=" + std::to_string(user_len),   "TOPICLEN=" + std::to_string(topic_len),
      "KICKLEN=" + std::to_string(kick_len),   "AWAYLEN=" + std::to_string(away_len),
      "MAXLIST=b:" + std::to_string(max_bans),
  };
  if (cfg.max_rooms_per_user > 0) second.push_back("CHANLIMIT=#:" + std::to_string(cfg.max_rooms_per_user));
  return {first, second};
}

// One 005 line for `nick`, uncut unless `max_bytes` says so.
std::string isupport_line(const hub_config& cfg, std::string_view nick, const std::vector<std::string>& tokens,
                          std::size_t max_bytes) {
  std::vector<std::string_view> p = {nick};
  for (const auto& t : tokens) p.push_back(t);
  p.push_back(num::rpl_isupport.text);
  return format_message(cfg.server_name, num::rpl_isupport.code, p, {max_bytes, true});
}

}  // namespace

std::size_t min_line_bytes(const hub_config& cfg) {
  const std::string_view server = cfg.server_name.empty() ? std::string_view("simul.local") : cfg.server_name;
  const std::string nick(cfg.nick_len, 'n'), room(cfg.channel_len, '#'), user(user_len, 'u'), host(max_host_len, 'h');
  // ":server 352 nick room user host server nick G*@+ :0 " and a real name, which may be cut.
  const auto who = format_message(server, "352", {nick, room, user, host, server, nick, "G*@+", "0 x"}, {1u << 20});
  std::size_t widest = who.size() - 1;  // "x" stands for text that may be cut
  for (const auto& tokens : isupport_lines(cfg)) widest = std::max(widest, isupport_line(cfg, nick, tokens, 1u << 20).size());
  return widest;
}

// ---- registration -------------------------------------------------------------------------------

void chat_hub::context::on_cap(const irc_message& m) {
  const auto sub = ascii_upper(m.param(0));
  if (sub == "LS") {
    if (!c_->registered) c_->cap_negotiating = true;
    send_self(server_line("CAP", {me(), sub, "multi-prefix"}));  // the one capability offered
  } else if (sub == "LIST") {
    send_self(server_line("CAP", {me(), sub, c_->multi_prefix ? "multi-prefix" : ""}));
  } else if (sub == "REQ") {
    if (!c_->registered) c_->cap_negotiating = true;
    // All or nothing: every capability asked for (or "-cap" to drop it) must be known.
    bool known = true, enable = c_->multi_prefix;
    const auto list = m.param(1);
    std::size_t i = 0;
    while (i < list.size()) {
      auto end = list.find(' ', i);
      if (end == std::string_view::npos) end = list.size();
      auto cap = list.substr(i, end - i);
      i = end + 1;
      if (cap.empty()) continue;
      const bool off = cap.front() == '-';
      if (off) cap.remove_prefix(1);
      if (ascii_lower(cap) != "multi-prefix") known = false;
      enable = !off;
    }
    if (known && !list.empty()) c_->multi_prefix = enable;
    send_self(server_line("CAP", {me(), known && !list.empty() ? "ACK" : "NAK", list}));
  } else if (sub == "END") {
    if (c_->cap_negotiating) {
      c_->cap_negotiating = false;
      try_register();
    }
  } else {
    reply(num::err_invalidcapcmd, {clip(m.param(0), 32)});
  }
}

void chat_hub::context::on_nick(const irc_message& m) {
  const auto nick = m.param(0);
  if (nick.empty()) return reply(num::err_nonicknamegiven);
  if (!is_valid_nick(nick, cfg().nick_len)) return reply(num::err_erroneusnickname, {clip(nick)});
  const chat_client* owner = st_.find_nick(nick);
  if (owner != nullptr && owner != c_) return reply(num::err_nicknameinuse, {nick});
  if (nick == c_->nick) return;
  if (c_->registered) {
    auto to = st_.peers(*c_);
    to.push_back(c_->id);  // the user sees its own change too
    send(std::move(to), user_line("NICK", {nick}));  // from the old nick!user@host
    st_.remember(*c_, now());
  }
  st_.rename(*c_, nick);
  try_register();
}

void chat_hub::context::on_user(const irc_message& m) {
  // dispatch() answered 462 (already registered) and 461 (fewer than 4, or an empty realname).
  c_->user = sanitize_user(m.param(0));
  c_->realname = std::string(clip(m.param(3), realname_len));
  try_register();
}

void chat_hub::context::on_pass(const irc_message&) {
  // No passwords here; accepted and ignored before registration, as RFC 2812 orders PASS first.
  if (c_->registered) reply(num::err_alreadyregistered);
}

void chat_hub::context::try_register() {
  if (c_->registered || c_->nick.empty() || c_->user.empty() || c_->cap_negotiating) return;
  st_.mark_registered(*c_, now());
  out_.registered_now = true;
  welcome();
}

void chat_hub::context::welcome() {
  reply(num::rpl_welcome, {"Welcome to the " + cfg().network + " IRC Network " + c_->prefix});
  reply(num::rpl_yourhost, {"Your host is " + cfg().server_name + ", running version " + cfg().version});
  reply(num::rpl_created,
        {"This server was created " + (cfg().created.empty() ? std::string("at startup") : cfg().created)});
  // <server> <version> <user modes> <channel modes> <channel modes taking a parameter>
  reply(num::rpl_myinfo, {cfg().server_name, cfg().version, "iow", "biklmnostv", "bklov"}, false);
  isupport();
  lusers();  // as most servers do; clients such as irssi learn the room count from 254
  motd();
}

void chat_hub::context::isupport() {
  for (const auto& tokens : isupport_lines(cfg())) send_self(isupport_line(cfg(), me(), tokens, cfg().max_line_bytes));
}

void chat_hub::context::motd() {
  if (cfg().motd.empty()) return reply(num::err_nomotd);
  reply(num::rpl_motdstart, {"- " + cfg().server_name + " Message of the day - "});
  std::string_view text = cfg().motd;
  if (text.back() == '\n') text.remove_suffix(1);
  while (true) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    reply(num::rpl_motd, {"- " + std::string(line)});
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  reply(num::rpl_endofmotd);
}

void chat_hub::context::on_ping(const irc_message& m) {
  if (m.param(0).empty()) return reply(num::err_noorigin);
  send_self(server_line("PONG", {cfg().server_name, m.param(0)}));
}

void chat_hub::context::on_quit(const irc_message& m) {
  const std::string reason = m.param(0).empty() ? std::string("Client Quit") : std::string(m.param(0));
  send_self(format_message("", "ERROR", {"Closing Link: " + c_->host + " (" + reason + ")"},
                           {cfg().max_line_bytes, true}));
  out_.close = true;
  remove_client(reason, true);
}

}  // namespace simul::core
