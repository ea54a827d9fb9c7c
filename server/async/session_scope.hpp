// The async server's per-session bookkeeping (loop thread only). Internal to server/async.
#pragma once

#include <string>

#include "server/async/server.hpp"
#include "server/common/lifecycle.hpp"

namespace simul::server {

/// Lives in a session's frame, after its connection: counts the connection and links it into
/// its service's list; on exit unlinks it, counts why it ended, releases its admission and,
/// when it was the last one of a drain, ends the drain's wait. `address` is the session's own
/// parameter (which outlives it: a coroutine's parameters go last), referred to rather than
/// copied, as every byte of an idle session counts; null for metrics.
class async_server::session_scope {
 public:
  session_scope(async_server& srv, service svc, connection& c, const std::string* address)
      : srv_(srv), svc_(svc), c_(c), address_(address) {
    c_.last_active = started_ = clock::now();
    srv_.list_of(svc_).push_back(c_);
    if (address_ && logging_connections()) log_accepted(svc_, *address_);
    srv_.stats_.of(svc_).connections.add();
    srv_.stats_.of(svc_).connections_total.add();
  }
  ~session_scope() {
    srv_.list_of(svc_).remove(c_);
    srv_.stats_.of(svc_).connections.sub();
    if (!address_) return;  // metrics
    srv_.stats_.disconnected(svc_, c_.reason());
    if (logging_connections())
      log_closed(svc_, *address_, clock::now() - started_, c_.bytes_in, c_.bytes_out, c_.reason());
    srv_.admission_.release(*address_);
    if (srv_.draining_ && srv_.echo_conns_.size() + srv_.chat_conns_.size() == 0) srv_.drained_.cancel();
  }
  session_scope(const session_scope&) = delete;
  session_scope& operator=(const session_scope&) = delete;

 private:
  async_server& srv_;
  service svc_;
  connection& c_;
  const std::string* address_;
  clock::time_point started_;
};

}  // namespace simul::server
