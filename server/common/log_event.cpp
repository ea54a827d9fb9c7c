// log_event: a template message with named fields, written as text or as JSON keys.
#include "server/common/log_event.hpp"

#include <cmath>

#include <spdlog/spdlog.h>

namespace simul::server {
namespace {

// The event being emitted on this thread. spdlog's default logger is synchronous: its sink
// formats the line on the calling thread, inside logger->log(), so the JSON formatter finds
// the event here.
thread_local const log_event* emitting = nullptr;

// A text value as logfmt writes it: bare when it is a plain word, else quoted and escaped.
void append_text_value(std::string& out, std::string_view v) {
  bool plain = !v.empty();
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) plain = false;
  if (plain) {
    out += v;
    return;
  }
  out += '"';
  append_json_escaped(out, v);
  out += '"';
}

}  // namespace

void append_json_escaped(std::string& out, std::string_view text) {
  static const char* hex = "0123456789abcdef";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      const char esc[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
      out.append(esc, sizeof esc);
    } else {
      out += c;
    }
  }
}

log_event& log_event::with(std::string_view key, std::string_view value) {
  fields_.push_back({std::string(key), std::string(value), true});
  return *this;
}

log_event& log_event::with(std::string_view key, double value, int decimals) {
  if (!std::isfinite(value)) return raw(key, "null");
  return raw(key, fmt::format("{:.{}f}", value, decimals));
}

log_event& log_event::json_only() noexcept {
  if (!fields_.empty()) fields_.back().in_text = false;
  return *this;
}

log_event& log_event::raw(std::string_view key, std::string value) {
  fields_.push_back({std::string(key), std::move(value), false});
  return *this;
}

std::string log_event::fill(std::vector<bool>* used) const {
  std::string out;
  out.reserve(template_.size() + 16 * fields_.size());
  for (std::size_t i = 0; i < template_.size();) {
    if (template_[i] == '{') {
      auto end = template_.find('}', i + 1);
      if (end != std::string::npos) {
        std::string_view name(template_.data() + i + 1, end - i - 1);
        std::size_t f = 0;
        while (f < fields_.size() && fields_[f].key != name) ++f;
        if (f < fields_.size()) {
          out += fields_[f].value;
          if (used) (*used)[f] = true;
          i = end + 1;
          continue;
        }
      }
    }
    out += template_[i++];
  }
  return out;
}

std::string log_event::message() const { return fill(nullptr); }

std::string log_event::text() const {
  std::vector<bool> used(fields_.size(), false);
  auto out = fill(&used);
  for (std::size_t f = 0; f < fields_.size(); ++f) {
    if (used[f] || !fields_[f].in_text) continue;
    out += ' ';
    out += fields_[f].key;
    out += '=';
    append_text_value(out, fields_[f].value);
  }
  return out;
}

std::string log_event::json_members() const {
  std::string out = ",\"event\":\"";
  append_json_escaped(out, event_);
  out += '"';
  for (const auto& f : fields_) {
    out += ",\"";
    append_json_escaped(out, f.key);
    out += "\":";
    if (f.is_string) {
      out += '"';
      append_json_escaped(out, f.value);
      out += '"';
    } else {
      out += f.value;
    }
  }
  return out;
}

void log_event::emit(int level) const {
  auto lvl = static_cast<spdlog::level::level_enum>(level);
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(lvl)) return;
  struct reset {
    ~reset() { emitting = nullptr; }
  } guard;
  emitting = this;
  logger->log(lvl, "{}", text());
}

void log_event::trace() const { emit(spdlog::level::trace); }
void log_event::debug() const { emit(spdlog::level::debug); }
void log_event::info() const { emit(spdlog::level::info); }
void log_event::warn() const { emit(spdlog::level::warn); }
void log_event::error() const { emit(spdlog::level::err); }
void log_event::critical() const { emit(spdlog::level::critical); }

const log_event* emitting_log_event() noexcept { return emitting; }

}  // namespace simul::server
