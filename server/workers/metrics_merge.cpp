// Merging Prometheus expositions (metrics_merge.hpp).
#include "server/workers/metrics_merge.hpp"

#include <map>

namespace simul::server {
namespace {

struct family {
  std::string help;  // "# HELP ..." line, or empty
  std::string type;  // "# TYPE ..." line, or empty
  std::vector<std::string> samples;
};

class merger {
 public:
  // Adds one exposition; `label` (empty for none) goes on each of its samples.
  void add(std::string_view text, std::string_view label) {
    family* current = nullptr;
    while (!text.empty()) {
      const auto eol = text.find('\n');
      const std::string_view line = text.substr(0, eol);
      text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
      if (line.empty()) continue;
      if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
        current = &named(first_word(line.substr(7)));
        auto& slot = line[2] == 'H' ? current->help : current->type;
        if (slot.empty()) slot = line;
        continue;
      }
      if (line[0] == '#') continue;
      // A sample belongs to the family announced before it (a histogram's _bucket, _sum and
      // _count lines too); one with no announcement is a family of its own.
      const auto name = line.substr(0, line.find_first_of("{ "));
      family& f = current ? *current : named(name);
      f.samples.push_back(label.empty() ? std::string(line) : add_label(line, label));
    }
  }

  std::string text() const {
    std::string out;
    for (const auto& name : order_) {
      const family& f = families_.at(name);
      for (const auto* line : {&f.help, &f.type})
        if (!line->empty()) out.append(*line).push_back('\n');
      for (const auto& s : f.samples) out.append(s).push_back('\n');
    }
    return out;
  }

 private:
  static std::string_view first_word(std::string_view s) { return s.substr(0, s.find(' ')); }

  family& named(std::string_view name) {
    auto [it, added] = families_.try_emplace(std::string(name));
    if (added) order_.emplace_back(name);
    return it->second;
  }

  std::map<std::string, family, std::less<>> families_;
  std::vector<std::string> order_;
};

}  // namespace

std::string add_label(std::string_view sample, std::string_view label) {
  const auto brace = sample.find('{');
  const auto space = sample.find(' ');
  std::string out;
  out.reserve(sample.size() + label.size() + 3);
  if (brace != std::string_view::npos && brace < space) {
    const bool empty = brace + 1 < sample.size() && sample[brace + 1] == '}';
    out.append(sample.substr(0, brace + 1)).append(label);
    if (!empty) out.push_back(',');
    out.append(sample.substr(brace + 1));
  } else {
    const auto at = space == std::string_view::npos ? sample.size() : space;
    out.append(sample.substr(0, at)).append("{").append(label).append("}").append(sample.substr(at));
  }
  return out;
}

std::string merge_metrics(std::string_view own, const std::vector<worker_metrics>& workers) {
  merger m;
  m.add(own, {});
  for (const auto& [index, text] : workers) m.add(text, "worker=\"" + std::to_string(index) + "\"");
  return m.text();
}

}  // namespace simul::server
