// chat_hub messages: PRIVMSG and NOTICE (to rooms and nicks), AWAY, WALLOPS.
#include <algorithm>
#include <string>
#include <vector>

#include "core/chat_context.hpp"

namespace simul::core {

void chat_hub::context::on_message(const irc_message& m) {
  // RFC 2812 3.3.2: automatic replies (errors included) must never be sent for a NOTICE.
  const bool notice = m.command == "NOTICE";
  auto error = [&](const numeric_reply& n, params p = {}) {
    if (!notice) reply(n, p);
  };
  if (m.param(0).empty()) return error(num::err_norecipient, {"No recipient given (" + m.command + ")"});
  const auto text = m.param(1);
  if (text.empty()) return error(num::err_notexttosend);
  c_->last_message = now();
  std::size_t count = 0;
  for_each_in_list(m.param(0), [&](std::string_view target) {
    if (++count > max_targets) return error(num::err_toomanytargets, {clip(target)});
    if (target.front() == '#') {
      const chat_room* r = st_.find_room(target);
      if (r == nullptr) return error(num::err_nosuchnick, {clip(target)});
      const chat_member* mine = r->member(c_->id);
      const bool privileged = mine != nullptr && (mine->op || mine->voice);
      if ((mine == nullptr && r->no_external) || (r->moderated && !privileged) ||
          (!privileged && r->is_banned(*c_))) {
        return error(num::err_cannotsendtochan, {r->name});
      }
      return send(member_ids(*r, c_->id), user_line(m.command, {r->name, text}));  // not to the sender
    }
    const chat_client* u = st_.find_user(target);
    if (u == nullptr) return error(num::err_nosuchnick, {clip(target)});
    send({u->id}, user_line(m.command, {u->nick, text}));
    if (!u->away.empty()) error(num::rpl_away, {u->nick, u->away});
  });
}

void chat_hub::context::on_away(const irc_message& m) {
  if (m.param(0).empty()) {
    c_->away.clear();
    return reply(num::rpl_unaway);
  }
  c_->away = std::string(clip(m.param(0), away_len));
  reply(num::rpl_nowaway);
}

void chat_hub::context::on_wallops(const irc_message& m) {
  if (!c_->oper) return reply(num::err_noprivileges);
  std::vector<client_id> to;
  for (const auto& [id, u] : st_.clients()) {
    if (u->registered && u->wallops) to.push_back(id);
  }
  std::sort(to.begin(), to.end());
  send(std::move(to), user_line("WALLOPS", {m.param(0)}));
}

}  // namespace simul::core
