// irc_mask: wildcard matching and ban-mask normalisation.
#include "core/irc_mask.hpp"

namespace simul::core {
namespace {

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool mask_match(std::string_view mask, std::string_view text) noexcept {
  // Greedy matching with one backtrack point (the last '*'): O(|mask| * |text|) at worst.
  std::size_t m = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (m < mask.size() && mask[m] == '*') {
      star = m++;
      resume = t;
    } else if (m < mask.size() && (mask[m] == '?' || lower(mask[m]) == lower(text[t]))) {
      ++m;
      ++t;
    } else if (star != std::string_view::npos) {
      m = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (m < mask.size() && mask[m] == '*') ++m;
  return m == mask.size();
}

std::string normalize_mask(std::string_view mask, std::size_t max_len) {
  auto bang = mask.find('!');
  auto at = mask.find('@');
  std::string out;
  if (bang == std::string_view::npos && at == std::string_view::npos) {
    out = std::string(mask) + "!*@*";
  } else if (bang == std::string_view::npos) {
    out = "*!" + std::string(mask);
  } else if (at == std::string_view::npos) {
    out = std::string(mask) + "@*";
  } else {
    out = std::string(mask);
  }
  if (out.size() > max_len) out.resize(max_len);
  return out;
}

}  // namespace simul::core
