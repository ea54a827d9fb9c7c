// chat_state: the bookkeeping of clients, nicks, rooms and membership.
#include "core/chat_state.hpp"

#include <algorithm>

#include "core/irc_mask.hpp"

namespace simul::core {

// ---- chat_room ----------------------------------------------------------------------------------

chat_member* chat_room::member(client_id id) noexcept {
  for (auto& m : members) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const chat_member* chat_room::member(client_id id) const noexcept {
  return const_cast<chat_room*>(this)->member(id);
}

bool chat_room::is_banned(const chat_client& c) const {
  if (bans.empty()) return false;
  const std::string who = c.nick + "!" + c.user + "@" + c.host;
  return std::any_of(bans.begin(), bans.end(), [&](const chat_ban& b) { return mask_match(b.mask, who); });
}

std::vector<std::string> chat_room::mode_params(bool show_key) const {
  std::string flags = "+";
  if (invite_only) flags += 'i';
  if (!key.empty()) flags += 'k';
  if (limit > 0) flags += 'l';
  if (moderated) flags += 'm';
  if (no_external) flags += 'n';
  if (secret) flags += 's';
  if (topic_ops) flags += 't';
  std::vector<std::string> out{std::move(flags)};
  if (!key.empty()) out.push_back(show_key ? key : std::string("*"));
  if (limit > 0) out.push_back(std::to_string(limit));
  return out;
}

// ---- chat_state ---------------------------------------------------------------------------------

chat_client& chat_state::add(client_id id, std::string host) {
  auto c = std::make_unique<chat_client>();
  c->id = id;
  c->host = host.empty() ? std::string("unknown") : std::move(host);
  auto& slot = clients_[id];
  slot = std::move(c);
  return *slot;
}

chat_client* chat_state::find(client_id id) const {
  auto it = clients_.find(id);
  return it == clients_.end() ? nullptr : it->second.get();
}

chat_client* chat_state::find_nick(std::string_view nick) const {
  auto it = nicks_.find(ascii_lower(nick));
  return it == nicks_.end() ? nullptr : find(it->second);
}

chat_client* chat_state::find_user(std::string_view nick) const {
  chat_client* c = find_nick(nick);
  return c != nullptr && c->registered ? c : nullptr;
}

chat_room* chat_state::find_room(std::string_view name) const {
  auto it = rooms_.find(ascii_lower(name));
  return it == rooms_.end() ? nullptr : it->second.get();
}

void chat_state::rename(chat_client& c, std::string_view nick) {
  if (!c.nick.empty()) {
    auto old = nicks_.find(ascii_lower(c.nick));
    if (old != nicks_.end() && old->second == c.id) nicks_.erase(old);
  }
  c.nick = std::string(nick);
  nicks_[ascii_lower(nick)] = c.id;
  if (c.registered) c.prefix = c.nick + "!" + c.user + "@" + c.host;
}

void chat_state::mark_registered(chat_client& c, std::int64_t now) {
  if (c.registered) return;
  c.registered = true;
  c.signon = now;
  c.last_message = now;
  c.prefix = c.nick + "!" + c.user + "@" + c.host;
  max_registered_ = std::max(max_registered_, ++registered_);
}

void chat_state::set_oper(chat_client& c, bool on) {
  if (c.oper == on) return;
  c.oper = on;
  if (on) {
    ++opers_;
  } else {
    --opers_;
  }
}

chat_room& chat_state::join(chat_client& c, std::string_view name, std::int64_t now) {
  auto key = ascii_lower(name);
  auto& slot = rooms_[key];
  const bool created = !slot;
  if (created) {
    slot = std::make_unique<chat_room>();
    slot->name = std::string(name);
    slot->serial = next_serial_++;
    slot->created = now;
  }
  chat_room& r = *slot;
  r.members.push_back({c.id, created, false});  // the first member of a new room is its operator
  c.rooms.push_back(std::move(key));
  std::erase(c.invites, r.serial);  // an invitation is used up by joining
  return r;
}

void chat_state::leave(chat_client& c, chat_room& r) {
  const auto key = ascii_lower(r.name);
  std::erase_if(r.members, [&](const chat_member& m) { return m.id == c.id; });
  std::erase(c.rooms, key);
  if (r.members.empty()) rooms_.erase(key);  // empty rooms are deleted
}

void chat_state::remove(chat_client& c) {
  while (!c.rooms.empty()) {
    auto it = rooms_.find(c.rooms.back());
    if (it == rooms_.end()) {
      c.rooms.pop_back();
      continue;
    }
    leave(c, *it->second);
  }
  if (!c.nick.empty()) {
    auto it = nicks_.find(ascii_lower(c.nick));
    if (it != nicks_.end() && it->second == c.id) nicks_.erase(it);
  }
  if (c.registered) --registered_;
  if (c.oper) --opers_;
  clients_.erase(c.id);  // destroys c
}

void chat_state::remember(const chat_client& c, std::int64_t now) {
  if (!c.registered) return;
  history_.push_front({c.nick, c.user, c.host, c.realname, now});
  if (history_.size() > whowas_len) history_.pop_back();
}

std::vector<const chat_past*> chat_state::history(std::string_view nick, std::size_t max) const {
  std::vector<const chat_past*> out;
  const auto key = ascii_lower(nick);
  for (const auto& p : history_) {
    if (max > 0 && out.size() == max) break;
    if (ascii_lower(p.nick) == key) out.push_back(&p);
  }
  return out;
}

void chat_state::clear() {
  history_.clear();
  clients_.clear();
  nicks_.clear();
  rooms_.clear();
  registered_ = 0;
  opers_ = 0;
}

std::vector<client_id> chat_state::peers(const chat_client& c) const {
  std::vector<client_id> to;
  for (const auto& key : c.rooms) {
    auto it = rooms_.find(key);
    if (it == rooms_.end()) continue;
    for (const auto& m : it->second->members) {
      if (m.id != c.id) to.push_back(m.id);
    }
  }
  if (c.rooms.size() > 1) {  // someone sharing two rooms hears it once
    std::sort(to.begin(), to.end());
    to.erase(std::unique(to.begin(), to.end()), to.end());
  }
  return to;
}

bool chat_state::shares_room(const chat_client& a, const chat_client& b) const {
  if (a.id == b.id) return true;
  for (const auto& key : a.rooms) {
    if (std::find(b.rooms.begin(), b.rooms.end(), key) != b.rooms.end()) return true;
  }
  return false;
}

std::vector<const chat_room*> chat_state::sorted_rooms() const {
  std::vector<std::pair<const std::string*, const chat_room*>> keyed;
  keyed.reserve(rooms_.size());
  for (const auto& [key, r] : rooms_) keyed.emplace_back(&key, r.get());
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::vector<const chat_room*> out;
  out.reserve(keyed.size());
  for (const auto& [key, r] : keyed) out.push_back(r);
  return out;
}

std::size_t chat_state::invisible() const {
  std::size_t n = 0;
  for (const auto& [id, c] : clients_) n += c->registered && c->invisible ? 1 : 0;
  return n;
}

}  // namespace simul::core
