// cli_diagnosis: naming the argument that does not fit, and suggesting what was meant.
#include "client/cli_diagnosis.hpp"

#include <algorithm>
#include <limits>

namespace simul::load {

namespace {

std::string undashed(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && i < 2 && s[i] == '-') ++i;
  return s.substr(i);
}

bool is_option(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

// "--rate=5" names "--rate".
std::string option_part(const std::string& arg) {
  auto eq = arg.find('=');
  return arg.substr(0, eq);
}

const cli_shape::option_name* find(const std::vector<cli_shape::option_name>& options, const std::string& name) {
  for (const auto& o : options) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

std::vector<std::string> names(const std::vector<cli_shape::option_name>& options) {
  std::vector<std::string> out;
  for (const auto& o : options) out.push_back(o.name);
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const auto best = closest_match(word, candidates);
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

std::string subcommand_list(const cli_shape& shape, const char* last_sep) {
  std::string out;
  for (std::size_t i = 0; i < shape.subcommands.size(); ++i) {
    if (i > 0) out += i + 1 == shape.subcommands.size() ? last_sep : ", ";
    out += shape.subcommands[i].name;
  }
  return out;
}

// The subcommands (other than `except`) that have an option of this name.
std::vector<std::string> owners(const cli_shape& shape, const std::string& name, const std::string& except) {
  std::vector<std::string> out;
  for (const auto& s : shape.subcommands) {
    if (s.name != except && find(s.options, name)) out.push_back(s.name);
  }
  return out;
}

std::string join(const std::vector<std::string>& items, const char* last_sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? last_sep : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

std::size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment distance: three rows suffice.
  std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string w = undashed(word);
  if (w.empty()) return {};
  std::vector<std::string> prefixed;
  for (const auto& c : candidates) {
    if (undashed(c).starts_with(w)) prefixed.push_back(c);
  }
  if (prefixed.size() == 1) return prefixed.front();
  const std::size_t allowed = w.size() <= 3 ? 1 : w.size() <= 8 ? 2 : 3;
  std::string best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const auto d = edit_distance(w, undashed(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best_d <= allowed ? best : std::string();
}

std::optional<std::string> diagnose(const cli_shape& shape, const std::vector<std::string>& args) {
  std::vector<std::string> sub_names;
  for (const auto& s : shape.subcommands) sub_names.push_back(s.name);
  std::size_t i = 0;
  // Before the subcommand: only the global options.
  for (; i < args.size() && is_option(args[i]); ++i) {
    const std::string name = option_part(args[i]);
    if (find(shape.global, name)) continue;
    if (auto subs = owners(shape, name, ""); !subs.empty()) {
      return "option '" + name + "' goes after the subcommand, e.g. '" + shape.program + " " + subs.front() + " " +
             name + " ...'";
    }
    return "unknown option '" + name + "'" + did_you_mean(name, names(shape.global));
  }
  if (i == args.size()) return "a subcommand is required: " + subcommand_list(shape, " or ");
  const auto sub = std::find_if(shape.subcommands.begin(), shape.subcommands.end(),
                                [&](const auto& s) { return s.name == args[i]; });
  if (sub == shape.subcommands.end()) {
    std::string hint = did_you_mean(args[i], sub_names);
    return "unknown subcommand '" + args[i] + "'" + hint + "; the subcommands are " + subcommand_list(shape, " and ");
  }
  for (++i; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!is_option(arg)) return sub->name + ": unexpected argument '" + arg + "'";
    const std::string name = option_part(arg);
    if (const auto* o = find(sub->options, name)) {
      if (o->takes_value && name.size() == arg.size()) ++i;  // its value, whatever it looks like
      continue;
    }
    if (auto others = owners(shape, name, sub->name); !others.empty()) {
      return sub->name + ": option '" + name + "' is for " + join(others, " and ") + ", not " + sub->name;
    }
    return sub->name + ": unknown option '" + name + "'" + did_you_mean(name, names(sub->options));
  }
  return std::nullopt;
}

}  // namespace simul::load
