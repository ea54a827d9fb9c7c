// Fuzz target: the chat hub as a server drives it. The input is a session: clients 0-7 send
// lines through their own flood gate (framing, flood tokens), their output goes through their own
// SendQ, each has its liveness timer, and the clock moves. What is checked, after every step:
// - every delivery is one well-formed IRC line (CRLF, within max_line_bytes, parses), addressed to
//   distinct clients the hub still had; nothing is addressed to a client once it has left;
// - what each client receives is consistent with what it was told before (its own view of its
//   nick and rooms): room traffic (JOIN PART KICK TOPIC PRIVMSG NOTICE) reaches only members,
//   private messages only their target, QUIT and NICK only those sharing a room, nobody hears
//   its own room message or QUIT, numerics name the client's current nick, JOIN limits hold;
// - each SendQ gives back exactly the bytes queued, in order;
// - the hub's counts (connections, users, rooms) and nicks agree with the clients' views.
//
// Input: an optional first line "%" + 8 bytes of settings, then one operation per line:
//   <d>text   client d (0-7) sends "text\n" (the last line, if unterminated, is sent as is);
//             a client that is not connected connects first
//   c<d>      client d connects (again: the hub drops the stale state of a reused id)
//   x<d>      client d's connection ends (EOF)
//   w<d>[n]   client d's writer writes up to n bytes (all when n is absent)
//   +[n]      the clock moves n tenths of a second (1 when absent): held lines, SendQ soft
//             limits and liveness (PING, timeouts) are looked at for every client
//   !         server shutdown
#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/chat_hub.hpp"
#include "core/chat_liveness.hpp"
#include "core/errc.hpp"
#include "core/flood_gate.hpp"
#include "core/irc_message.hpp"
#include "core/limits.hpp"
#include "core/sendq.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace simul::core;
using clock_type = std::chrono::steady_clock;

struct settings {
  hub_config hub;
  limits lim;
  timeouts to;
};

// What one connection knows: the server-side machinery, and the client's own view of its state,
// built only from the lines it received.
struct conn {
  flood_gate gate;
  liveness live;
  sendq q;
  std::string expect;           // bytes queued and not yet written, as they must come out
  bool registered = false;      // 001 received
  std::string nick;             // from 001, then from its own NICK changes
  std::set<std::string> rooms;  // ascii_lower names, from its own JOIN, PART, KICK

  conn(const settings& s, clock_type::time_point now)
      : gate(s.lim), live(s.to, now),
        q(s.lim.sendq_hard_bytes, s.lim.sendq_soft_bytes, s.lim.sendq_soft_duration) {}
};

std::size_t number(std::string_view s, std::size_t fallback, std::size_t cap) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return fallback;
  std::size_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') break;
    n = std::min(cap, n * 10 + static_cast<std::size_t>(c - '0'));
  }
  return n;
}

class session {
 public:
  explicit session(const settings& s) : s_(s), hub_(s.hub) {}

  void line(client_id id, std::string_view bytes) {
    if (!conns_.count(id)) connect(id);
    conn& c = conns_.at(id);
    c.gate.feed(bytes);
    pump(id);
  }

  void connect(client_id id) {
    conns_.erase(id);  // a reused id: the hub forgets the stale client without a QUIT
    hub_.connect(id, "h" + std::to_string(id));
    conns_.emplace(id, conn(s_, now_));
  }

  void eof(client_id id) {
    if (!conns_.count(id)) return;
    forget(id);
    apply(id, hub_.disconnect(id, "Connection closed"));
  }

  void write(client_id id, std::size_t max) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    conn& c = it->second;
    std::array<std::string_view, 8> views;
    const std::size_t n = c.q.peek(views);
    FUZZ_CHECK(n <= views.size() && (n == 0) == c.q.empty());
    if (n > 0) FUZZ_CHECK(views[0] == c.q.front());
    std::size_t offset = 0;
    for (std::size_t i = 0; i < n && offset < max; ++i) {
      auto v = views[i].substr(0, max - offset);
      FUZZ_CHECK(c.expect.compare(offset, v.size(), v) == 0);
      offset += v.size();
    }
    c.q.consume(offset, now_);
    c.expect.erase(0, offset);
    FUZZ_CHECK(c.q.bytes() == c.expect.size());
  }

  void tick(std::size_t tenths) {
    now_ += std::chrono::milliseconds(100 * tenths);
    std::vector<client_id> ids;
    for (const auto& [id, c] : conns_) ids.push_back(id);
    for (auto id : ids) {
      if (!conns_.count(id)) continue;
      pump(id);
      if (!conns_.count(id)) continue;
      conn& c = conns_.at(id);
      if (c.q.check(now_)) {
        kill(id, "SendQ exceeded");
        continue;
      }
      auto d = c.live.poll(now_);
      if (d.what == liveness::action::send_ping) {
        hub_output ping;
        ping.deliveries.push_back({hub_.make_ping(), {id}});
        apply(id, std::move(ping));
      } else if (d.what == liveness::action::close) {
        FUZZ_CHECK(d.reason == errc::ping_timeout || d.reason == errc::registration_timeout);
        apply(id, hub_.make_error_and_close(id, d.reason == errc::ping_timeout ? "Ping timeout" : "Registration timeout"));
        FUZZ_CHECK(!conns_.count(id));
      }
    }
  }

  void shutdown() {
    const std::size_t before = conns_.size();
    auto out = hub_.shutdown("Server shutting down");
    FUZZ_CHECK(out.close);
    FUZZ_CHECK(out.deliveries.size() == (before > 0 ? 1u : 0u));
    if (before > 0) FUZZ_CHECK(out.deliveries[0].to.size() == before);
    apply(0, std::move(out), true);
    conns_.clear();
  }

  // The hub's counts and nicks agree with what the clients were told.
  void check_hub() const {
    FUZZ_CHECK(hub_.connections() == conns_.size());
    std::size_t users = 0;
    std::set<std::string> nicks, rooms;
    for (const auto& [id, c] : conns_) {
      FUZZ_CHECK(hub_.is_registered(id) == c.registered);
      FUZZ_CHECK(!hub_.nick(id).empty());
      if (!c.registered) continue;
      ++users;
      FUZZ_CHECK(hub_.nick(id) == c.nick);
      FUZZ_CHECK(nicks.insert(ascii_lower(c.nick)).second);  // one connection per nick
      rooms.insert(c.rooms.begin(), c.rooms.end());
    }
    FUZZ_CHECK(hub_.users() == users);
    FUZZ_CHECK(hub_.rooms() == rooms.size());
    for (client_id id = 0; id < 10; ++id) {
      if (!conns_.count(id)) FUZZ_CHECK(hub_.nick(id).empty() && !hub_.is_registered(id));
    }
  }

 private:
  // The reader loop of a chat connection: lines out of the gate into the hub.
  void pump(client_id id) {
    while (conns_.count(id)) {
      conn& c = conns_.at(id);
      auto step = c.gate.next(now_);
      if (step.what == flood_gate::status::line) {
        c.live.on_activity(now_);
        auto out = step.error ? hub_.on_line_too_long(id) : hub_.on_line(id, step.line);
        if (out.registered_now) c.live.on_registered(now_);
        apply(id, std::move(out));
      } else if (step.what == flood_gate::status::excess_flood) {
        kill(id, "Excess Flood");
      } else {
        FUZZ_CHECK(step.what != flood_gate::status::wait || step.wait > clock_type::duration::zero());
        return;
      }
    }
  }

  // The server closes a connection on its own (flood, SendQ): peers see its QUIT.
  void kill(client_id id, std::string_view why) {
    forget(id);
    apply(id, hub_.disconnect(id, why));
  }

  // The connection is gone; its view is kept until the next one goes, for the check that its
  // QUIT reaches only those who shared a room with it.
  void forget(client_id id) {
    auto it = conns_.find(id);
    gone_nick_ = it->second.registered ? it->second.nick : std::string();
    gone_rooms_ = std::move(it->second.rooms);
    conns_.erase(it);
  }

  // The rooms of the client whose nick is `nick` (as its own view has them), or null.
  const std::set<std::string>* rooms_of(std::string_view nick) const {
    const auto key = ascii_lower(nick);
    for (const auto& [id, c] : conns_) {
      if (c.registered && ascii_lower(c.nick) == key) return &c.rooms;
    }
    if (!gone_nick_.empty() && ascii_lower(gone_nick_) == key) return &gone_rooms_;
    return nullptr;
  }

  void apply(client_id acting, hub_output out, bool everyone_leaves = false) {
    std::set<client_id> had;
    for (const auto& [id, c] : conns_) had.insert(id);
    std::vector<client_id> over;
    for (const auto& d : out.deliveries) {
      FUZZ_CHECK(d.line != nullptr);
      const std::string& wire = *d.line;
      FUZZ_CHECK(wire.size() >= 3 && wire.size() <= hub_.config().max_line_bytes);
      FUZZ_CHECK(wire.ends_with("\r\n"));
      FUZZ_CHECK(wire.find_first_of(std::string_view("\r\n\0", 3)) == wire.size() - 2);
      irc_message m;
      FUZZ_CHECK(!parse_message(std::string_view(wire).substr(0, wire.size() - 2), m));
      FUZZ_CHECK(!d.to.empty());
      auto to = d.to;
      std::sort(to.begin(), to.end());
      FUZZ_CHECK(std::adjacent_find(to.begin(), to.end()) == to.end());
      for (auto r : d.to) {
        FUZZ_CHECK(had.count(r));
        conn& c = conns_.at(r);
        if (!everyone_leaves) observe(c, m);
        if (c.q.push(d.line, now_)) {
          over.push_back(r);
        } else {
          c.expect += wire;
        }
      }
    }
    if (out.close && !everyone_leaves) {
      FUZZ_CHECK(hub_.nick(acting).empty());  // it has left the hub
      conns_.erase(acting);
    }
    for (auto r : over) {
      if (conns_.count(r)) kill(r, "SendQ exceeded");
    }
  }

  // One line received by client c, checked against and folded into its view.
  void observe(conn& c, const irc_message& m) {
    const auto& cmd = m.command;
    if (cmd == "001") {
      FUZZ_CHECK(!c.registered);
      c.registered = true;
      c.nick = std::string(m.param(0));
    }
    if (c.registered && cmd.size() == 3 && cmd[0] >= '0' && cmd[0] <= '9') FUZZ_CHECK(m.param(0) == c.nick);
    const auto bang = m.prefix.find('!');
    if (bang == std::string_view::npos) return;  // from the server
    FUZZ_CHECK(c.registered);                    // nobody hears other users before registering
    const bool self = ascii_lower(m.prefix.substr(0, bang)) == ascii_lower(c.nick);
    const auto key = ascii_lower(m.param(0));
    if (cmd == "JOIN") {
      if (self) {
        FUZZ_CHECK(c.rooms.insert(key).second);
        FUZZ_CHECK(s_.hub.max_rooms_per_user == 0 || c.rooms.size() <= s_.hub.max_rooms_per_user);
      } else {
        FUZZ_CHECK(c.rooms.count(key));
      }
    } else if (cmd == "PART") {
      FUZZ_CHECK(c.rooms.count(key));
      if (self) c.rooms.erase(key);
    } else if (cmd == "KICK") {
      FUZZ_CHECK(c.rooms.count(key));
      if (ascii_lower(m.param(1)) == ascii_lower(c.nick)) c.rooms.erase(key);
    } else if (cmd == "TOPIC") {
      FUZZ_CHECK(c.rooms.count(key));
    } else if (cmd == "PRIVMSG" || cmd == "NOTICE") {
      if (key.starts_with('#')) {
        FUZZ_CHECK(!self);  // room messages are not echoed (a message to oneself is delivered)
        FUZZ_CHECK(c.rooms.count(key));
      } else {
        FUZZ_CHECK(key == ascii_lower(c.nick));
      }
    } else if (cmd == "INVITE") {
      FUZZ_CHECK(key == ascii_lower(c.nick));
    } else if (cmd == "QUIT" || (cmd == "NICK" && !self)) {
      // Heard only by those sharing a room with the user (when its view can still be found).
      FUZZ_CHECK(!self);
      if (const auto* theirs = rooms_of(m.prefix.substr(0, bang))) {
        FUZZ_CHECK(std::any_of(theirs->begin(), theirs->end(), [&](const std::string& r) { return c.rooms.count(r) > 0; }));
      }
    } else if (cmd == "NICK") {
      c.nick = std::string(m.param(0));
    }
  }

  const settings& s_;
  chat_hub hub_;
  std::map<client_id, conn> conns_;
  std::string gone_nick_;                // the last connection that went, and its rooms
  std::set<std::string> gone_rooms_;
  clock_type::time_point now_ = clock_type::time_point{} + std::chrono::hours(1);
};

settings make_settings(std::string_view& in) {
  settings s;
  s.hub.server_name = "irc.fuzz";
  s.hub.network = "FuzzNet";
  s.hub.version = "simul-fuzz";
  s.to.registration = std::chrono::seconds(30);
  s.to.ping_interval = std::chrono::seconds(120);
  s.to.ping_timeout = std::chrono::seconds(60);
  if (in.size() < 9 || in[0] != '%') {
    s.lim.max_line_bytes = s.hub.max_line_bytes;
    return s;
  }
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(in[i]); };
  // Anything the server's config allows (it refuses a line limit below min_line_bytes).
  s.hub.nick_len = 9 + b(2) % 247;
  s.hub.channel_len = 2 + b(3) % 254;
  s.hub.max_rooms_per_user = b(4) % 4;
  s.hub.max_line_bytes = std::max<std::size_t>(64 + b(1) * 4, min_line_bytes(s.hub));
  if (b(5) & 1) s.hub.motd = "Welcome\nto the fuzz\n";
  s.lim.flood_burst = 1 + b(6) % 30;
  s.lim.flood_lines_per_second = 1 + b(7) % 20;
  s.lim.sendq_hard_bytes = s.hub.max_line_bytes * (1 + b(8) % 16);
  s.lim.sendq_soft_bytes = s.lim.sendq_hard_bytes / 2;
  s.lim.sendq_soft_duration = std::chrono::seconds(1 + b(8) / 64);
  s.lim.flood_max_backlog_bytes = 2 * s.hub.max_line_bytes;
  s.lim.max_line_bytes = s.hub.max_line_bytes;
  auto nl = in.find('\n');
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const settings s = make_settings(in);
  session sess(s);
  while (!in.empty()) {
    auto nl = in.find('\n');
    const bool terminated = nl != std::string_view::npos;
    auto op = in.substr(0, terminated ? nl + 1 : in.size());
    in.remove_prefix(op.size());
    auto body = terminated ? op.substr(0, op.size() - 1) : op;
    const char k = op[0];
    auto digit = [&](std::size_t i) -> std::optional<client_id> {
      if (body.size() <= i || body[i] < '0' || body[i] > '7') return std::nullopt;
      return static_cast<client_id>(body[i] - '0');
    };
    if (k >= '0' && k <= '7') {
      sess.line(static_cast<client_id>(k - '0'), op.substr(1));
    } else if (k == 'c' && digit(1)) {
      sess.connect(*digit(1));
    } else if (k == 'x' && digit(1)) {
      sess.eof(*digit(1));
    } else if (k == 'w' && digit(1)) {
      sess.write(*digit(1), number(body.substr(2), static_cast<std::size_t>(-1), 1u << 20));
    } else if (k == '+') {
      sess.tick(number(body.substr(1), 1, 100000));
    } else if (k == '!') {
      sess.shutdown();
    }
    sess.check_hub();
  }
  return 0;
}
