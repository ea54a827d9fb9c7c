// chat_hub MODE: channel modes (b k l i m n s t, member prefixes o v) and user modes (i w o).
#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

#include "core/chat_context.hpp"
#include "core/irc_mask.hpp"

namespace simul::core {
namespace {

// The applied changes of one MODE command, in order, as "+o-v" and their parameters.
struct mode_changes {
  std::string modes;
  std::vector<std::string> args;
  char sign = 0;

  void add(bool plus, char mode, std::string arg = {}) {
    const char s = plus ? '+' : '-';
    if (sign != s) modes.push_back(sign = s);
    modes.push_back(mode);
    if (!arg.empty()) args.push_back(std::move(arg));
  }
};

bool set_flag(bool& flag, bool on) {
  if (flag == on) return false;
  flag = on;
  return true;
}

}  // namespace

void chat_hub::context::on_mode(const irc_message& m) {
  const auto target = m.param(0);
  if (target.front() == '#') {
    chat_room* r = st_.find_room(target);
    if (r == nullptr) return reply(num::err_nosuchchannel, {clip(target)});
    return room_mode(*r, m);
  }
  user_mode(m);
}

void chat_hub::context::ban_list(const chat_room& r) {
  for (const auto& b : r.bans) reply(num::rpl_banlist, {r.name, b.mask, b.set_by, std::to_string(b.set_at)}, false);
  reply(num::rpl_endofbanlist, {r.name});
}

void chat_hub::context::room_mode(chat_room& r, const irc_message& m) {
  const chat_member* mine = r.member(c_->id);
  if (m.size() == 1) {
    const auto modes = r.mode_params(mine != nullptr);
    std::vector<std::string_view> p = {me(), r.name};
    for (const auto& s : modes) p.push_back(s);
    send_self(format_message(cfg().server_name, num::rpl_channelmodeis.code, p, {cfg().max_line_bytes, false}));
    return reply(num::rpl_creationtime, {r.name, std::to_string(r.created)}, false);
  }
  const bool op = mine != nullptr && mine->op;
  std::size_t next_arg = 2;
  std::size_t used_args = 0;
  auto take_arg = [&]() -> std::string_view {
    if (next_arg >= m.size() || used_args == max_mode_params) return {};
    ++used_args;
    return m.param(next_arg++);
  };
  bool plus = true, denied = false, listed = false;
  mode_changes done;
  auto allowed = [&]() {
    if (op) return true;
    if (!denied) reply(num::err_chanoprivsneeded, {r.name});
    denied = true;
    return false;
  };
  for (char ch : m.param(1)) {
    switch (ch) {
      case '+':
      case '-':
        plus = ch == '+';
        break;
      case 'b': {
        const auto arg = take_arg();
        if (arg.empty()) {
          if (!listed) ban_list(r);
          listed = true;
          break;
        }
        if (!allowed()) break;
        auto mask = normalize_mask(arg);
        auto same = [&](const chat_ban& b) { return ascii_lower(b.mask) == ascii_lower(mask); };
        auto it = std::find_if(r.bans.begin(), r.bans.end(), same);
        if (plus && it == r.bans.end()) {
          if (r.bans.size() >= max_bans) {
            reply(num::err_banlistfull, {r.name, "b"});
            break;
          }
          r.bans.push_back({mask, c_->nick, now()});
          done.add(true, 'b', std::move(mask));
        } else if (!plus && it != r.bans.end()) {
          done.add(false, 'b', it->mask);
          r.bans.erase(it);
        }
        break;
      }
      case 'o':
      case 'v': {
        const auto arg = take_arg();
        if (arg.empty() || !allowed()) break;
        chat_client* u = st_.find_user(arg);
        if (u == nullptr) {
          reply(num::err_nosuchnick, {clip(arg)});
          break;
        }
        chat_member* target = r.member(u->id);
        if (target == nullptr) {
          reply(num::err_usernotinchannel, {u->nick, r.name});
          break;
        }
        if (set_flag(ch == 'o' ? target->op : target->voice, plus)) done.add(plus, ch, u->nick);
        break;
      }
      case 'k': {
        const auto arg = take_arg();  // optional when removing
        if ((plus && arg.empty()) || !allowed()) break;
        if (plus) {
          std::string key(clip(arg, key_len));
          for (auto& k : key) {
            if (k == ',' || k == ' ' || k == ':') k = '_';  // would split JOIN's keys or the MODE line
          }
          if (key == r.key) break;
          r.key = key;
          done.add(true, 'k', std::move(key));
        } else if (!r.key.empty()) {
          r.key.clear();
          done.add(false, 'k', "*");
        }
        break;
      }
      case 'l': {
        if (!plus) {
          if (allowed() && r.limit != 0) {
            r.limit = 0;
            done.add(false, 'l');
          }
          break;
        }
        const auto arg = take_arg();
        if (arg.empty() || !allowed()) break;
        std::size_t n = 0;
        auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
        if (ec != std::errc{} || end != arg.data() + arg.size() || n == 0 || n == r.limit) break;
        r.limit = n;
        done.add(true, 'l', std::to_string(n));
        break;
      }
      case 'i':
      case 'm':
      case 'n':
      case 's':
      case 't': {
        if (!allowed()) break;
        bool& flag = ch == 'i' ? r.invite_only
                     : ch == 'm' ? r.moderated
                     : ch == 'n' ? r.no_external
                     : ch == 's' ? r.secret
                                 : r.topic_ops;
        if (set_flag(flag, plus)) done.add(plus, ch);
        break;
      }
      default:
        reply(num::err_unknownmode, {std::string_view(&ch, 1)});
        break;
    }
  }
  if (done.modes.empty()) return;
  std::vector<std::string_view> p = {r.name, done.modes};
  for (const auto& a : done.args) p.push_back(a);
  send(member_ids(r), format_message(c_->prefix, "MODE", p, {cfg().max_line_bytes, false}));
}

void chat_hub::context::user_mode(const irc_message& m) {
  const chat_client* u = st_.find_nick(m.param(0));
  if (u == nullptr) return reply(num::err_nosuchnick, {clip(m.param(0))});
  if (u != c_) return reply(num::err_usersdontmatch);
  if (m.size() == 1) {
    std::string modes = "+";
    if (c_->invisible) modes += 'i';
    if (c_->oper) modes += 'o';
    if (c_->wallops) modes += 'w';
    return reply(num::rpl_umodeis, {modes}, false);
  }
  bool plus = true, unknown = false;
  mode_changes done;
  for (char ch : m.param(1)) {
    if (ch == '+' || ch == '-') {
      plus = ch == '+';
    } else if (ch == 'i' || ch == 'w') {
      if (set_flag(ch == 'i' ? c_->invisible : c_->wallops, plus)) done.add(plus, ch);
    } else if (ch == 'o') {
      if (!plus && c_->oper) {  // one may drop operator status, never take it (OPER does)
        st_.set_oper(*c_, false);
        done.add(false, 'o');
      }
    } else {
      unknown = true;
    }
  }
  if (!done.modes.empty()) send_self(user_line("MODE", {c_->nick, done.modes}));
  if (unknown) reply(num::err_umodeunknownflag);
}

}  // namespace simul::core
