// The table of server models: the one place their names are spelled. The command line, the
// config reader and writer, the metrics label and the tests all read it.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace simul::server {

enum class model_kind { async, threaded };

struct model_info {
  model_kind kind;
  std::string_view name;     // as in config and on the command line
  std::string_view summary;  // one line for --help
};

inline constexpr std::array<model_info, 2> model_table{{
    {model_kind::async, "async", "one thread, one io_context, a coroutine per connection (default)"},
    {model_kind::threaded, "threaded", "one OS thread per connection, blocking I/O"},
}};

/// The model's name ("async", "threaded").
constexpr std::string_view to_string(model_kind m) noexcept {
  for (const auto& i : model_table)
    if (i.kind == m) return i.name;
  return "?";
}

/// The model named `name`; nullopt for anything else.
constexpr std::optional<model_kind> parse_model(std::string_view name) noexcept {
  for (const auto& i : model_table)
    if (i.name == name) return i.kind;
  return std::nullopt;
}

/// Every model name joined for a message: "async or threaded".
inline std::string model_names() {
  std::string s;
  for (std::size_t i = 0; i < model_table.size(); ++i) {
    if (i > 0) s += i + 1 == model_table.size() ? " or " : ", ";
    s += model_table[i].name;
  }
  return s;
}

}  // namespace simul::server
