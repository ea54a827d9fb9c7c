// Parses --source: IPv4 addresses and ranges ("127.0.0.2-127.0.0.40", comma-separated) into a list.
// Sans-IO; the connector binds outgoing sockets to these addresses round-robin.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace simul::load {

/// An IPv4 address in host byte order.
using ipv4 = std::uint32_t;

/// Parses "A", "A-B" or a comma-separated list of those. Returns nullopt (and sets `error`) on
/// malformed input, a reversed range, or more than `max_addresses` addresses in total.
std::optional<std::vector<ipv4>> parse_address_range(std::string_view spec, std::string& error,
                                                     std::size_t max_addresses = 65536);

/// Dotted-quad text of a host-order IPv4 address.
std::string format_ipv4(ipv4 address);

}  // namespace simul::load
