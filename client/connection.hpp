// One client TCP connection of a scenario: connect (ramp slot, source address, timeout) and the
// accounting every scenario shares (attempts, failures by cause, connections up, lost).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include <string_view>
#include <system_error>

#include "client/stream.hpp"
#include "client/worker.hpp"

namespace simul::load {

/// Error-as-value completion token for every awaited operation of the load client.
inline constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Opens `socket`, binds it to `source` with IP_BIND_ADDRESS_NO_PORT (the port is chosen at
/// connect time, per destination, so one source address is not limited to one set of ports),
/// and connects to `target`, giving up with ETIMEDOUT after `timeout`.
asio::awaitable<std::error_code> connect_socket(asio::ip::tcp::socket& socket,
                                                const asio::ip::tcp::endpoint& target,
                                                const asio::ip::address_v4* source,
                                                clock::duration timeout);

/// Lives in its coroutine's frame; worker thread only. Counts itself in the worker's stats:
/// connects_started/ok/failed, connections_up while open, and errors by cause.
class connection final : public session_base {
 public:
  connection(worker& w, std::size_t id);
  ~connection() override;

  /// Connects to the run's target. On failure the cause is counted as a setup failure.
  /// `holds_slot`: the caller took one of the worker's connect slots for this connection (the
  /// setup ramp does; churn does not); it is released when the connect completes.
  asio::awaitable<bool> establish(bool holds_slot);
  /// Setup (connect, and for chat registration and JOIN) is done: counts toward the target.
  void setup_complete();
  /// Setup failed after the TCP connect (e.g. an IRC error reply).
  void setup_failed(std::string_view cause);
  /// An error after setup ends this connection. Not counted when the run is stopping (the
  /// worker closed the socket), nor twice for one connection.
  void fail(std::string_view cause);
  void fail(const std::error_code& ec);
  /// True once the run is over for this connection (stopping, or aborted).
  bool finished() const noexcept { return aborted() || owner().phase() == run_phase::stopping; }

  /// An error ended this connection (counted once).
  bool failed() const noexcept { return failed_; }
  /// The connection's byte stream: plain TCP, or TLS after establish() with --tls.
  stream& socket() noexcept { return socket_; }
  std::size_t id() const noexcept { return id_; }
  void on_abort() override;

 private:
  void count_setup_failure(std::string_view cause);

  stream socket_;
  std::size_t id_;
  std::size_t target_ = 0;  // index into the run's targets
  bool up_ = false;
  bool failed_ = false;
};

}  // namespace simul::load
