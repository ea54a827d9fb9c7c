// A log line with structured fields. spdlog 1.10 logs only a message; a log_event adds named
// facts (peer, service, reason, bytes...) that the text format writes into its sentence and the
// JSON format also writes as keys of the line's object:
//
//   log_event("connection_closed", "{service}: closed the connection from {peer}")
//       .with("service", "echo").with("peer", "127.0.0.1").debug();
//
//   text: 2026-11-30 07:00:00.000 debug echo: closed the connection from 127.0.0.1
//   json: {"time":...,"level":"debug","pid":1,"msg":"echo: closed the connection from 127.0.0.1",
//          "event":"connection_closed","service":"echo","peer":"127.0.0.1"}
//
// The message is a template: "{name}" is replaced by that field's value. A field the template does
// not name is appended to the text as ` name=value` (quoted when it holds a space, a quote or an
// '='), so text loses nothing; json_only() marks a field the sentence already says in words.
// The event name is for the JSON line only (a stable key to filter on). Any thread: an event
// is built and emitted on the thread that logs it.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace simul::server {

class log_event {
 public:
  log_event(std::string_view event, std::string_view message_template) : event_(event), template_(message_template) {}

  /// Adds a field: a string (JSON string), an integer or bool (JSON number or true/false), or a
  /// double (JSON number with `decimals` digits after the point). Keys are JSON-safe names
  /// other than time, level, pid, msg and event.
  log_event& with(std::string_view key, std::string_view value);
  log_event& with(std::string_view key, const char* value) { return with(key, std::string_view(value)); }
  template <std::integral T>
  log_event& with(std::string_view key, T value) {
    if constexpr (std::same_as<T, bool>)
      return raw(key, value ? "true" : "false");
    else
      return raw(key, std::to_string(value));
  }
  log_event& with(std::string_view key, double value, int decimals = 3);
  /// Marks the last field as one the sentence already says in words: a JSON key only, not
  /// appended to the text.
  log_event& json_only() noexcept;

  /// Emits the line at that level on the default logger (nothing when the level is off).
  void trace() const;
  void debug() const;
  void info() const;
  void warn() const;
  void error() const;
  void critical() const;

  /// The text format's message: the template filled in, then the fields it did not name.
  std::string text() const;
  /// The JSON members after "msg": ,"event":"...","key":value,... (used by the JSON formatter).
  std::string json_members() const;
  /// The template filled in (the JSON "msg").
  std::string message() const;

 private:
  struct field {
    std::string key;
    std::string value;
    bool is_string;
    bool in_text = true;
  };
  log_event& raw(std::string_view key, std::string value);
  void emit(int level) const;
  std::string fill(std::vector<bool>* used) const;

  std::string event_;
  std::string template_;
  std::vector<field> fields_;
};

/// The event being emitted on this thread, or null: how the JSON formatter (logging.cpp) finds
/// the fields of the line it formats.
const log_event* emitting_log_event() noexcept;

/// Escapes `text` for use inside a JSON string (quotes, backslashes, control bytes as \u00XX) and
/// appends it to `out`. Bytes >= 0x80 pass unchanged.
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace simul::server
