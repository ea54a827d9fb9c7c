// chat_hub query commands, answered minimally so clients are content: MODE, WHO, WHOIS,
// USERHOST, ISON, MOTD, LUSERS.
#include <string>

#include "core/chat_context.hpp"

namespace simul::core {

// ---- queries ------------------------------------------------------------------------------------

void chat_hub::context::on_mode(const irc_message& m) {
  const auto target = m.param(0);
  if (target.empty()) return not_enough_params("MODE");
  if (target.front() == '#') {
    room* r = find_room(target);
    if (r == nullptr) return numeric("403", {clip(target), "No such channel"});
    if (m.size() == 1) return numeric("324", {r->name, "+n"}, false);
    const auto modes = m.param(1);
    if (m.size() == 2 && (modes == "b" || modes == "+b")) return numeric("368", {r->name, "End of channel ban list"});
    return numeric("482", {r->name, "You're not channel operator"});  // nobody is: no operators here
  }
  auto it = hub_.nicks_.find(ascii_lower(target));
  if (it == hub_.nicks_.end()) return numeric("401", {clip(target), "No such nick/channel"});
  if (it->second != c_->id) return numeric("502", {"Cant change mode for other users"});
  if (m.size() == 1) return numeric("221", {c_->invisible ? "+i" : "+"}, false);
  bool add = true, unknown = false;
  char sign = 0;
  std::string applied;
  for (char ch : m.param(1)) {
    if (ch == '+' || ch == '-') {
      add = ch == '+';
    } else if (ch == 'i') {
      if (c_->invisible == add) continue;
      c_->invisible = add;
      if (sign != (add ? '+' : '-')) applied.push_back(sign = add ? '+' : '-');
      applied.push_back('i');
    } else {
      unknown = true;
    }
  }
  if (!applied.empty()) send_self(user_line("MODE", {c_->nick, applied}));
  if (unknown) numeric("501", {"Unknown MODE flag"});
}

void chat_hub::context::on_who(const irc_message& m) {
  const auto mask = m.param(0);
  if (mask.empty()) return numeric("315", {"*", "End of WHO list"});
  const auto& srv = hub_.config_.server_name;
  auto reply = [&](const client& u, std::string_view chan) {
    numeric("352", {chan, u.user, u.host, srv, u.nick, "H", "0 " + u.realname});
  };
  if (mask.front() == '#') {
    if (room* r = find_room(mask)) {
      for (auto id : r->members) reply(*hub_.clients_.at(id), r->name);
    }
  } else if (auto it = hub_.nicks_.find(ascii_lower(mask)); it != hub_.nicks_.end()) {
    const auto& u = *hub_.clients_.at(it->second);
    if (u.registered) reply(u, "*");
  }
  numeric("315", {clip(mask), "End of WHO list"});
}

void chat_hub::context::on_whois(const irc_message& m) {
  const auto list = m.param(m.size() == 0 ? 0 : m.size() - 1);  // "WHOIS [server] nick"
  if (list.empty()) return numeric("431", {"No nickname given"});
  const auto& cfg = hub_.config_;
  for_each_in_list(list, [&](std::string_view nick) {
    auto it = hub_.nicks_.find(ascii_lower(nick));
    const client* u = it == hub_.nicks_.end() ? nullptr : hub_.clients_.at(it->second).get();
    if (u == nullptr || !u->registered) {
      numeric("401", {clip(nick), "No such nick/channel"});
    } else {
      numeric("311", {u->nick, u->user, u->host, "*", u->realname});
      if (!u->rooms.empty()) {
        std::string chans;
        for (const auto& key : u->rooms) {
          if (!chans.empty()) chans += ' ';
          chans += hub_.rooms_.at(key)->name;
        }
        numeric("319", {u->nick, chans});
      }
      numeric("312", {u->nick, cfg.server_name, cfg.network});
    }
    numeric("318", {clip(nick), "End of WHOIS list"});
  });
}

void chat_hub::context::on_userhost(const irc_message& m) {
  if (m.size() == 0) return not_enough_params("USERHOST");
  std::string reply;
  for (std::size_t i = 0; i < m.size() && i < 5; ++i) {
    auto it = hub_.nicks_.find(ascii_lower(m.param(i)));
    if (it == hub_.nicks_.end()) continue;
    const auto& u = *hub_.clients_.at(it->second);
    if (!u.registered) continue;
    if (!reply.empty()) reply += ' ';
    reply += u.nick + "=+" + u.user + "@" + u.host;
  }
  numeric("302", {reply});
}

void chat_hub::context::on_ison(const irc_message& m) {
  if (m.size() == 0) return not_enough_params("ISON");
  std::string reply;
  for (auto p : m.params()) {
    while (!p.empty()) {  // "ISON a b" and "ISON :a b" both work
      auto sp = p.find(' ');
      auto nick = p.substr(0, sp);
      p.remove_prefix(sp == std::string_view::npos ? p.size() : sp + 1);
      if (nick.empty()) continue;
      auto it = hub_.nicks_.find(ascii_lower(nick));
      if (it == hub_.nicks_.end() || !hub_.clients_.at(it->second)->registered) continue;
      if (!reply.empty()) reply += ' ';
      reply += hub_.clients_.at(it->second)->nick;
    }
  }
  numeric("303", {reply});
}

void chat_hub::context::on_motd(const irc_message&) { motd(); }

void chat_hub::context::on_lusers(const irc_message&) {
  const auto users = std::to_string(hub_.registered_);
  numeric("251", {"There are " + users + " users and 0 invisible on 1 servers"});
  const auto unknown = hub_.clients_.size() - hub_.registered_;
  if (unknown > 0) numeric("253", {std::to_string(unknown), "unknown connection(s)"});
  numeric("254", {std::to_string(hub_.rooms_.size()), "channels formed"});
  numeric("255", {"I have " + users + " clients and 0 servers"});
}

}  // namespace simul::core
