// `simul-server --probe [HOST:PORT]`: a health check for containers that have no curl.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/common/config.hpp"

namespace simul::server {

/// HOST and PORT of "HOST:PORT" or "[IPV6]:PORT" (the brackets dropped).
struct host_port {
  std::string host;
  std::uint16_t port = 0;
};

/// Splits "HOST:PORT"; nullopt if it is malformed (no host, a port outside 1..65535), with the
/// reason in `error`.
std::optional<host_port> parse_host_port(const std::string& text, std::string& error);

/// The HOST:PORT at which this machine reaches cfg's metrics listener: its bind address, or
/// loopback (127.0.0.1, [::1]) for a wildcard bind (0.0.0.0, ::). Throws config_error, naming
/// where the value was set (from `origins`), when metrics is disabled or its port is 0.
std::string probe_target(const config& cfg, const config_origins& origins);

/// GETs /healthz from HOST:PORT with a short timeout. Returns 0 on HTTP 200, 1 otherwise,
/// and prints one line saying what it saw. Blocking; not for the loop thread.
int probe_health(const std::string& target);

}  // namespace simul::server
