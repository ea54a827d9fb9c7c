// A chat network node: publishing local events to the network's log, applying the log to the
// mirror hub, liveness of the other nodes, joining and resyncing. docs/CLUSTER.md.
#include "server/cluster/chat_node.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <ctime>
#include <vector>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "server/common/chat_policy.hpp"
#include "server/common/probe.hpp"

namespace simul::cluster {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view read_batch = "1000";  // entries per XREAD
// A snapshot is written after this many entries, or after snapshot_period() with any entry.
constexpr std::uint64_t snapshot_entries = 10000;
constexpr std::string_view snapshot_magic = "simul-network-snapshot 1 ";

// Replaces the snapshot only with a newer one, then trims the log up to ARGV[4] (MINID).
// KEYS: snapshot, log. ARGV: the snapshot's entry id (ms, seq), the value, the MINID.
constexpr std::string_view snapshot_script = R"(
local cur = redis.call('GET', KEYS[1])
if cur then
  local ms, seq = string.match(cur, '^simul%-network%-snapshot 1 (%d+)%-(%d+)')
  if ms and (tonumber(ms) > tonumber(ARGV[1]) or (tonumber(ms) == tonumber(ARGV[1]) and tonumber(seq) >= tonumber(ARGV[2]))) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[4])
return 1
)";

// How often the snapshot is written, and how much log is kept before it (for nodes that are
// a little behind): from the lease, 1 s..60 s and 3 periods + a lease.
milliseconds snapshot_period(milliseconds lease) {
  return std::clamp(lease * 2, milliseconds(1000), milliseconds(60000));
}
milliseconds trim_margin(milliseconds lease) { return snapshot_period(lease) * 3 + lease; }

// Entry kinds (field k).
constexpr char k_connect = 'C';     // d = host
constexpr char k_line = 'L';        // d = the line
constexpr char k_too_long = 'T';    // the framer's 417
constexpr char k_disconnect = 'D';  // d = QUIT reason
constexpr char k_heartbeat = 'H';   // d = node name
constexpr char k_node_down = 'X';   // d = "<node> <reason>": declared down by n
constexpr char k_node_leave = 'Q';  // d = reason: node n shuts down

std::string_view text(const redisReply& r) { return {r.str, r.len}; }
bool failed(const redisReply* r) { return r == nullptr || r->type == REDIS_REPLY_ERROR; }

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

using core::command_word;

bool same_word(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'a' && x <= 'z' ? x - 32 : x) == y;
         });
}

// Commands that only answer their sender and change no state: a node skips them for clients
// of other nodes (only the client's own node answers).
bool read_only(std::string_view cmd) {
  for (std::string_view c : {"PING", "PONG", "WHO", "WHOIS", "WHOWAS", "NAMES", "LIST", "MOTD", "LUSERS",
                             "ISON", "USERHOST"})
    if (same_word(cmd, c)) return true;
  return false;
}

// Liveness answers a node gives its own clients while it is not joined.
bool local_while_down(std::string_view cmd) { return same_word(cmd, "PING") || same_word(cmd, "PONG"); }

redis_options redis_settings(const server::config& cfg) {
  std::string error;
  auto hp = server::parse_host_port(cfg.cluster.redis, error);  // validated with the config
  redis_options o;
  o.host = hp ? hp->host : "127.0.0.1";
  o.port = hp ? hp->port : 6379;
  o.connect_timeout = std::chrono::seconds(1);
  o.backoff_min = milliseconds(50);
  o.backoff_max = std::chrono::seconds(2);
  o.max_pending_bytes = cfg.cluster.max_queue_bytes;
  return o;
}

// INFO's "run_id:<hex>" line.
std::string run_id_of(std::string_view info) {
  auto at = info.find("run_id:");
  if (at == std::string_view::npos) return {};
  auto rest = info.substr(at + 7);
  return std::string(rest.substr(0, rest.find_first_of("\r\n")));
}

}  // namespace

std::optional<entry_id> entry_id::parse(std::string_view s) {
  entry_id id;
  auto dash = s.find('-');
  if (!parse_number(s.substr(0, dash), id.ms)) return std::nullopt;
  if (dash != std::string_view::npos && !parse_number(s.substr(dash + 1), id.seq)) return std::nullopt;
  return id;
}

std::string entry_id::str() const { return std::to_string(ms) + "-" + std::to_string(seq); }

std::string default_node_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "node");
  std::string name = host;
  name.erase(std::remove_if(name.begin(), name.end(), [](char c) {
               return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_');
             }),
             name.end());
  if (name.size() > 50) name.resize(50);
  return name + ":" + std::to_string(getpid());
}

chat_node::chat_node(asio::io_context& io, const server::config& cfg, server::stats& st, sink& out)
    : io_(io),
      cfg_(cfg),
      stats_(st),
      out_(out),
      name_(cfg.cluster.node.empty() ? default_node_name() : cfg.cluster.node),
      log_key_("simul:" + cfg.chat_service.network + ":log"),
      nodes_key_("simul:" + cfg.chat_service.network + ":nodes"),
      snapshot_key_("simul:" + cfg.chat_service.network + ":snapshot"),
      tick_timer_(io),
      cmd_(io, redis_settings(cfg)),
      sub_(io, redis_settings(cfg)) {
  new_hub();
  stats_.cluster.enabled.store(true, std::memory_order_relaxed);
}

chat_node::~chat_node() {
  stopping_ = true;
  tick_timer_.cancel();
  cmd_.stop();
  sub_.stop();
}

void chat_node::start() {
  for (auto* c : {&cmd_, &sub_}) {
    c->on_up = [this] { on_up(); };
    c->on_down = [this](std::string reason) { on_down(reason); };
    c->start();
  }
  spdlog::info("cluster: node {} joining chat network {} on Redis {}", name_, cfg_.chat_service.network,
               cfg_.cluster.redis);
  schedule_tick();
}

void chat_node::new_hub() {
  hub_.reset();
  hub_.emplace(server::make_hub_config(cfg_));
}

void chat_node::set_phase(phase p) {
  phase_ = p;
  stats_.cluster.up.value.store(p == phase::joined ? 1 : 0, std::memory_order_relaxed);
}

core::client_id chat_node::next_id() noexcept {
  if (!joined()) return 0;
  return (static_cast<core::client_id>(node_) << 32) | ++serial_;
}

bool chat_node::publish(char kind, core::client_id client, std::string_view data, std::uint32_t from,
                        redis_client::callback done) {
  if (!unsent_quits_.empty()) publish_unsent_quits();
  return xadd(kind, client, data, from, std::move(done));
}

bool chat_node::xadd(char kind, core::client_id client, std::string_view data, std::uint32_t from,
                     redis_client::callback done) {
  if (!cmd_.connected()) return false;
  const std::string n = std::to_string(from != 0 ? from : node_);
  const std::string k(1, kind);
  const std::string c = std::to_string(client);
  const std::string t = std::to_string(static_cast<std::int64_t>(std::time(nullptr)));
  bool queued = cmd_.command({"XADD", log_key_, "*", "n", n, "k", k, "c", c, "t", t, "d", data},
                             [this, done = std::move(done)](const redisReply* r) {
                               if (r != nullptr && r->type == REDIS_REPLY_ERROR)
                                 spdlog::warn("cluster: XADD refused: {}", text(*r));
                               if (!stopping_) {
                                 stats_.cluster.queue_bytes.value.store(cmd_.pending_bytes(), std::memory_order_relaxed);
                                 // Redis answers again, so the queue has room: QUITs kept back go now.
                                 if (r != nullptr && !unsent_quits_.empty()) publish_unsent_quits();
                               }
                               if (done) done(r);
                             });
  if (queued) stats_.cluster.published_total.add();
  stats_.cluster.queue_bytes.value.store(cmd_.pending_bytes(), std::memory_order_relaxed);
  return queued;
}

bool chat_node::connect(core::client_id id, std::string_view host) {
  if (!joined() || node_of(id) != node_) return false;
  return publish(k_connect, id, host);
}

bool chat_node::line(core::client_id id, std::string_view line, bool too_long) {
  if (node_ == 0 || node_of(id) != node_) return false;
  if (!joined()) {
    if (too_long || !local_while_down(command_word(line))) return false;
    apply(id, hub_->on_line(id, line));  // PING and PONG change nothing
    return true;
  }
  return publish(too_long ? k_too_long : k_line, id, too_long ? std::string_view{} : line);
}

void chat_node::disconnect(core::client_id id, std::string_view reason) {
  if (node_ == 0 || node_of(id) != node_ || phase_ == phase::left) return;  // a left node's users all went
  if (!joined() || !publish(k_disconnect, id, reason)) unsent_quits_[id] = std::string(reason);
}

void chat_node::publish_unsent_quits() {
  if (phase_ != phase::joined) return;
  for (auto it = unsent_quits_.begin(); it != unsent_quits_.end();) {
    if (node_of(it->first) == node_ && !xadd(k_disconnect, it->first, it->second, 0, {})) break;  // still full
    it = unsent_quits_.erase(it);
  }
}

void chat_node::leave() {
  if (phase_ == phase::left) return;
  if (node_ != 0)
    leaving_ = publish(k_node_leave, 0, server::close_message(server::disconnect_reason::shutdown), 0,
                       [this](const redisReply* r) {
                         leaving_ = false;
                         if (r == nullptr) spdlog::warn("cluster: lost Redis before it stored this node's leave");
                         if (on_left) on_left();
                       });
  set_phase(phase::left);
  spdlog::info("cluster: node {} ({}) leaves the chat network", node_, name_);
}

// ---- joining --------------------------------------------------------------------------------

void chat_node::on_up() {
  if (stopping_ || phase_ != phase::down || !cmd_.connected() || !sub_.connected()) return;
  join();
}

void chat_node::on_down(const std::string& reason) {
  if (stopping_) return;
  if (phase_ == phase::joined || phase_ == phase::joining) {
    spdlog::warn("cluster: lost Redis {} ({}); chat lines are refused until it is back", cfg_.cluster.redis,
                 reason);
    set_phase(phase::down);
  }
  ++epoch_;  // answers still on their way belong to the old connection
  reading_ = false;
  snapshotting_ = false;
}

void chat_node::join() {
  set_phase(phase::joining);
  const auto e = ++epoch_;
  cmd_.command({"INFO", "server"}, [this, e](const redisReply* r) {
    if (stopping_ || e != epoch_) return;
    if (failed(r) || r->type != REDIS_REPLY_STRING) {
      set_phase(phase::down);  // tried again by the next tick
      return;
    }
    auto run_id = run_id_of(text(*r));
    if (node_ != 0 && run_id == run_id_) return resume();
    if (node_ != 0) return resync("Redis restarted");
    run_id_ = std::move(run_id);
    fresh_join();
  });
}

void chat_node::fresh_join() {
  const auto e = epoch_;
  cmd_.command({"INCR", nodes_key_}, [this, e](const redisReply* r) {
    if (stopping_ || e != epoch_) return;
    if (failed(r) || r->type != REDIS_REPLY_INTEGER || r->integer <= 0 || r->integer > 0xffffffffLL) {
      set_phase(phase::down);
      return;
    }
    node_ = static_cast<std::uint32_t>(r->integer);
    serial_ = 0;
    cmd_.command({"GET", snapshot_key_}, [this, e](const redisReply* got) {
      if (stopping_ || e != epoch_) return;
      if (failed(got)) return set_phase(phase::down);
      const auto value = got->type == REDIS_REPLY_STRING ? text(*got) : std::string_view{};
      if (!load_snapshot(value)) {
        // Unusable: start from the log's beginning (what is still there).
        new_hub();
        last_id_ = {};
        peers_.clear();
        gone_.clear();
        members_.clear();
      }
      spdlog::info("cluster: node {} ({}) joins chat network {} from entry {} ({} users)", node_, name_,
                   cfg_.chat_service.network, last_id_.str(), hub_->users());
      if (last_id_ == entry_id{}) return become_joined();
      resume();  // the log after the snapshot must still be there
    });
  });
}

bool chat_node::load_snapshot(std::string_view value) {
  if (value.empty()) return false;
  auto take_line = [&value]() {
    auto eol = value.find('\n');
    auto line = value.substr(0, eol);
    value.remove_prefix(eol == std::string_view::npos ? value.size() : eol + 1);
    return line;
  };
  auto words = [](std::string_view line, auto&& each) {
    while (!line.empty()) {
      auto sp = line.find(' ');
      each(line.substr(0, sp));
      line.remove_prefix(sp == std::string_view::npos ? line.size() : sp + 1);
    }
  };
  auto head = take_line();
  if (!head.starts_with(snapshot_magic)) return false;
  auto id = entry_id::parse(head.substr(snapshot_magic.size()));
  auto gone = take_line();
  auto peers = take_line();
  auto members = take_line();
  if (!id || !gone.starts_with("gone") || !peers.starts_with("peers") || !members.starts_with("members")) return false;
  new_hub();
  if (auto r = hub_->load(value); !r) {
    spdlog::warn("cluster: the network's snapshot is refused: {}", r.reason);
    return false;
  }
  last_id_ = *id;
  gone_.clear();
  peers_.clear();
  members_.clear();
  const auto now = steady::now();
  words(gone.substr(4), [&](std::string_view w) {
    std::uint32_t n = 0;
    if (parse_number(w, n)) gone_.insert(n);
  });
  words(peers.substr(5), [&](std::string_view w) {
    std::uint32_t n = 0;
    auto eq = w.find('=');
    if (eq != std::string_view::npos && parse_number(w.substr(0, eq), n)) peers_[n] = {now, {}, std::string(w.substr(eq + 1))};
  });
  words(members.substr(7), [&](std::string_view w) {
    core::client_id c = 0;
    if (parse_number(w, c)) members_[node_of(c)].insert(c);
  });
  return true;
}

void chat_node::maybe_snapshot() {
  if (phase_ != phase::joined || snapshotting_ || applied_since_snapshot_ == 0 || last_id_ == entry_id{}) return;
  const auto now = steady::now();
  if (applied_since_snapshot_ < snapshot_entries && now - last_snapshot_ < snapshot_period(cfg_.cluster.lease)) return;
  // The lowest-numbered live node writes it; the others only keep counting.
  for (const auto& [n, p] : peers_)
    if (n < node_ && gone_.count(n) == 0) return;
  std::string value(snapshot_magic);
  value += last_id_.str();
  value += "\ngone";
  for (auto n : gone_) value += " " + std::to_string(n);
  value += "\npeers";
  for (const auto& [n, p] : peers_)
    if (!p.name.empty()) value += " " + std::to_string(n) + "=" + p.name;
  value += "\nmembers";
  for (const auto& [n, ids] : members_)
    for (auto c : ids) value += " " + std::to_string(c);
  value += "\n";
  value += hub_->save();
  const auto margin = static_cast<std::uint64_t>(trim_margin(cfg_.cluster.lease).count());
  const std::string minid = std::to_string(last_id_.ms > margin ? last_id_.ms - margin : 0) + "-0";
  const std::string ms = std::to_string(last_id_.ms), seq = std::to_string(last_id_.seq);
  const auto e = epoch_;
  snapshotting_ = cmd_.command({"EVAL", snapshot_script, "2", snapshot_key_, log_key_, ms, seq, value, minid},
                               [this, e, size = value.size()](const redisReply* r) {
                                 if (stopping_ || e != epoch_) return;
                                 snapshotting_ = false;
                                 if (r != nullptr && r->type == REDIS_REPLY_ERROR)
                                   spdlog::warn("cluster: snapshot refused: {}", text(*r));
                                 else if (r != nullptr)
                                   spdlog::debug("cluster: snapshot of {} bytes written", size);
                               });
  if (!snapshotting_) spdlog::warn("cluster: snapshot of {} bytes not sent (Redis queue full)", value.size());
  applied_since_snapshot_ = 0;
  last_snapshot_ = now;
}

void chat_node::resume() {
  // The same Redis: the log is intact unless entries after the last applied one were trimmed.
  const auto e = epoch_;
  cmd_.command({"XINFO", "STREAM", log_key_}, [this, e](const redisReply* r) {
    if (stopping_ || e != epoch_) return;
    if (r == nullptr) return set_phase(phase::down);
    if (r->type == REDIS_REPLY_ERROR) {
      // No stream: nothing was ever written, or it was deleted.
      if (last_id_ == entry_id{}) return become_joined();
      return resync("the chat network's log is gone", true);
    }
    if (r->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i + 1 < r->elements; i += 2) {
        if (r->element[i]->type != REDIS_REPLY_STRING || text(*r->element[i]) != "max-deleted-entry-id") continue;
        auto deleted = entry_id::parse(text(*r->element[i + 1]));
        if (deleted && *deleted > last_id_) return resync("this node fell behind the chat network's log", true);
      }
    }
    spdlog::info("cluster: node {} ({}) back on Redis {}", node_, name_, cfg_.cluster.redis);
    become_joined();
  });
}

void chat_node::become_joined() {
  set_phase(phase::joined);
  stats_.cluster.joins_total.add();
  const auto now = steady::now();
  for (auto& [n, p] : peers_) p = {now, {}, p.name};  // leases count from now: Redis was away for all
  publish(k_heartbeat, 0, name_);  // the QUITs of users who left meanwhile first
  read_next();
}

void chat_node::resync(const std::string& why, bool announce) {
  spdlog::warn("cluster: node {} ({}) resyncs: {}; its chat users are disconnected", node_, name_, why);
  stats_.cluster.resyncs_total.add();
  out_.reset("Chat network resync (" + why + "), please reconnect");
  // The others drop this node's users when they apply its leave (not after a Redis restart:
  // the new log's node numbers start again, the old one may be someone else's now).
  if (announce && node_ != 0) publish(k_node_leave, 0, "Chat network resync", node_);
  node_ = 0;
  serial_ = 0;
  peers_.clear();
  gone_.clear();
  members_.clear();
  local_.clear();
  unsent_quits_.clear();
  last_id_ = {};
  new_hub();
  set_phase(phase::down);
  ++epoch_;
  reading_ = false;
  snapshotting_ = false;
  if (cmd_.connected() && sub_.connected()) join();
}

// ---- reading the log ------------------------------------------------------------------------

void chat_node::read_next() {
  if (reading_ || phase_ != phase::joined || stopping_) return;
  const auto block = std::clamp(cfg_.cluster.lease / 3, milliseconds(10), milliseconds(1000));
  const std::string block_ms = std::to_string(block.count());
  const std::string from = last_id_.str();
  const auto e = epoch_;
  reading_ = sub_.command({"XREAD", "COUNT", read_batch, "BLOCK", block_ms, "STREAMS", log_key_, from},
                          [this, e](const redisReply* r) { on_read(r, e); });
}

void chat_node::on_read(const redisReply* r, std::uint64_t e) {
  if (stopping_ || e != epoch_) return;
  reading_ = false;
  if (r == nullptr) return;  // the connection went: on_down
  if (r->type == REDIS_REPLY_ERROR) {
    spdlog::warn("cluster: XREAD refused: {}", text(*r));
    return;  // the next tick reads again
  }
  if (r->type == REDIS_REPLY_ARRAY) {
    for (std::size_t s = 0; s < r->elements; ++s) {
      const redisReply* stream = r->element[s];
      if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) continue;
      const redisReply* entries = stream->element[1];
      for (std::size_t i = 0; i < entries->elements; ++i) {
        const redisReply* en = entries->element[i];
        if (en->type != REDIS_REPLY_ARRAY || en->elements < 2 || en->element[0]->type != REDIS_REPLY_STRING ||
            en->element[1]->type != REDIS_REPLY_ARRAY)
          continue;
        apply_entry(text(*en->element[0]), *en->element[1]);
        if (e != epoch_ || stopping_) return;  // a resync: the rest belongs to the old mirror
      }
    }
  }
  read_next();
}

void chat_node::apply_entry(std::string_view id, const redisReply& fields) {
  if (auto parsed = entry_id::parse(id)) last_id_ = *parsed;
  stats_.cluster.applied_total.add();
  ++applied_since_snapshot_;
  std::uint32_t n = 0;
  char kind = 0;
  core::client_id client = 0;
  std::int64_t t = 0;
  std::string_view data;
  for (std::size_t i = 0; i + 1 < fields.elements; i += 2) {
    const auto* f = fields.element[i];
    const auto* v = fields.element[i + 1];
    if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || f->len != 1) continue;
    const auto value = text(*v);
    switch (f->str[0]) {
      case 'n': parse_number(value, n); break;
      case 'k': kind = value.empty() ? 0 : value[0]; break;
      case 'c': parse_number(value, client); break;
      case 't': parse_number(value, t); break;
      case 'd': data = value; break;
      default: break;
    }
  }
  if (n == 0 || gone_.count(n) != 0) return;  // a node declared down or gone says nothing more
  auto& p = peers_[n];
  p.last_seen = steady::now();
  hub_->set_time(t);  // the publisher's time: every mirror records the same
  const bool remote = n != node_;
  const bool owned = node_of(client) == n;
  switch (kind) {
    case k_heartbeat: p.name = std::string(data); break;
    case k_connect:
      if (!owned) break;
      hub_->connect(client, std::string(data));
      members_[n].insert(client);
      if (!remote) local_.insert(client);
      break;
    case k_line:
      if (!owned || (remote && read_only(command_word(data)))) break;
      if (!remote && local_.count(client) == 0) return lost_client(client);
      apply(client, hub_->on_line(client, data));
      break;
    case k_too_long:
      if (!owned || remote) break;
      if (local_.count(client) == 0) return lost_client(client);
      apply(client, hub_->on_line_too_long(client));
      break;
    case k_disconnect:
      if (!owned) break;
      if (auto m = members_.find(n); m != members_.end()) m->second.erase(client);
      local_.erase(client);
      apply(client, hub_->disconnect(client, data));
      break;
    case k_node_down: {
      auto space = data.find(' ');
      std::uint32_t target = 0;
      if (!parse_number(data.substr(0, space), target) || target == 0) break;
      auto reason = space == std::string_view::npos ? std::string_view("*.net *.split") : data.substr(space + 1);
      if (target == node_) {
        resync("this node was declared down by node " + std::to_string(n));
        return;
      }
      drop_node(target, reason);
      break;
    }
    case k_node_leave: drop_node(n, data); break;
    default: break;
  }
}

void chat_node::apply(core::client_id actor, core::hub_output out) {
  auto forget = [this](core::client_id id) {
    if (auto m = members_.find(node_of(id)); m != members_.end()) m->second.erase(id);
  };
  if (out.close) forget(actor);  // QUIT, or a KILL of oneself
  for (auto id : out.close_others) forget(id);
  out_.apply(actor, std::move(out));
}

void chat_node::drop_node(std::uint32_t n, std::string_view reason) {
  if (n == 0 || gone_.count(n) != 0) return;
  gone_.insert(n);
  peers_.erase(n);
  std::set<core::client_id> ids;
  if (auto m = members_.find(n); m != members_.end()) {
    ids = std::move(m->second);
    members_.erase(m);
  }
  if (n != node_) spdlog::info("cluster: node {} left the chat network ({}), {} user(s) with it", n, reason, ids.size());
  // In id order, on every node the same: peers see each one QUIT with `reason`.
  for (auto id : ids) out_.apply(id, hub_->disconnect(id, reason));
}

void chat_node::lost_client(core::client_id id) {
  core::hub_output out;
  out.deliveries.push_back(core::delivery{
      core::make_shared_line(core::format_message("", "ERROR", {"Chat network lost this connection, please reconnect"},
                                                  {cfg_.limits.max_line_bytes, true})),
      {id}});
  out.close = true;
  local_.insert(id);  // told once; its disconnect clears it
  out_.apply(id, std::move(out));
}

std::string chat_node::split_reason(std::uint32_t n) const {
  auto it = peers_.find(n);
  const std::string name = it != peers_.end() && !it->second.name.empty() ? it->second.name : "node-" + std::to_string(n);
  return cfg_.chat_service.server_name + " " + name;
}

// ---- the heartbeat and the others' leases ---------------------------------------------------

void chat_node::schedule_tick() {
  const auto period = std::clamp(cfg_.cluster.lease / 3, milliseconds(20), milliseconds(10000));
  tick_timer_.expires_after(period);
  tick_timer_.async_wait([this](std::error_code ec) {
    if (ec || stopping_) return;
    tick();
    schedule_tick();
  });
}

void chat_node::tick() {
  stats_.cluster.queue_bytes.value.store(cmd_.pending_bytes(), std::memory_order_relaxed);
  if (phase_ == phase::down && cmd_.connected() && sub_.connected()) return join();
  if (phase_ != phase::joined) return;
  publish(k_heartbeat, 0, name_);  // and the QUITs kept back, first
  if (!reading_) read_next();
  maybe_snapshot();
  const auto now = steady::now();
  const auto lease = cfg_.cluster.lease;
  for (auto& [n, p] : peers_) {
    if (n == node_ || gone_.count(n) != 0 || now - p.last_seen < lease) continue;
    if (p.declared != steady::time_point{} && now - p.declared < lease) continue;  // said already
    const auto reason = split_reason(n);
    if (publish(k_node_down, 0, std::to_string(n) + " " + reason)) {
      p.declared = now;
      stats_.cluster.declared_down_total.add();
      spdlog::warn("cluster: node {} silent for {} ms: declared down ({})", n,
                   std::chrono::duration_cast<milliseconds>(now - p.last_seen).count(), reason);
    }
  }
}

}  // namespace simul::cluster
