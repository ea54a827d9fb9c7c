// chat_hub room commands: JOIN (with keys), PART, TOPIC, NAMES, LIST, KICK and INVITE.
// Each handler checks the command, calls chat_state for the change, and describes it to clients.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/chat_context.hpp"

namespace simul::core {

bool chat_hub::context::can_see(const chat_room& r) const { return !r.secret || st_.is_member(*c_, r); }

bool chat_hub::context::can_see(const chat_client& u) const {
  return !u.invisible || c_->oper || st_.shares_room(*c_, u);
}

// ---- JOIN and PART ------------------------------------------------------------------------------

void chat_hub::context::on_join(const irc_message& m) {
  const auto list = m.param(0);
  if (list == "0") {  // leave every room
    const auto keys = c_->rooms;
    for (const auto& key : keys) {
      if (chat_room* r = st_.find_room(key)) part_one(r->name, {}, false);
    }
    return;
  }
  const auto keys = m.param(1);
  std::size_t i = 0;
  for_each_in_list(list, [&](std::string_view name) { join_one(name, nth_in_list(keys, i++)); });
}

void chat_hub::context::join_one(std::string_view name, std::string_view key) {
  if (!is_valid_channel(name, cfg().channel_len)) return reply(num::err_nosuchchannel, {clip(name)});
  chat_room* existing = st_.find_room(name);
  if (existing != nullptr && st_.is_member(*c_, *existing)) return;
  const auto limit = cfg().max_rooms_per_user;
  if (limit > 0 && c_->rooms.size() >= limit) return reply(num::err_toomanychannels, {name});
  if (existing != nullptr) {
    const chat_room& r = *existing;
    const bool invited = std::find(c_->invites.begin(), c_->invites.end(), r.serial) != c_->invites.end();
    if (!invited && r.is_banned(*c_)) return reply(num::err_bannedfromchan, {r.name});
    if (!invited && r.invite_only) return reply(num::err_inviteonlychan, {r.name});
    if (!r.key.empty() && key != r.key) return reply(num::err_badchannelkey, {r.name});
    if (r.limit > 0 && r.members.size() >= r.limit) return reply(num::err_channelisfull, {r.name});
  }
  chat_room& r = st_.join(*c_, name, now());
  send(member_ids(r), user_line("JOIN", {r.name}, false));  // everyone, the joiner included
  if (!r.topic.empty()) topic_of(r);  // no 331 on JOIN when there is no topic
  names_of(r);
  reply(num::rpl_endofnames, {r.name});
}

void chat_hub::context::on_part(const irc_message& m) {
  const bool has_reason = m.size() > 1;
  const auto reason = m.param(1);
  for_each_in_list(m.param(0), [&](std::string_view name) { part_one(name, reason, has_reason); });
}

void chat_hub::context::part_one(std::string_view name, std::string_view reason, bool has_reason) {
  chat_room* r = st_.find_room(name);
  if (r == nullptr) return reply(num::err_nosuchchannel, {clip(name)});
  if (!st_.is_member(*c_, *r)) return reply(num::err_notonchannel, {r->name});
  send(member_ids(*r), has_reason ? user_line("PART", {r->name, reason}) : user_line("PART", {r->name}, false));
  st_.leave(*c_, *r);  // r may be deleted here
}

// ---- TOPIC --------------------------------------------------------------------------------------

void chat_hub::context::on_topic(const irc_message& m) {
  chat_room* r = st_.find_room(m.param(0));
  if (r == nullptr) return reply(num::err_nosuchchannel, {clip(m.param(0))});
  const chat_member* mine = r->member(c_->id);
  if (m.size() == 1) {
    if (!can_see(*r)) return reply(num::err_notonchannel, {r->name});
    return topic_of(*r);
  }
  if (mine == nullptr) return reply(num::err_notonchannel, {r->name});
  if (r->topic_ops && !mine->op) return reply(num::err_chanoprivsneeded, {r->name});
  r->topic = std::string(clip(m.param(1), topic_len));
  r->topic_by = c_->nick;
  r->topic_at = now();
  send(member_ids(*r), user_line("TOPIC", {r->name, r->topic}));
}

void chat_hub::context::topic_of(const chat_room& r) {
  if (r.topic.empty()) return reply(num::rpl_notopic, {r.name});
  reply(num::rpl_topic, {r.name, r.topic});
  reply(num::rpl_topicwhotime, {r.name, r.topic_by, std::to_string(r.topic_at)}, false);
}

// ---- NAMES and LIST -----------------------------------------------------------------------------

namespace {

// Collects words into lines "<head><w> <w> ..." no longer than `budget`, calling emit(line) for each.
class word_lines {
 public:
  word_lines(std::string head, std::size_t budget) : head_(std::move(head)), budget_(budget), line_(head_) {}
  template <class Emit>
  void add(std::string_view w, Emit&& emit) {
    if (any_ && line_.size() + 1 + w.size() > budget_) flush(emit);
    if (any_) line_ += ' ';
    line_ += w;
    any_ = true;
  }
  template <class Emit>
  void flush(Emit&& emit) {
    if (!any_) return;
    if (line_.size() > budget_) line_.resize(budget_);
    emit(std::exchange(line_, head_) + "\r\n");
    any_ = false;
  }

 private:
  std::string head_;
  std::size_t budget_;
  std::string line_;
  bool any_ = false;
};

}  // namespace

void chat_hub::context::names_of(const chat_room& r) {
  const bool inside = st_.is_member(*c_, r);
  const std::string head = ":" + cfg().server_name + " " + std::string(num::rpl_namreply.code) + " " +
                           std::string(me()) + (r.secret ? " @ " : " = ") + r.name + " :";
  word_lines lines(head, cfg().max_line_bytes - 2);
  auto emit = [this](std::string line) { send_self(std::move(line)); };
  for (const auto& mb : r.members) {
    const chat_client* u = st_.find(mb.id);
    if (u == nullptr || (!inside && !can_see(*u))) continue;
    lines.add(std::string(prefix_of(mb, c_->multi_prefix)) + u->nick, emit);
  }
  lines.flush(emit);
}

void chat_hub::context::names_all() {
  // Every room one may see, then everyone visible who is in none of those rooms, under "*".
  for (const chat_room* r : st_.sorted_rooms()) {
    if (can_see(*r)) names_of(*r);
  }
  const std::string head = ":" + cfg().server_name + " " + std::string(num::rpl_namreply.code) + " " +
                           std::string(me()) + " * * :";
  word_lines lines(head, cfg().max_line_bytes - 2);
  auto emit = [this](std::string line) { send_self(std::move(line)); };
  std::vector<const chat_client*> loners;
  for (const auto& [id, u] : st_.clients()) {
    if (!u->registered || !can_see(*u)) continue;
    const bool listed = std::any_of(u->rooms.begin(), u->rooms.end(), [&](const std::string& key) {
      const chat_room* r = st_.find_room(key);
      return r != nullptr && can_see(*r);
    });
    if (!listed) loners.push_back(u.get());
  }
  std::sort(loners.begin(), loners.end(), [](auto* a, auto* b) { return a->nick < b->nick; });
  for (const auto* u : loners) lines.add(u->nick, emit);
  lines.flush(emit);
  reply(num::rpl_endofnames, {"*"});
}

void chat_hub::context::on_names(const irc_message& m) {
  if (m.param(0).empty()) return names_all();
  for_each_in_list(m.param(0), [this](std::string_view name) {
    const chat_room* r = st_.find_room(name);
    if (r != nullptr && can_see(*r)) {
      names_of(*r);
      return reply(num::rpl_endofnames, {r->name});
    }
    reply(num::rpl_endofnames, {clip(name)});
  });
}

void chat_hub::context::on_list(const irc_message& m) {
  reply(num::rpl_liststart, {"Channel"});
  auto one = [this](const chat_room& r) {
    if (can_see(r)) reply(num::rpl_list, {r.name, std::to_string(r.members.size()), r.topic});
  };
  if (!m.param(0).empty()) {
    for_each_in_list(m.param(0), [&](std::string_view name) {
      if (const chat_room* r = st_.find_room(name)) one(*r);
    });
  } else {
    for (const chat_room* r : st_.sorted_rooms()) one(*r);
  }
  reply(num::rpl_listend);
}

// ---- KICK and INVITE ----------------------------------------------------------------------------

void chat_hub::context::on_kick(const irc_message& m) {
  const auto rooms = m.param(0);
  const auto nicks = m.param(1);
  const std::string reason(clip(m.size() > 2 && !m.param(2).empty() ? m.param(2) : c_->nick, kick_len));
  const bool one_room = rooms.find(',') == std::string_view::npos;
  std::size_t i = 0;
  for_each_in_list(nicks, [&](std::string_view nick) {
    if (i >= max_targets) return;  // TARGMAX=KICK:n, as for PRIVMSG: the rest is ignored
    const auto room = one_room ? rooms : nth_in_list(rooms, i);
    ++i;
    if (room.empty()) return need_more_params("KICK");
    kick_one(room, nick, reason);
  });
}

void chat_hub::context::kick_one(std::string_view room, std::string_view nick, std::string_view reason) {
  chat_room* r = st_.find_room(room);
  if (r == nullptr) return reply(num::err_nosuchchannel, {clip(room)});
  const chat_member* mine = r->member(c_->id);
  if (mine == nullptr && !c_->oper) return reply(num::err_notonchannel, {r->name});
  if ((mine == nullptr || !mine->op) && !c_->oper) return reply(num::err_chanoprivsneeded, {r->name});
  chat_client* victim = st_.find_user(nick);
  if (victim == nullptr) return reply(num::err_nosuchnick, {clip(nick)});
  if (!st_.is_member(*victim, *r)) return reply(num::err_usernotinchannel, {victim->nick, r->name});
  send(member_ids(*r), user_line("KICK", {r->name, victim->nick, reason}));  // the kicked one included
  st_.leave(*victim, *r);  // r may be deleted here (an operator kicking the last member)
}

void chat_hub::context::on_invite(const irc_message& m) {
  chat_client* target = st_.find_user(m.param(0));
  if (target == nullptr) return reply(num::err_nosuchnick, {clip(m.param(0))});
  chat_room* r = st_.find_room(m.param(1));
  if (r == nullptr) return reply(num::err_nosuchchannel, {clip(m.param(1))});
  const chat_member* mine = r->member(c_->id);
  if (mine == nullptr) return reply(num::err_notonchannel, {r->name});
  if (r->invite_only && !mine->op) return reply(num::err_chanoprivsneeded, {r->name});
  if (st_.is_member(*target, *r)) return reply(num::err_useronchannel, {target->nick, r->name});
  auto& invites = target->invites;
  if (std::find(invites.begin(), invites.end(), r->serial) == invites.end()) {
    if (invites.size() == max_invites) invites.erase(invites.begin());  // the oldest goes
    invites.push_back(r->serial);
  }
  reply(num::rpl_inviting, {target->nick, r->name}, false);
  if (!target->away.empty()) reply(num::rpl_away, {target->nick, target->away});
  send({target->id}, user_line("INVITE", {target->nick, r->name}, false));
}

}  // namespace simul::core
