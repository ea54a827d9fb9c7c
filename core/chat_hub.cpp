// chat_hub: connection lifecycle, state bookkeeping and the reply helpers of its call context.
// The command handlers are in chat_commands.cpp.
#include "core/chat_hub.hpp"

#include <algorithm>
#include <array>

#include "core/chat_context.hpp"
#include "core/errc.hpp"

namespace simul::core {

chat_hub::chat_hub(hub_config config) : config_(std::move(config)) {
  // Nothing below this can hold a useful reply; keep replies well-formed even if misconfigured.
  if (config_.max_line_bytes < 64) config_.max_line_bytes = 64;
  if (config_.nick_len == 0) config_.nick_len = 1;
  if (config_.channel_len < 2) config_.channel_len = 2;
  if (config_.server_name.empty()) config_.server_name = "simul.local";
}

chat_hub::~chat_hub() = default;

void chat_hub::connect(client_id id, std::string host) {
  if (auto it = clients_.find(id); it != clients_.end()) {
    // A reused id means the caller skipped disconnect(): drop the stale state first.
    context(*this, *it->second).remove_client("Connection reset", false);
  }
  auto c = std::make_unique<client>();
  c->id = id;
  c->host = host.empty() ? std::string("unknown") : std::move(host);
  if (c->host.size() > max_host_len) c->host.resize(max_host_len);
  clients_.emplace(id, std::move(c));
}

hub_output chat_hub::on_line(client_id id, std::string_view line) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return {};
  context ctx(*this, *it->second);
  irc_message m;
  if (auto ec = parse_message(line, m)) {
    ctx.parse_error(ec, line);
  } else {
    ctx.dispatch(m);
  }
  return ctx.take();
}

hub_output chat_hub::on_line_too_long(client_id id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return {};
  context ctx(*this, *it->second);
  ctx.line_too_long();
  return ctx.take();
}

hub_output chat_hub::disconnect(client_id id, std::string_view reason) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return {};
  context ctx(*this, *it->second);
  ctx.remove_client(reason.empty() ? std::string_view("Connection closed") : reason, true);
  return ctx.take();
}

hub_output chat_hub::make_error_and_close(client_id id, std::string_view msg) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return {};
  context ctx(*this, *it->second);
  ctx.error_and_close(msg);
  return ctx.take();
}

hub_output chat_hub::shutdown(std::string_view msg) {
  hub_output out;
  if (!clients_.empty()) {
    delivery d;
    d.line = make_shared_line(format_message("", "ERROR", {msg}, {config_.max_line_bytes, true}));
    d.to.reserve(clients_.size());
    for (const auto& [id, c] : clients_) d.to.push_back(id);
    std::sort(d.to.begin(), d.to.end());
    out.deliveries.push_back(std::move(d));
  }
  clients_.clear();
  nicks_.clear();
  rooms_.clear();
  registered_ = 0;
  out.close = true;
  out.close_reason = std::string(msg);
  return out;
}

shared_line chat_hub::make_ping() const {
  return make_shared_line(format_message("", "PING", {config_.server_name}, {config_.max_line_bytes, true}));
}

bool chat_hub::is_registered(client_id id) const {
  auto it = clients_.find(id);
  return it != clients_.end() && it->second->registered;
}

std::string_view chat_hub::nick(client_id id) const {
  auto it = clients_.find(id);
  if (it == clients_.end()) return {};
  return it->second->nick.empty() ? std::string_view("*") : std::string_view(it->second->nick);
}

std::size_t chat_hub::users() const noexcept { return registered_; }
std::size_t chat_hub::rooms() const noexcept { return rooms_.size(); }
std::size_t chat_hub::connections() const noexcept { return clients_.size(); }

// ---- context: output helpers --------------------------------------------------------------------

std::string_view chat_hub::context::me() const {
  return c_ == nullptr || c_->nick.empty() ? std::string_view("*") : std::string_view(c_->nick);
}

void chat_hub::context::send_self(std::string line) {
  if (c_ == nullptr) return;
  out_.deliveries.push_back({make_shared_line(std::move(line)), {c_->id}});
}

void chat_hub::context::send(std::vector<client_id> to, std::string line) {
  if (to.empty()) return;
  out_.deliveries.push_back({make_shared_line(std::move(line)), std::move(to)});
}

namespace {

// Builds a line whose parameters are `first` (if not empty) followed by `rest`.
std::string build(std::string_view prefix, std::string_view command, std::string_view first,
                  std::initializer_list<std::string_view> rest, bool trailing, std::size_t max) {
  std::array<std::string_view, 20> all{};
  std::size_t n = 0;
  if (!first.empty()) all[n++] = first;
  for (auto p : rest) {
    if (n == all.size()) break;
    all[n++] = p;
  }
  return format_message(prefix, command, std::span<const std::string_view>(all.data(), n), {max, trailing});
}

}  // namespace

std::string chat_hub::context::server_line(std::string_view command, params p, bool trailing) const {
  return build(hub_.config_.server_name, command, {}, p, trailing, hub_.config_.max_line_bytes);
}

std::string chat_hub::context::user_line(std::string_view command, params p, bool trailing) const {
  return build(c_->prefix, command, {}, p, trailing, hub_.config_.max_line_bytes);
}

void chat_hub::context::numeric(std::string_view code, params p, bool trailing) {
  send_self(build(hub_.config_.server_name, code, me(), p, trailing, hub_.config_.max_line_bytes));
}

void chat_hub::context::not_enough_params(std::string_view command) {
  numeric("461", {clip(command), "Not enough parameters"});
}

std::vector<client_id> chat_hub::context::peers() const {
  std::vector<client_id> to;
  if (c_ == nullptr) return to;
  for (const auto& key : c_->rooms) {
    auto it = hub_.rooms_.find(key);
    if (it == hub_.rooms_.end()) continue;
    for (auto id : it->second->members) {
      if (id != c_->id) to.push_back(id);
    }
  }
  if (c_->rooms.size() > 1) {  // someone sharing two rooms hears it once
    std::sort(to.begin(), to.end());
    to.erase(std::unique(to.begin(), to.end()), to.end());
  }
  return to;
}

// ---- context: lifecycle ---------------------------------------------------------------------

void chat_hub::context::parse_error(std::error_code ec, std::string_view line) {
  if (ec == errc::empty_message) return;  // RFC 1459 2.3.1: empty messages are silently ignored
  if (ec == errc::bad_command) {
    if (c_->registered) {
      // Echo the offending token (clipped): skip tags and prefix the way the parser does.
      std::string_view rest = line;
      auto word = [&rest]() {
        auto start = rest.find_first_not_of(' ');
        if (start == std::string_view::npos) return std::string_view{};
        rest.remove_prefix(start);
        auto end = rest.find(' ');
        auto w = rest.substr(0, end);
        rest.remove_prefix(w.size());
        return w;
      };
      auto w = word();
      if (!w.empty() && w.front() == '@') w = word();
      if (!w.empty() && w.front() == ':') w = word();
      numeric("421", {w.empty() ? std::string_view("*") : clip(w, 32), "Unknown command"});
    } else {
      numeric("451", {"You have not registered"});
    }
    return;
  }
  // forbidden_byte, bad_prefix, too_many_params: 400 ERR_UNKNOWNERROR (modern IRC numerics).
  numeric("400", {"*", ec.message()});
}

void chat_hub::context::line_too_long() { numeric("417", {"Input line was too long"}); }

void chat_hub::context::error_and_close(std::string_view msg) {
  // ERROR carries no prefix, as on every common server.
  send_self(format_message("", "ERROR", {msg}, {hub_.config_.max_line_bytes, true}));
  out_.close = true;
  out_.close_reason = std::string(msg);
  remove_client(msg, true);
}

void chat_hub::context::remove_client(std::string_view reason, bool broadcast) {
  if (c_ == nullptr) return;
  if (broadcast && c_->registered) {
    send(peers(), user_line("QUIT", {reason}));
  }
  while (!c_->rooms.empty()) leave_room(std::string(c_->rooms.back()));
  if (!c_->nick.empty()) {
    auto it = hub_.nicks_.find(ascii_lower(c_->nick));
    if (it != hub_.nicks_.end() && it->second == c_->id) hub_.nicks_.erase(it);
  }
  if (c_->registered) --hub_.registered_;
  auto id = c_->id;
  c_ = nullptr;
  hub_.clients_.erase(id);  // destroys the client c_ pointed to
}

void chat_hub::context::leave_room(std::string key) {
  auto rit = hub_.rooms_.find(key);
  if (rit != hub_.rooms_.end()) {
    auto& members = rit->second->members;
    members.erase(std::remove(members.begin(), members.end(), c_->id), members.end());
    if (members.empty()) hub_.rooms_.erase(rit);  // empty rooms are deleted
  }
  auto& mine = c_->rooms;
  mine.erase(std::remove(mine.begin(), mine.end(), key), mine.end());
}

}  // namespace simul::core
