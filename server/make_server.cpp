// make_server(): the one place that knows every model (main() and the tests call it).
#include "server/async/server.hpp"
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

}  // namespace simul::server
