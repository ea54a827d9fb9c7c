// config → YAML: the effective configuration that `--check-config` prints, with the keys of
// config/server.yaml in its order (the key table, config_fields.hpp). The output loads back to
// the same config.
#include <concepts>
#include <utility>
#include <vector>

#include "server/common/config.hpp"
#include "server/common/config_fields.hpp"

namespace simul::server {
namespace {

using namespace config_detail;

// Collects every key's value as it is written in YAML.
class writer {
 public:
  std::vector<std::pair<std::string, std::string>> values;

  void operator()(std::string_view key, bool v) { line(key, v ? "true" : "false"); }
  template <std::unsigned_integral T>
  void operator()(std::string_view key, T v, int_rule) {
    line(key, std::to_string(v));
  }
  void operator()(std::string_view key, double v, real_rule) { line(key, format_real(v)); }
  void operator()(std::string_view key, std::chrono::milliseconds v, duration_rule) {
    line(key, format_duration(v));
  }
  void operator()(std::string_view key, const std::string& v, text_rule rule) {
    line(key, rule.plain ? v : quote(v));
  }
  void operator()(std::string_view key, model_kind m) { line(key, std::string(to_string(m))); }

 private:
  void line(std::string_view key, std::string value) { values.emplace_back(key, std::move(value)); }
};

}  // namespace

std::string to_yaml(const config& cfg) {
  config shown = cfg;
  // The file is named, not inlined: loading the output reads it again (motd_file is absolute).
  if (!shown.chat_service.motd_file.empty()) shown.chat_service.motd.clear();
  std::string text = "# simul-server effective configuration\n";
  std::string_view section_now;
  for (const auto& [key, value] : config_values(shown)) {
    auto dot = key.find('.');
    std::string_view section = dot == std::string::npos ? std::string_view() : std::string_view(key).substr(0, dot);
    if (section != section_now) {
      section_now = section;
      if (!section.empty()) text += std::string(section) + ":\n";
    }
    text += section.empty() ? "" : "  ";
    text += key.substr(dot == std::string::npos ? 0 : dot + 1);
    text += ": " + value + "\n";
  }
  return text;
}

std::vector<std::pair<std::string, std::string>> config_values(const config& cfg) {
  writer w;
  visit_fields(cfg, w);
  return std::move(w.values);
}

}  // namespace simul::server
