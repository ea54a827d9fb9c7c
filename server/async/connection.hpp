// Per-connection bookkeeping shared by the async model's sessions (loop thread only).
#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "server/async/server.hpp"

namespace simul::server {

/// Completion token for expected I/O failures as values: auto [ec, n] = co_await op(..., nothrow).
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Lives in a session's frame: counts the connection, links it into its service's list, and on
/// exit unlinks it and counts the disconnect reason.
class async_server::connection_guard {
 public:
  connection_guard(async_server& srv, connection_list& list, service svc, tcp::socket& socket)
      : srv_(srv), list_(list), svc_(svc) {
    entry.socket = &socket;
    entry.last_active = clock::now();
    asio::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (!ec) address_ = remote.address();
    list_.push_back(entry);
    srv_.stats_.of(svc_).connections.add();
    srv_.stats_.of(svc_).connections_total.add();
  }
  ~connection_guard() {
    list_.remove(entry);
    srv_.stats_.of(svc_).connections.sub();
    if (svc_ != service::metrics) srv_.stats_.disconnected(entry.reason);
    if (svc_ != service::metrics && srv_.cfg_.limits.max_connections_per_ip > 0) {
      if (auto it = srv_.per_ip_.find(address_); it != srv_.per_ip_.end() && --it->second == 0) srv_.per_ip_.erase(it);
    }
  }
  connection_guard(const connection_guard&) = delete;
  connection_guard& operator=(const connection_guard&) = delete;

  conn_entry entry;

 private:
  async_server& srv_;
  connection_list& list_;
  service svc_;
  asio::ip::address address_;
};

}  // namespace simul::server
