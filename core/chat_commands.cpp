// chat_hub command dispatch, and the room and message commands (JOIN PART TOPIC NAMES LIST PRIVMSG
// NOTICE). Registration is in chat_registration.cpp, queries in chat_queries.cpp.
#include <algorithm>
#include <string>
#include <vector>

#include "core/chat_context.hpp"

namespace simul::core {

void chat_hub::context::dispatch(const irc_message& m) {
  using handler = void (context::*)(const irc_message&);
  struct entry {
    std::string_view name;
    handler fn;                // null: accepted and ignored
    bool before_registration;  // allowed before registration completes
  };
  static constexpr entry table[] = {
      {"PRIVMSG", &context::on_message, false}, {"PING", &context::on_ping, true},
      {"PONG", nullptr, true},                  {"NOTICE", &context::on_message, false},
      {"JOIN", &context::on_join, false},       {"PART", &context::on_part, false},
      {"NICK", &context::on_nick, true},        {"USER", &context::on_user, true},
      {"CAP", &context::on_cap, true},          {"PASS", &context::on_pass, true},
      {"QUIT", &context::on_quit, true},        {"TOPIC", &context::on_topic, false},
      {"NAMES", &context::on_names, false},     {"LIST", &context::on_list, false},
      {"MODE", &context::on_mode, false},       {"WHO", &context::on_who, false},
      {"WHOIS", &context::on_whois, false},     {"USERHOST", &context::on_userhost, false},
      {"ISON", &context::on_ison, false},       {"MOTD", &context::on_motd, false},
      {"LUSERS", &context::on_lusers, false},
  };
  for (const auto& e : table) {
    if (e.name != m.command) continue;
    if (!c_->registered && !e.before_registration) return numeric("451", {"You have not registered"});
    if (e.fn != nullptr) (this->*e.fn)(m);
    return;
  }
  if (!c_->registered) return numeric("451", {"You have not registered"});
  numeric("421", {clip(m.command, 32), "Unknown command"});
}

// ---- rooms --------------------------------------------------------------------------------------

chat_hub::room* chat_hub::context::find_room(std::string_view name) const {
  auto it = hub_.rooms_.find(ascii_lower(name));
  return it == hub_.rooms_.end() ? nullptr : it->second.get();
}

bool chat_hub::context::is_member(const std::string& key) const {
  return std::find(c_->rooms.begin(), c_->rooms.end(), key) != c_->rooms.end();
}

void chat_hub::context::on_join(const irc_message& m) {
  const auto list = m.param(0);
  if (list.empty()) return not_enough_params("JOIN");
  if (list == "0") {  // leave every room
    const auto keys = c_->rooms;
    for (const auto& key : keys) part_one(hub_.rooms_.at(key)->name, {}, false);
    return;
  }
  for_each_in_list(list, [this](std::string_view name) { join_one(name); });
}

void chat_hub::context::join_one(std::string_view name) {
  if (!is_valid_channel(name, hub_.config_.channel_len)) return numeric("403", {clip(name), "No such channel"});
  auto key = ascii_lower(name);
  if (is_member(key)) return;
  const auto limit = hub_.config_.max_rooms_per_user;
  if (limit > 0 && c_->rooms.size() >= limit) return numeric("405", {name, "You have joined too many channels"});
  auto& slot = hub_.rooms_[key];
  if (!slot) {
    slot = std::make_unique<room>();
    slot->name = std::string(name);
  }
  room& r = *slot;
  r.members.push_back(c_->id);
  c_->rooms.push_back(std::move(key));
  send(r.members, user_line("JOIN", {r.name}, false));  // everyone, the joiner included
  topic_of(r);
  names_of(r);
}

void chat_hub::context::topic_of(const room& r) {
  if (r.topic.empty()) return numeric("331", {r.name, "No topic is set"});
  numeric("332", {r.name, r.topic});
}

void chat_hub::context::names_of(const room& r) {
  const auto& cfg = hub_.config_;
  const std::string head = ":" + cfg.server_name + " 353 " + std::string(me()) + " = " + r.name + " :";
  const std::size_t budget = cfg.max_line_bytes - 2;
  std::string line = head;
  bool any = false;
  auto flush = [&] {
    if (line.size() > budget) line.resize(budget);
    line += "\r\n";
    send_self(std::move(line));
    line = head;
    any = false;
  };
  for (auto id : r.members) {
    auto it = hub_.clients_.find(id);
    if (it == hub_.clients_.end()) continue;
    const auto& n = it->second->nick;
    if (any && line.size() + 1 + n.size() > budget) flush();
    if (any) line += ' ';
    line += n;
    any = true;
  }
  if (any) flush();
  numeric("366", {r.name, "End of NAMES list"});
}

void chat_hub::context::on_part(const irc_message& m) {
  if (m.param(0).empty()) return not_enough_params("PART");
  const bool has_reason = m.size() > 1;
  const auto reason = m.param(1);
  for_each_in_list(m.param(0), [&](std::string_view name) { part_one(name, reason, has_reason); });
}

void chat_hub::context::part_one(std::string_view name, std::string_view reason, bool has_reason) {
  room* r = find_room(name);
  if (r == nullptr) return numeric("403", {clip(name), "No such channel"});
  auto key = ascii_lower(name);
  if (!is_member(key)) return numeric("442", {r->name, "You're not on that channel"});
  send(r->members, has_reason ? user_line("PART", {r->name, reason}) : user_line("PART", {r->name}, false));
  leave_room(std::move(key));  // r may be deleted here
}

void chat_hub::context::on_topic(const irc_message& m) {
  if (m.param(0).empty()) return not_enough_params("TOPIC");
  room* r = find_room(m.param(0));
  if (r == nullptr) return numeric("403", {clip(m.param(0)), "No such channel"});
  if (m.size() == 1) return topic_of(*r);
  if (!is_member(ascii_lower(m.param(0)))) return numeric("442", {r->name, "You're not on that channel"});
  r->topic = std::string(clip(m.param(1), topic_len));
  send(r->members, user_line("TOPIC", {r->name, r->topic}));
}

void chat_hub::context::on_names(const irc_message& m) {
  // A bare NAMES would list every user of the server: answered with the end marker only.
  if (m.param(0).empty()) return numeric("366", {"*", "End of NAMES list"});
  for_each_in_list(m.param(0), [this](std::string_view name) {
    if (room* r = find_room(name)) return names_of(*r);
    numeric("366", {clip(name), "End of NAMES list"});
  });
}

void chat_hub::context::on_list(const irc_message& m) {
  numeric("321", {"Channel", "Users  Name"});
  auto one = [this](const room& r) { numeric("322", {r.name, std::to_string(r.members.size()), r.topic}); };
  if (!m.param(0).empty()) {
    for_each_in_list(m.param(0), [&](std::string_view name) {
      if (room* r = find_room(name)) one(*r);
    });
  } else {
    for (const auto& [key, r] : hub_.rooms_) one(*r);
  }
  numeric("323", {"End of LIST"});
}

// ---- messages -----------------------------------------------------------------------------------

void chat_hub::context::on_message(const irc_message& m) {
  // RFC 2812 3.3.2: automatic replies (errors included) must never be sent for a NOTICE.
  const bool notice = m.command == "NOTICE";
  if (m.param(0).empty()) {
    if (!notice) numeric("411", {"No recipient given (" + m.command + ")"});
    return;
  }
  const auto text = m.param(1);
  if (text.empty()) {
    if (!notice) numeric("412", {"No text to send"});
    return;
  }
  std::size_t count = 0;
  for_each_in_list(m.param(0), [&](std::string_view target) {
    if (++count > max_targets) {
      if (!notice) numeric("407", {clip(target), "Too many recipients"});
      return;
    }
    const auto key = ascii_lower(target);
    if (target.front() == '#') {
      auto rit = hub_.rooms_.find(key);
      if (rit == hub_.rooms_.end()) {
        if (!notice) numeric("401", {clip(target), "No such nick/channel"});
        return;
      }
      room* r = rit->second.get();
      if (!is_member(key)) {
        if (!notice) numeric("404", {r->name, "Cannot send to channel"});
        return;
      }
      std::vector<client_id> to;
      to.reserve(r->members.size());
      for (auto id : r->members) {
        if (id != c_->id) to.push_back(id);  // not echoed to the sender
      }
      send(std::move(to), user_line(m.command, {r->name, text}));
      return;
    }
    auto it = hub_.nicks_.find(key);
    const client* u = it == hub_.nicks_.end() ? nullptr : hub_.clients_.at(it->second).get();
    if (u == nullptr || !u->registered) {
      if (!notice) numeric("401", {clip(target), "No such nick/channel"});
      return;
    }
    send({u->id}, user_line(m.command, {u->nick, text}));
  });
}

}  // namespace simul::core
