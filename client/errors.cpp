// errors: cause naming and counting.
#include "client/errors.hpp"

#include <asio/error.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

namespace simul::load {

void error_counts::add(std::string_view cause, std::uint64_t n) {
  if (n == 0) return;
  auto it = by_cause_.find(cause);
  if (it == by_cause_.end()) it = by_cause_.emplace(std::string(cause), 0).first;
  it->second += n;
  total_ += n;
}

void error_counts::merge(const error_counts& other) {
  for (const auto& [cause, n] : other.by_cause_) add(cause, n);
}

std::string error_counts::summary(std::size_t limit) const {
  std::vector<std::pair<std::string, std::uint64_t>> items(by_cause_.begin(), by_cause_.end());
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  std::size_t shown = 0;
  for (const auto& [cause, n] : items) {
    if (shown == limit) {
      out += ", ...";
      break;
    }
    if (!out.empty()) out += ", ";
    out += cause + " x" + std::to_string(n);
    ++shown;
  }
  return out;
}

std::string cause_name(const std::error_code& ec) {
  if (!ec) return "none";
  if (ec == asio::error::eof) return "EOF";
  // Asio reports errno values in its own system category, the standard library in its own two.
  if (ec.category() == asio::error::get_system_category() || ec.category() == std::system_category() ||
      ec.category() == std::generic_category()) {
    if (const char* name = strerrorname_np(ec.value())) return name;
  }
  return ec.message();
}

}  // namespace simul::load
