// `simul-server --probe HOST:PORT`: a health check for containers that have no curl.
#pragma once

#include <string>

namespace simul::server {

/// GETs /healthz from HOST:PORT with a short timeout. Returns 0 on HTTP 200, 1 otherwise,
/// and prints one line saying what it saw. Blocking; not for the loop thread.
int probe_health(const std::string& host_port);

}  // namespace simul::server
