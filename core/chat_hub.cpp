// chat_hub: connection lifecycle, the command table (dispatch, 451, 461 and 421 in one place) and
// the reply helpers of its call context. The command handlers are in chat_*.cpp.
#include "core/chat_hub.hpp"

#include <algorithm>
#include <array>

#include "core/chat_context.hpp"
#include "core/chat_state.hpp"
#include "core/errc.hpp"

namespace simul::core {

chat_hub::chat_hub(hub_config config) : config_(std::move(config)), state_(std::make_unique<chat_state>()) {
  // Nothing below this can hold a useful reply; keep replies well-formed even if misconfigured.
  if (config_.max_line_bytes < 64) config_.max_line_bytes = 64;
  if (config_.nick_len == 0) config_.nick_len = 1;
  if (config_.channel_len < 2) config_.channel_len = 2;
  if (config_.server_name.empty()) config_.server_name = "simul.local";
}

chat_hub::~chat_hub() = default;

void chat_hub::connect(client_id id, std::string host) {
  if (chat_client* stale = state_->find(id)) {
    // A reused id means the caller skipped disconnect(): drop the stale state first.
    context(*this, *stale).remove_client("Connection reset", false);
  }
  if (host.size() > max_host_len) host.resize(max_host_len);
  state_->add(id, std::move(host));
}

hub_output chat_hub::on_line(client_id id, std::string_view line) {
  chat_client* c = state_->find(id);
  if (c == nullptr) return {};
  context ctx(*this, *c);
  irc_message m;
  if (auto ec = parse_message(line, m)) {
    ctx.parse_error(ec, line);
  } else {
    ctx.dispatch(m);
  }
  return ctx.take();
}

hub_output chat_hub::on_line_too_long(client_id id) {
  chat_client* c = state_->find(id);
  if (c == nullptr) return {};
  context ctx(*this, *c);
  ctx.line_too_long();
  return ctx.take();
}

hub_output chat_hub::disconnect(client_id id, std::string_view reason) {
  chat_client* c = state_->find(id);
  if (c == nullptr) return {};
  context ctx(*this, *c);
  ctx.remove_client(reason.empty() ? std::string_view("Connection closed") : reason, true);
  return ctx.take();
}

hub_output chat_hub::make_error_and_close(client_id id, std::string_view msg) {
  chat_client* c = state_->find(id);
  if (c == nullptr) return {};
  context ctx(*this, *c);
  ctx.error_and_close(msg);
  return ctx.take();
}

hub_output chat_hub::shutdown(std::string_view msg) {
  hub_output out;
  if (!state_->clients().empty()) {
    delivery d;
    d.line = make_shared_line(format_message("", "ERROR", {msg}, {config_.max_line_bytes, true}));
    d.to.reserve(state_->clients().size());
    for (const auto& [id, c] : state_->clients()) d.to.push_back(id);
    std::sort(d.to.begin(), d.to.end());
    out.deliveries.push_back(std::move(d));
  }
  state_->clear();
  out.close = true;
  return out;
}

shared_line chat_hub::make_ping() const {
  return make_shared_line(format_message("", "PING", {config_.server_name}, {config_.max_line_bytes, true}));
}

bool chat_hub::is_registered(client_id id) const {
  const chat_client* c = state_->find(id);
  return c != nullptr && c->registered;
}

std::string_view chat_hub::nick(client_id id) const {
  const chat_client* c = state_->find(id);
  if (c == nullptr) return {};
  return c->nick.empty() ? std::string_view("*") : std::string_view(c->nick);
}

std::string chat_hub::save() const { return state_->save(); }

chat_hub::load_result chat_hub::load(std::string_view snapshot) {
  std::string why = state_->load(snapshot);
  return {why.empty(), std::move(why)};
}

std::size_t chat_hub::users() const noexcept { return state_->users(); }
std::size_t chat_hub::rooms() const noexcept { return state_->rooms().size(); }
std::size_t chat_hub::connections() const noexcept { return state_->clients().size(); }

// ---- context: the command table -----------------------------------------------------------------

// Minimum parameters as RFC 2812 requires them; where a missing parameter has its own numeric
// (NICK 431, PRIVMSG 411/412, PING 409, WHOIS 431) the count is 0 and the handler answers.
const chat_hub::context::command_entry chat_hub::context::commands_[] = {
    {"PRIVMSG", &context::on_message, 0, false}, {"NOTICE", &context::on_message, 0, false},
    {"PING", &context::on_ping, 0, true},        {"PONG", nullptr, 0, true},
    {"JOIN", &context::on_join, 1, false},       {"PART", &context::on_part, 1, false},
    {"NICK", &context::on_nick, 0, true},        {"USER", &context::on_user, 4, true},
    {"CAP", &context::on_cap, 1, true},          {"PASS", &context::on_pass, 0, true},
    {"QUIT", &context::on_quit, 0, true},        {"TOPIC", &context::on_topic, 1, false},
    {"NAMES", &context::on_names, 0, false},     {"LIST", &context::on_list, 0, false},
    {"MODE", &context::on_mode, 1, false},       {"WHO", &context::on_who, 0, false},
    {"WHOIS", &context::on_whois, 0, false},     {"USERHOST", &context::on_userhost, 1, false},
    {"ISON", &context::on_ison, 1, false},       {"MOTD", &context::on_motd, 0, false},
    {"LUSERS", &context::on_lusers, 0, false},   {"KICK", &context::on_kick, 2, false},
    {"INVITE", &context::on_invite, 2, false},   {"AWAY", &context::on_away, 0, false},
    {"OPER", &context::on_oper, 2, false},       {"KILL", &context::on_kill, 2, false},
    {"WALLOPS", &context::on_wallops, 1, false}, {"WHOWAS", &context::on_whowas, 0, false},
};

void chat_hub::context::dispatch(const irc_message& m) {
  for (const auto& e : commands_) {
    if (e.name != m.command) continue;
    if (!c_->registered && !e.before_registration) return reply(num::err_notregistered);
    if (e.name == "USER" && (c_->registered || !c_->user.empty())) return reply(num::err_alreadyregistered);
    for (std::size_t i = 0; i < e.min_params; ++i) {
      if (m.param(i).empty()) return need_more_params(e.name);
    }
    if (e.fn != nullptr) (this->*e.fn)(m);
    return;
  }
  if (!c_->registered) return reply(num::err_notregistered);
  reply(num::err_unknowncommand, {clip(m.command, 32)});
}

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

// Builds a line whose parameters are `first` (if not empty), then `rest`, then `last` (if not empty).
std::string build(std::string_view prefix, std::string_view command, std::string_view first,
                  std::initializer_list<std::string_view> rest, std::string_view last, bool trailing,
                  std::size_t max) {
  std::array<std::string_view, 20> all{};
  std::size_t n = 0;
  if (!first.empty()) all[n++] = first;
  for (auto p : rest) {
    if (n + 1 == all.size()) break;
    all[n++] = p;
  }
  if (!last.empty()) all[n++] = last;
  return format_message(prefix, command, std::span<const std::string_view>(all.data(), n), {max, trailing});
}

}  // namespace

std::string chat_hub::context::server_line(std::string_view cmd, params p, bool trailing) const {
  return build(cfg().server_name, cmd, {}, p, {}, trailing, cfg().max_line_bytes);
}

std::string chat_hub::context::user_line(std::string_view cmd, params p, bool trailing) const {
  return build(c_->prefix, cmd, {}, p, {}, trailing, cfg().max_line_bytes);
}

void chat_hub::context::reply(const numeric_reply& n, params p, bool trailing) {
  send_self(build(cfg().server_name, n.code, me(), p, n.text, trailing, cfg().max_line_bytes));
}

void chat_hub::context::need_more_params(std::string_view cmd) {
  reply(num::err_needmoreparams, {clip(cmd)});
}

std::vector<client_id> chat_hub::context::member_ids(const chat_room& r, std::optional<client_id> except) {
  std::vector<client_id> to;
  to.reserve(r.members.size());
  for (const auto& mb : r.members) {
    if (mb.id != except) to.push_back(mb.id);
  }
  return to;
}

// ---- context: lifecycle ---------------------------------------------------------------------

void chat_hub::context::parse_error(std::error_code ec, std::string_view line) {
  if (ec == errc::empty_message) return;  // RFC 1459 2.3.1: empty messages are silently ignored
  if (ec == errc::bad_command) {
    if (!c_->registered) return reply(num::err_notregistered);
    // Echo the offending token (clipped): skip tags and prefix the way the parser does.
    std::string_view rest = line;
    auto word = [&rest]() {
      auto start = rest.find_first_not_of(' ');
      if (start == std::string_view::npos) return std::string_view{};
      rest.remove_prefix(start);
      auto w = rest.substr(0, rest.find(' '));
      rest.remove_prefix(w.size());
      return w;
    };
    auto w = word();
    if (!w.empty() && w.front() == '@') w = word();
    if (!w.empty() && w.front() == ':') w = word();
    return reply(num::err_unknowncommand, {w.empty() ? std::string_view("*") : clip(w, 32)});
  }
  // forbidden_byte, bad_prefix, too_many_params: 400 ERR_UNKNOWNERROR (modern IRC numerics).
  reply(num::err_unknownerror, {"*", ec.message()});
}

void chat_hub::context::line_too_long() { reply(num::err_inputtoolong); }

void chat_hub::context::error_and_close(std::string_view msg) {
  // ERROR carries no prefix, as on every common server.
  send_self(format_message("", "ERROR", {msg}, {cfg().max_line_bytes, true}));
  out_.close = true;
  remove_client(msg, true);
}

void chat_hub::context::remove_client(std::string_view reason, bool broadcast) {
  if (c_ == nullptr) return;
  if (broadcast && c_->registered) send(st_.peers(*c_), user_line("QUIT", {reason}));
  st_.remember(*c_, now());
  chat_client& c = *c_;
  c_ = nullptr;
  st_.remove(c);  // destroys c
}

void chat_hub::context::kill_client(chat_client& victim, std::string_view quit_reason, std::string_view error) {
  out_.deliveries.push_back(
      {make_shared_line(format_message("", "ERROR", {error}, {cfg().max_line_bytes, true})), {victim.id}});
  send(st_.peers(victim), build(victim.prefix, "QUIT", {}, {quit_reason}, {}, true, cfg().max_line_bytes));
  if (c_ == &victim) {
    out_.close = true;
    c_ = nullptr;
  } else {
    out_.close_others.push_back(victim.id);
  }
  st_.remember(victim, now());
  st_.remove(victim);
}

}  // namespace simul::core
