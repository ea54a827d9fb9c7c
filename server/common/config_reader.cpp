// YAML → config (yaml-cpp): reads a document over a base config, one key at a time from the key
// table (config_fields.hpp). Unknown and duplicate keys, wrong types and out-of-range values are
// errors "file:line:col: key: reason"; cross-field checks are validate()'s (config.cpp).
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <concepts>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <utility>

#include "server/common/config.hpp"
#include "server/common/config_fields.hpp"

namespace simul::server {
namespace {

using namespace config_detail;

std::vector<std::string> all_keys() {
  std::vector<std::string> keys;
  config c;
  visit_fields(c, [&](std::string_view key, auto&&...) { keys.emplace_back(key); });
  return keys;
}

std::string at(const std::string& name, const YAML::Mark& m) {
  if (m.is_null()) return name;
  return name + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return (n.Tag() == "!" ? "a string " : "") + show(n.Scalar());
    default:
      return "nothing";
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean max_line_bytes?)" for a near miss among the keys beside `dotted`.
std::string suggestion(const std::string& dotted, const std::vector<std::string>& keys) {
  auto dot = dotted.rfind('.');
  std::string prefix = dot == std::string::npos ? "" : dotted.substr(0, dot + 1);
  std::string last = dotted.substr(prefix.size());
  if (last.size() > 64) return "";  // nothing is near, and edit_distance costs len * len
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& k : keys) {
    if (k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string name = k.substr(prefix.size());
    name = name.substr(0, name.find('.'));
    auto common =
        std::mismatch(last.begin(), last.end(), name.begin(), name.end()).first - last.begin();
    auto d = edit_distance(last, name);
    bool near = d <= std::max<std::size_t>(2, last.size() / 3) ||
                static_cast<std::size_t>(common) >= std::max<std::size_t>(6, last.size() / 2);
    if (near && d < best_d) {
      best_d = d;
      best = name;
    }
  }
  return best.empty() ? "" : " (did you mean " + best + "?)";
}

// Collects the leaves of a document by dotted key, rejecting unknown and duplicate keys, then
// (as a visit_fields visitor) converts each one into its field.
class reader {
 public:
  reader(std::string name, config_origins& origins)
      : name_(std::move(name)), origins_(origins), keys_(all_keys()) {}

  void collect(const YAML::Node& map, const std::string& prefix) {
    for (const auto& kv : map) {
      const YAML::Node k = kv.first;
      const YAML::Node v = kv.second;
      if (!k.IsScalar()) fail(at(name_, k.Mark()), prefix, "keys must be plain names");
      std::string dotted = prefix.empty() ? k.Scalar() : prefix + "." + k.Scalar();
      if (auto seen = seen_.find(dotted); seen != seen_.end()) {
        fail(at(name_, k.Mark()), dotted,
             "duplicate key (first at line " + std::to_string(seen->second.line + 1) + ")");
      }
      seen_.emplace(dotted, k.Mark());
      if (std::find(keys_.begin(), keys_.end(), dotted) != keys_.end()) {
        leaves_.emplace(dotted, entry{k, v});
      } else if (is_section(dotted)) {
        if (v.IsNull()) continue;  // a section with every key commented out
        if (!v.IsMap())
          fail(at(name_, k.Mark()), dotted, "expected a map of settings, got " + describe(v));
        collect(v, dotted);
      } else {
        fail(at(name_, k.Mark()), dotted, "unknown key" + suggestion(dotted, keys_));
      }
    }
  }

  bool has(std::string_view key) const { return leaves_.find(key) != leaves_.end(); }
  std::string where(std::string_view key) const {
    return at(name_, leaves_.find(key)->second.key.Mark());
  }

  void operator()(std::string_view key, bool& out) {
    const YAML::Node* v = value(key);
    if (!v) return;
    static constexpr std::array yes{"true", "True", "TRUE"};
    static constexpr std::array no{"false", "False", "FALSE"};
    auto is = [&](const auto& words) {
      return std::any_of(words.begin(), words.end(),
                         [&](const char* w) { return v->Scalar() == w; });
    };
    if (!plain_scalar(*v) || !(is(yes) || is(no)))
      bad(key, "expected true or false, got " + describe(*v));
    out = is(yes);
  }

  template <std::unsigned_integral T>
  void operator()(std::string_view key, T& out, int_rule rule) {
    const YAML::Node* v = value(key);
    if (!v) return;
    const std::string& s = v->Scalar();
    std::size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    bool digits =
        s.size() > sign && std::all_of(s.begin() + static_cast<std::ptrdiff_t>(sign), s.end(),
                                       [](char c) { return c >= '0' && c <= '9'; });
    if (!plain_scalar(*v) || !digits) bad(key, "expected an integer, got " + describe(*v));
    std::uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(s.data() + sign, s.data() + s.size(), n);
    if (ec != std::errc{} || (s[0] == '-' && n != 0) || !rule.allows(n)) bad(key, rule.reason(s));
    out = static_cast<T>(n);
  }

  void operator()(std::string_view key, std::chrono::milliseconds& out, duration_rule rule) {
    const YAML::Node* v = value(key);
    if (!v) return;
    const std::string& s = v->Scalar();
    std::chrono::milliseconds d{};
    bool out_of_range = false;
    if (!plain_scalar(*v) || !parse_duration(s, d, out_of_range)) {
      bad(key, "expected seconds or a duration (250ms, 2s, 1m), got " + describe(*v));
    }
    if (out_of_range || !rule.allows(d)) bad(key, rule.reason(s));
    out = d;
  }

  void operator()(std::string_view key, double& out, real_rule rule) {
    const YAML::Node* v = value(key);
    if (!v) return;
    const std::string& s = v->Scalar();
    double d = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!plain_scalar(*v) || s.empty() || ec != std::errc{} || ptr != s.data() + s.size() ||
        !std::isfinite(d)) {
      bad(key, "expected a number, got " + describe(*v));
    }
    if (!rule.allows(d)) bad(key, rule.reason(s));
    out = d;
  }

  void operator()(std::string_view key, std::string& out, text_rule rule) {
    const YAML::Node* v = value(key);
    if (!v) return;
    if (!v->IsNull() && !v->IsScalar()) bad(key, "expected a string, got " + describe(*v));
    std::string s = v->IsNull() ? "" : v->Scalar();
    if (auto reason = rule.check(s); !reason.empty()) bad(key, reason);
    out = std::move(s);
  }

  void operator()(std::string_view key, model_kind& out) {
    const YAML::Node* v = value(key);
    if (!v) return;
    auto m = v->IsScalar() ? parse_model(v->Scalar()) : std::nullopt;
    if (!m) bad(key, "must be " + model_names() + " (got " + describe(*v) + ")");
    out = *m;
  }

 private:
  struct entry {
    YAML::Node key;
    YAML::Node value;
  };

  bool is_section(const std::string& dotted) const {
    return std::any_of(keys_.begin(), keys_.end(), [&](const std::string& k) {
      return k.size() > dotted.size() && k.compare(0, dotted.size(), dotted) == 0 &&
             k[dotted.size()] == '.';
    });
  }

  // The value at `key`, recording where it was set; nullptr if the document does not set it.
  const YAML::Node* value(std::string_view key) {
    auto it = leaves_.find(key);
    if (it == leaves_.end()) return nullptr;
    origins_[std::string(key)] = at(name_, it->second.key.Mark());
    return &it->second.value;
  }

  static bool plain_scalar(const YAML::Node& n) { return n.IsScalar() && n.Tag() != "!"; }

  [[noreturn]] void bad(std::string_view key, const std::string& reason) const {
    fail(where(key), key, reason);
  }

  std::string name_;
  config_origins& origins_;
  std::vector<std::string> keys_;
  std::map<std::string, YAML::Mark, std::less<>> seen_;
  std::map<std::string, entry, std::less<>> leaves_;
};

// Reads a whole file of at most `max` bytes; on failure returns nullopt and sets `error`.
std::optional<std::string> read_file(const std::filesystem::path& path, std::size_t max,
                                     std::string& error) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buf[8192];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, f.get())) {
    text.append(buf, n);
    if (text.size() > max) {
      error = "larger than " + std::to_string(max) + " bytes";
      return std::nullopt;
    }
  }
  if (std::ferror(f.get())) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return text;
}

// chat.motd_file: read now, so a missing file stops start-up rather than the first client.
void load_motd(config& cfg, const reader& doc, const std::string& base_dir) {
  auto& chat = cfg.chat_service;
  if (!doc.has("chat.motd_file") || chat.motd_file.empty()) {
    if (doc.has("chat.motd")) chat.motd_file.clear();  // the document chose inline text
    return;
  }
  const std::string where = doc.where("chat.motd_file");
  if (doc.has("chat.motd") && !chat.motd.empty()) {
    fail(where, "chat.motd_file", "set chat.motd or chat.motd_file, not both");
  }
  std::filesystem::path p(chat.motd_file);
  if (p.is_relative()) p = std::filesystem::path(base_dir.empty() ? "." : base_dir) / p;
  p = std::filesystem::absolute(p).lexically_normal();
  std::string error;
  auto text = read_file(p, max_motd_bytes, error);
  if (!text) fail(where, "chat.motd_file", "cannot read " + show(p.string()) + ": " + error);
  chat.motd = std::move(*text);
  chat.motd_file = p.string();
}

// TLS: in a file a TLS port of 0 means off; relative PEM paths are relative to the file's
// directory (absolute after loading, so SIGHUP reloads the same files whatever the cwd).
void finish_tls(config& cfg, const reader& doc, const std::string& base_dir) {
  for (auto [key, l] : {std::pair{"chat.tls_port", &cfg.tls.chat}, std::pair{"echo.tls_port", &cfg.tls.echo}})
    if (doc.has(key)) l->enabled = l->port != 0;
  for (auto [key, file] : {std::pair{"tls.cert_file", &cfg.tls.cert_file}, std::pair{"tls.key_file", &cfg.tls.key_file}}) {
    if (!doc.has(key) || file->empty()) continue;
    std::filesystem::path p(*file);
    if (p.is_relative()) p = std::filesystem::path(base_dir.empty() ? "." : base_dir) / p;
    *file = std::filesystem::absolute(p).lexically_normal().string();
  }
}

// Where each YAML document starts; nothing else. yaml-cpp 0.7's LoadAll never returns on some
// inputs (a lone ",": an endless run of empty documents, jbeder/yaml-cpp#1040, found by
// fuzz/config), so the documents are counted with the event parser, which we stop after two.
class document_starts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;
  void OnDocumentStart(const YAML::Mark& m) override { marks.push_back(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

config parse_config_text(const std::string& yaml, const std::string& name,
                         const std::string& base_dir, config_origins& origins, config base) {
  YAML::Node root;
  document_starts starts;
  try {
    std::istringstream in(yaml);
    YAML::Parser parser(in);
    while (starts.marks.size() < 2 && parser.HandleNextDocument(starts)) {
    }
    if (starts.marks.size() < 2) root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    fail(at(name, e.mark), "", "invalid YAML: " + e.msg);
  }
  if (starts.marks.size() > 1) fail(at(name, starts.marks[1]), "", "expected one YAML document, found a second");
  if (root.IsNull()) return base;  // empty file or only comments: defaults
  if (!root.IsMap()) fail(at(name, root.Mark()), "", "expected a map of settings, got " + describe(root));
  reader doc(name, origins);
  doc.collect(root, "");
  visit_fields(base, doc);
  load_motd(base, doc, base_dir);
  finish_tls(base, doc, base_dir);
  return base;
}

config parse_config_file(const std::string& path, config_origins& origins, config base) {
  std::string error;
  auto text = read_file(path, max_config_bytes, error);
  if (!text) fail(path, "", "cannot read config file: " + error);
  return parse_config_text(*text, path, std::filesystem::path(path).parent_path().string(), origins,
                           std::move(base));
}

config load_config_file(const std::string& path) {
  config_origins origins;
  config cfg = parse_config_file(path, origins);
  validate(cfg, origins);
  return cfg;
}

config load_config_text(const std::string& yaml, const std::string& name, config base) {
  config_origins origins;
  config cfg = parse_config_text(yaml, name, "", origins, std::move(base));
  validate(cfg, origins);
  return cfg;
}

}  // namespace simul::server
