// A small streaming JSON writer (no JSON library is available): objects, arrays, strings with
// full escaping (control characters, invalid UTF-8 replaced by U+FFFD), integers, finite doubles.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace simul::load {

/// Builds one JSON document in memory, indented by two spaces. Misuse (a value where a key is
/// required) is a programming error, not checked. Not thread-safe.
class json_writer {
 public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  /// Inside an object: the next member's name.
  json_writer& key(std::string_view name);

  json_writer& value(std::string_view s);
  json_writer& value(const char* s) { return value(std::string_view(s)); }
  json_writer& value(const std::string& s) { return value(std::string_view(s)); }
  json_writer& value(bool b);
  json_writer& value(double d);  // NaN and infinities become null
  json_writer& value(std::int64_t i);
  json_writer& value(std::uint64_t u);
  json_writer& value(int i) { return value(static_cast<std::int64_t>(i)); }
  json_writer& value(unsigned u) { return value(static_cast<std::uint64_t>(u)); }
  json_writer& null();

  /// key(name).value(v) in one call.
  template <typename T>
  json_writer& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const noexcept { return out_; }

  /// The JSON string literal for `s`, quotes included.
  static std::string quote(std::string_view s);

 private:
  void before_value();
  void newline();

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace simul::load
