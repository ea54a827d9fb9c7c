// The threaded model: one OS thread per connection (being written).
#include "server/server.hpp"

namespace simul::server {

std::unique_ptr<server> make_threaded_server(const config&) {
  throw startup_error("the threaded model is not available in this build yet");
}

}  // namespace simul::server
