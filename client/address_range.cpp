// address_range: --source parsing.
#include "client/address_range.hpp"

#include <arpa/inet.h>

namespace simul::load {

namespace {

std::optional<ipv4> parse_one(std::string_view text) {
  std::string s(text);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::vector<ipv4>> parse_address_range(std::string_view spec, std::string& error,
                                                     std::size_t max_addresses) {
  std::vector<ipv4> out;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    auto item = trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    auto dash = item.find('-');
    auto first = parse_one(trim(item.substr(0, dash)));
    auto last = dash == std::string_view::npos ? first : parse_one(trim(item.substr(dash + 1)));
    if (!first || !last) {
      error = "not an IPv4 address or range: '" + std::string(item) + "'";
      return std::nullopt;
    }
    if (*last < *first) {
      error = "range ends before it starts: '" + std::string(item) + "'";
      return std::nullopt;
    }
    if (*last - *first >= max_addresses || out.size() + (*last - *first) >= max_addresses) {
      error = "more than " + std::to_string(max_addresses) + " source addresses";
      return std::nullopt;
    }
    for (std::uint64_t a = *first; a <= *last; ++a) out.push_back(static_cast<ipv4>(a));
  }
  if (out.empty()) {
    error = "empty address range";
    return std::nullopt;
  }
  return out;
}

std::string format_ipv4(ipv4 address) {
  return std::to_string(address >> 24) + '.' + std::to_string((address >> 16) & 0xff) + '.' +
         std::to_string((address >> 8) & 0xff) + '.' + std::to_string(address & 0xff);
}

}  // namespace simul::load
