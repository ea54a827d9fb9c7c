// make_server(): the one place that knows every model (main() and the tests call it).
#include "server/async/server.hpp"
#include "server/async/tls_context.hpp"
#include "server/common/server.hpp"
#include "server/threaded/server.hpp"

namespace simul::server {

std::unique_ptr<server> make_server(const config& cfg) {
  switch (cfg.model) {
    case model_kind::threaded: return std::make_unique<threaded_server>(cfg);
    case model_kind::async: break;
  }
  return std::make_unique<async_server>(cfg);
}

void check_config_files(const config& cfg) {
  if (cfg.tls.configured()) make_tls_context(cfg.tls);
}

}  // namespace simul::server
