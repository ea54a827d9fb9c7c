// chat_state's snapshot: the whole chat state as one versioned binary string, and back.
//
// Format (version 1), all integers LEB128 varints (signed ones zigzag-encoded), strings as a
// varint length and the bytes:
//   "SIMULHUB" version
//   max_users next_room_serial
//   clients (by id):  id host nick user realname prefix away [room keys] [invite serials]
//                     signon last_message flags(cap_negotiating multi_prefix registered
//                     invisible wallops oper)
//   rooms (by key):   name serial created topic topic_by topic_at
//                     [member id, flags(op voice)] flags(n t m i s) key limit
//                     [ban mask set_by set_at]
//   whowas (newest first): nick user host realname until
//   FNV-1a 64 of everything before it (8 bytes, little-endian)
// Derived tables (nick → client, user and operator counts) are rebuilt on load, and every
// cross-reference is checked, so a loaded state holds the same invariants as a live one.
#include <algorithm>
#include <map>
#include <set>

#include "core/chat_state.hpp"
#include "core/irc_message.hpp"

namespace simul::core {

namespace {

constexpr std::string_view magic = "SIMULHUB";
constexpr std::uint64_t version = 1;
constexpr std::size_t checksum_bytes = 8;

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

class writer {
 public:
  void u(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void s(std::int64_t v) { u((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void str(std::string_view v) {
    u(v.size());
    out_.append(v);
  }
  void raw(std::string_view v) { out_.append(v); }
  std::string finish() { return seal_snapshot(std::move(out_)); }

 private:
  std::string out_;
};

/// Reads the body; the first failure sticks (every later read returns zero values).
class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  std::uint64_t u() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return fail("truncated");
      const auto b = static_cast<unsigned char>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return fail("bad number");
  }
  std::int64_t s() {
    const std::uint64_t z = u();
    return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
  }
  std::string str() {
    const std::uint64_t n = u();
    if (n > in_.size() - pos_) {
      fail("truncated");
      return {};
    }
    std::string v(in_.substr(pos_, n));
    pos_ += n;
    // Every string in a hub came from an IRC line, which can hold none of these (irc_message
    // refuses them): one here would break the lines the hub writes with it.
    if (v.find_first_of(std::string_view("\0\r\n", 3)) != std::string::npos) {
      fail("forbidden byte in a string");
      return {};
    }
    return v;
  }
  /// A count of items that take at least one byte each: never more than the bytes left.
  std::size_t count() {
    const std::uint64_t n = u();
    if (n > in_.size() - pos_) {
      fail("bad count");
      return 0;
    }
    return static_cast<std::size_t>(n);
  }
  std::uint64_t fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    pos_ = in_.size();
    return 0;
  }
  bool done() const { return pos_ == in_.size(); }
  const std::string& error() const { return error_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::string seal_snapshot(std::string body) {
  std::uint64_t h = fnv1a(body);
  for (std::size_t i = 0; i < checksum_bytes; ++i, h >>= 8) body.push_back(static_cast<char>(h & 0xff));
  return body;
}

std::string chat_state::save() const {
  writer w;
  w.raw(magic);
  w.u(version);
  w.u(max_registered_);
  w.u(next_serial_);

  std::vector<const chat_client*> cs;
  cs.reserve(clients_.size());
  for (const auto& [id, c] : clients_) cs.push_back(c.get());
  std::sort(cs.begin(), cs.end(), [](auto* a, auto* b) { return a->id < b->id; });
  w.u(cs.size());
  for (const chat_client* c : cs) {
    w.u(c->id);
    w.str(c->host);
    w.str(c->nick);
    w.str(c->user);
    w.str(c->realname);
    w.str(c->prefix);
    w.str(c->away);
    w.u(c->rooms.size());
    for (const auto& k : c->rooms) w.str(k);
    w.u(c->invites.size());
    for (auto serial : c->invites) w.u(serial);
    w.s(c->signon);
    w.s(c->last_message);
    w.u((c->cap_negotiating ? 1u : 0u) | (c->multi_prefix ? 2u : 0u) | (c->registered ? 4u : 0u) |
        (c->invisible ? 8u : 0u) | (c->wallops ? 16u : 0u) | (c->oper ? 32u : 0u));
  }

  const auto rooms = sorted_rooms();
  w.u(rooms.size());
  for (const chat_room* r : rooms) {
    w.str(r->name);
    w.u(r->serial);
    w.s(r->created);
    w.str(r->topic);
    w.str(r->topic_by);
    w.s(r->topic_at);
    w.u(r->members.size());
    for (const auto& m : r->members) {
      w.u(m.id);
      w.u((m.op ? 1u : 0u) | (m.voice ? 2u : 0u));
    }
    w.u((r->no_external ? 1u : 0u) | (r->topic_ops ? 2u : 0u) | (r->moderated ? 4u : 0u) |
        (r->invite_only ? 8u : 0u) | (r->secret ? 16u : 0u));
    w.str(r->key);
    w.u(r->limit);
    w.u(r->bans.size());
    for (const auto& b : r->bans) {
      w.str(b.mask);
      w.str(b.set_by);
      w.s(b.set_at);
    }
  }

  w.u(history_.size());
  for (const auto& p : history_) {
    w.str(p.nick);
    w.str(p.user);
    w.str(p.host);
    w.str(p.realname);
    w.s(p.until);
  }
  return w.finish();
}

std::string chat_state::load(std::string_view snapshot) {
  if (snapshot.size() < magic.size() + checksum_bytes || snapshot.substr(0, magic.size()) != magic)
    return "not a hub snapshot";
  const std::string_view body = snapshot.substr(0, snapshot.size() - checksum_bytes);
  std::uint64_t stored = 0;
  for (std::size_t i = 0; i < checksum_bytes; ++i)
    stored |= static_cast<std::uint64_t>(static_cast<unsigned char>(snapshot[body.size() + i])) << (8 * i);
  if (stored != fnv1a(body)) return "checksum mismatch (truncated or corrupted)";

  reader r(body.substr(magic.size()));
  if (const auto v = r.u(); v != version) return r.error().empty() ? "unsupported version " + std::to_string(v) : r.error();

  chat_state st;
  st.max_registered_ = r.u();
  st.next_serial_ = r.u();

  for (std::size_t n = r.count(), i = 0; i < n && r.error().empty(); ++i) {
    auto c = std::make_unique<chat_client>();
    c->id = r.u();
    c->host = r.str();
    c->nick = r.str();
    c->user = r.str();
    c->realname = r.str();
    c->prefix = r.str();
    c->away = r.str();
    for (std::size_t k = r.count(), j = 0; j < k && r.error().empty(); ++j) c->rooms.push_back(r.str());
    for (std::size_t k = r.count(), j = 0; j < k && r.error().empty(); ++j) c->invites.push_back(r.u());
    c->signon = r.s();
    c->last_message = r.s();
    const auto f = r.u();
    if (f > 63) r.fail("bad client flags");
    c->cap_negotiating = (f & 1) != 0;
    c->multi_prefix = (f & 2) != 0;
    c->registered = (f & 4) != 0;
    c->invisible = (f & 8) != 0;
    c->wallops = (f & 16) != 0;
    c->oper = (f & 32) != 0;
    if (!r.error().empty()) break;
    const client_id id = c->id;
    if (!c->nick.empty() && !st.nicks_.emplace(ascii_lower(c->nick), id).second) return "nick used twice";
    if (c->registered) ++st.registered_;
    if (c->oper) ++st.opers_;
    if (!st.clients_.emplace(id, std::move(c)).second) return "client id used twice";
  }

  std::set<std::uint64_t> serials;
  std::size_t memberships = 0;
  for (std::size_t n = r.count(), i = 0; i < n && r.error().empty(); ++i) {
    auto room = std::make_unique<chat_room>();
    room->name = r.str();
    room->serial = r.u();
    room->created = r.s();
    room->topic = r.str();
    room->topic_by = r.str();
    room->topic_at = r.s();
    for (std::size_t k = r.count(), j = 0; j < k && r.error().empty(); ++j) {
      chat_member m;
      m.id = r.u();
      const auto f = r.u();
      if (f > 3) r.fail("bad member flags");
      m.op = (f & 1) != 0;
      m.voice = (f & 2) != 0;
      room->members.push_back(m);
    }
    const auto f = r.u();
    if (f > 31) r.fail("bad room flags");
    room->no_external = (f & 1) != 0;
    room->topic_ops = (f & 2) != 0;
    room->moderated = (f & 4) != 0;
    room->invite_only = (f & 8) != 0;
    room->secret = (f & 16) != 0;
    room->key = r.str();
    room->limit = static_cast<std::size_t>(r.u());
    for (std::size_t k = r.count(), j = 0; j < k && r.error().empty(); ++j) {
      chat_ban b;
      b.mask = r.str();
      b.set_by = r.str();
      b.set_at = r.s();
      room->bans.push_back(std::move(b));
    }
    if (!r.error().empty()) break;
    if (room->name.empty() || room->members.empty()) return "empty room";
    if (room->serial == 0 || room->serial >= st.next_serial_ || !serials.insert(room->serial).second)
      return "bad room serial";
    std::string key = ascii_lower(room->name);
    std::set<client_id> seen;
    for (const auto& m : room->members) {
      const chat_client* c = st.find(m.id);
      if (c == nullptr || !seen.insert(m.id).second) return "bad member of " + room->name;
      if (std::find(c->rooms.begin(), c->rooms.end(), key) == c->rooms.end()) return "bad member of " + room->name;
    }
    memberships += room->members.size();
    if (!st.rooms_.emplace(std::move(key), std::move(room)).second) return "room listed twice";
  }

  for (std::size_t n = r.count(), i = 0; i < n && r.error().empty(); ++i) {
    chat_past p;
    p.nick = r.str();
    p.user = r.str();
    p.host = r.str();
    p.realname = r.str();
    p.until = r.s();
    st.history_.push_back(std::move(p));
  }
  if (!r.error().empty()) return r.error();
  if (!r.done()) return "trailing bytes";

  // Every room a client lists has it as a member (the other direction was checked above).
  std::size_t listed = 0;
  for (const auto& [id, c] : st.clients_) {
    std::set<std::string_view> keys(c->rooms.begin(), c->rooms.end());
    if (keys.size() != c->rooms.size()) return "room listed twice by a client";
    listed += c->rooms.size();
  }
  if (listed != memberships) return "rooms and members disagree";
  if (st.history_.size() > whowas_len) return "whowas history too long";
  if (st.max_registered_ < st.registered_) return "bad max users";

  *this = std::move(st);
  return {};
}

}  // namespace simul::core
