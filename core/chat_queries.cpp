// chat_hub query commands: WHO, WHOIS, USERHOST, ISON, MOTD and LUSERS.
#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "core/chat_context.hpp"
#include "core/irc_mask.hpp"

namespace simul::core {
namespace {

// WHO flags: H here or G gone (away), '*' for a server operator, then the member's prefix(es).
std::string who_flags(const chat_client& u, const chat_member* mb, bool multi_prefix) {
  std::string f = u.away.empty() ? "H" : "G";
  if (u.oper) f += '*';
  if (mb != nullptr) f += prefix_of(*mb, multi_prefix);
  return f;
}

// "Mon Nov 30 04:14:27 2026 UTC": when a WHOWAS entry stopped being used.
std::string utc_time(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  const auto n = std::strftime(buf, sizeof buf, "%a %b %d %H:%M:%S %Y UTC", &tm);
  return std::string(buf, n);
}

}  // namespace

void chat_hub::context::on_who(const irc_message& m) {
  const auto mask = m.param(0);
  if (mask.empty()) return reply(num::rpl_endofwho, {"*"});
  const bool opers_only = m.param(1) == "o";
  const auto& srv = cfg().server_name;
  auto row = [&](const chat_client& u, std::string_view room, const chat_member* mb) {
    if (opers_only && !u.oper) return;
    reply(num::rpl_whoreply, {room, u.user, u.host, srv, u.nick, who_flags(u, mb, c_->multi_prefix), "0 " + u.realname});
  };
  if (mask.front() == '#') {
    const chat_room* r = st_.find_room(mask);
    if (r != nullptr && can_see(*r)) {
      const bool inside = st_.is_member(*c_, *r);
      for (const auto& mb : r->members) {
        const chat_client* u = st_.find(mb.id);
        if (u != nullptr && (inside || can_see(*u))) row(*u, r->name, &mb);
      }
    }
  } else {
    // A nick, or a mask matched against nick, user, host and realname ("0" and "*": everyone).
    const bool all = mask == "0" || mask == "*";
    std::vector<const chat_client*> found;
    for (const auto& [id, u] : st_.clients()) {
      if (!u->registered || !can_see(*u)) continue;
      if (all || mask_match(mask, u->nick) || mask_match(mask, u->user) || mask_match(mask, u->host) ||
          mask_match(mask, u->realname)) {
        found.push_back(u.get());
      }
    }
    std::sort(found.begin(), found.end(), [](auto* a, auto* b) { return a->nick < b->nick; });
    for (const auto* u : found) row(*u, "*", nullptr);
  }
  reply(num::rpl_endofwho, {clip(mask)});
}

void chat_hub::context::on_whois(const irc_message& m) {
  const auto list = m.param(m.size() == 0 ? 0 : m.size() - 1);  // "WHOIS [server] nick"
  if (list.empty()) return reply(num::err_nonicknamegiven);
  for_each_in_list(list, [&](std::string_view nick) {
    const chat_client* u = st_.find_user(nick);
    if (u == nullptr) {
      reply(num::err_nosuchnick, {clip(nick)});
    } else {
      whois_one(*u);
    }
    reply(num::rpl_endofwhois, {u == nullptr ? clip(nick) : std::string_view(u->nick)});
  });
}

void chat_hub::context::whois_one(const chat_client& u) {
  reply(num::rpl_whoisuser, {u.nick, u.user, u.host, "*", u.realname});
  std::string rooms;
  for (const auto& key : u.rooms) {
    const chat_room* r = st_.find_room(key);
    if (r == nullptr || !can_see(*r)) continue;  // secret rooms only for their members
    if (!rooms.empty()) rooms += ' ';
    rooms += std::string(prefix_of(*r->member(u.id))) + r->name;
  }
  if (!rooms.empty()) reply(num::rpl_whoischannels, {u.nick, rooms});
  reply(num::rpl_whoisserver, {u.nick, cfg().server_name, cfg().network});
  if (u.oper) reply(num::rpl_whoisoperator, {u.nick});
  if (!u.away.empty()) reply(num::rpl_away, {u.nick, u.away});
  const auto idle = std::max<std::int64_t>(0, now() - u.last_message);
  reply(num::rpl_whoisidle, {u.nick, std::to_string(idle), std::to_string(u.signon)});
}

void chat_hub::context::on_whowas(const irc_message& m) {
  if (m.param(0).empty()) return reply(num::err_nonicknamegiven);
  std::size_t max = 0;
  for (char ch : m.param(1)) {
    if (ch < '0' || ch > '9' || max > 1000) break;
    max = max * 10 + static_cast<std::size_t>(ch - '0');
  }
  for_each_in_list(m.param(0), [&](std::string_view nick) {
    const auto found = st_.history(nick, max);
    if (found.empty()) reply(num::err_wasnosuchnick, {clip(nick)});
    for (const chat_past* p : found) {
      reply(num::rpl_whowasuser, {p->nick, p->user, p->host, "*", p->realname});
      reply(num::rpl_whoisserver, {p->nick, cfg().server_name, utc_time(p->until)});
    }
    reply(num::rpl_endofwhowas, {clip(nick)});
  });
}

void chat_hub::context::on_userhost(const irc_message& m) {
  std::string out;
  for (std::size_t i = 0; i < m.size() && i < 5; ++i) {
    const chat_client* u = st_.find_user(m.param(i));
    if (u == nullptr) continue;
    if (!out.empty()) out += ' ';
    out += u->nick + (u->oper ? "*" : "") + (u->away.empty() ? "=+" : "=-") + u->user + "@" + u->host;
  }
  reply(num::rpl_userhost, {out});
}

void chat_hub::context::on_ison(const irc_message& m) {
  std::string out;
  for (auto p : m.params()) {
    while (!p.empty()) {  // "ISON a b" and "ISON :a b" both work
      auto sp = p.find(' ');
      auto nick = p.substr(0, sp);
      p.remove_prefix(sp == std::string_view::npos ? p.size() : sp + 1);
      if (nick.empty()) continue;
      const chat_client* u = st_.find_user(nick);
      if (u == nullptr) continue;
      if (!out.empty()) out += ' ';
      out += u->nick;
    }
  }
  reply(num::rpl_ison, {out});
}

void chat_hub::context::on_motd(const irc_message&) { motd(); }

void chat_hub::context::on_lusers(const irc_message&) { lusers(); }

void chat_hub::context::lusers() {
  const auto users = st_.users();
  const auto invisible = st_.invisible();
  reply(num::rpl_luserclient, {"There are " + std::to_string(users - invisible) + " users and " +
                               std::to_string(invisible) + " invisible on 1 servers"});
  if (st_.opers() > 0) reply(num::rpl_luserop, {std::to_string(st_.opers())});
  const auto unknown = st_.clients().size() - users;
  if (unknown > 0) reply(num::rpl_luserunknown, {std::to_string(unknown)});
  reply(num::rpl_luserchannels, {std::to_string(st_.rooms().size())});
  reply(num::rpl_luserme, {"I have " + std::to_string(users) + " clients and 0 servers"});
  const auto n = std::to_string(users), max = std::to_string(st_.max_users());
  reply(num::rpl_localusers, {n, max, "Current local users " + n + ", max " + max});
  reply(num::rpl_globalusers, {n, max, "Current global users " + n + ", max " + max});
}

}  // namespace simul::core
