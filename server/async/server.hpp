// The async model: one io_context run by one thread; an acceptor coroutine per listener and
// one coroutine per connection. No locks: everything below runs on the loop thread, except
// request_shutdown(), which posts to it.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include "server/async/connection.hpp"
#include "server/async/stream.hpp"
#include "server/async/tls_context.hpp"
#include "server/common/admission.hpp"
#include "server/common/config.hpp"
#include "server/common/server.hpp"

namespace simul::cluster {
class chat_node;  // a node of a chat network (cluster.redis): server/cluster/chat_node.hpp
}  // namespace simul::cluster
namespace asio::detail {
class epoll_reactor;
}

namespace simul::server {

class async_chat;  // chat state (hub and sessions): chat.hpp

/// What makes an async_server one of the worker processes of a supervisor (workers > 1,
/// server/workers/): it opens its echo, chat and TLS listeners with SO_REUSEPORT on the ports
/// the supervisor resolved (a configured 0 becomes one port all workers share), so the kernel
/// spreads connections over the workers; and its metrics listener, if enabled, on 127.0.0.1 and
/// any free port, where only the supervisor's scrapes come (the public port is the supervisor's).
struct worker_role {
  unsigned index = 1;  // 1..N
  std::uint16_t echo_port = 0;
  std::uint16_t chat_port = 0;
  std::uint16_t echo_tls_port = 0;
  std::uint16_t chat_tls_port = 0;
};

class async_server final : public server {
 public:
  /// Binds every enabled listener (as a worker when `role` is given). Throws startup_error.
  explicit async_server(const config& cfg, std::optional<worker_role> role = std::nullopt);
  ~async_server() override;

  void run(bool handle_signals) override;
  void request_shutdown() override;
  std::uint16_t echo_port() const override { return port_of(echo_acceptor_); }
  std::uint16_t chat_port() const override { return port_of(chat_acceptor_); }
  std::uint16_t metrics_port() const override { return port_of(metrics_acceptor_); }
  std::uint16_t chat_tls_port() const override { return port_of(chat_tls_acceptor_); }
  std::uint16_t echo_tls_port() const override { return port_of(echo_tls_acceptor_); }
  const stats& counters() const override { return stats_; }

  /// Loads tls.cert_file and tls.key_file of `tls` again and, if they are good, serves new
  /// connections with them; established ones keep the certificate they started with. Logs the
  /// outcome; on failure the running certificate stays. Returns whether it took effect.
  /// Loop thread only: the SIGHUP config reload (apply_config) calls it.
  bool reload_tls(const tls_config& tls);

 private:
  using tcp = asio::ip::tcp;

  // Lives in a session's frame: counts the connection, links it into its service's list, and
  // on exit unlinks it, counts why it ended, releases its admission and may end the drain.
  class session_scope;
  class tcp_echo;     // echo.cpp
  class echo_poller;  // echo_poller.hpp

  static std::uint16_t port_of(const std::optional<tcp::acceptor>& a);
  /// Opens one listener on cfg_.bind (a worker's metrics listener: 127.0.0.1, any port).
  void open_listener(std::optional<tcp::acceptor>& a, service svc, std::uint16_t port);
  /// The port a listener opens: the configured one, or a worker's resolved one.
  std::uint16_t listen_port(std::uint16_t configured, std::uint16_t resolved) const noexcept {
    return role_ ? resolved : configured;
  }
  void spawn(asio::awaitable<void> task, const char* what);
  connection_list& list_of(service svc) noexcept;

  asio::awaitable<void> listener(tcp::acceptor& acceptor, service svc, bool tls = false);
  /// Applies the connection limits. Returns false (after telling the client why: in plain
  /// text, or for `tls` over TLS by tls_refusal) to refuse; `address` is set to the peer's
  /// address when the per-address limit needs it back.
  bool admit(tcp::socket& socket, service svc, std::string& address, bool tls = false);
  /// A plain-TCP echo connection: a tcp_echo in the echo's epoll set where Asio's epoll reactor
  /// is in use, else echo_session.
  void start_echo(tcp::socket socket, std::string address);
  /// Ends the plain-TCP echo connections left and closes their epoll set (with io_ alive).
  void close_echo_poller();
  template <session_stream Stream>
  asio::awaitable<void> echo_session(Stream stream, std::string address);
  template <session_stream Stream>
  asio::awaitable<void> chat_session(Stream stream, std::string address);
  asio::awaitable<void> metrics_session(tcp::socket socket);
  /// TLS (tls_listener.cpp): the handshake under its deadline, then the service's session.
  asio::awaitable<void> tls_session(tcp::socket socket, service svc, std::string address);
  /// A TLS client refused over a connection limit: the handshake under its deadline, the
  /// reason line, the close. At most limits.tls_refusal_handshakes at a time; false (the
  /// socket untouched) when that many are already running.
  bool tls_refusal(tcp::socket& socket, service svc, std::string_view reason);
  struct handshake_result;
  asio::awaitable<handshake_result> tls_handshake(tcp::socket socket);
  void open_tls_listeners();
  asio::awaitable<void> signal_watcher();
  asio::awaitable<void> sweeper();
  asio::awaitable<void> stats_reporter();
  asio::awaitable<void> drain();
  void begin_drain();
  /// SIGHUP: re-reads the config on a helper thread (file I/O stays off the loop), then applies it here.
  void reload();
  void apply_config(config next);

  // State the coroutine frames point at: declared before io_ so it outlives the frames,
  // which io_'s destructor destroys.
  config cfg_;
  std::optional<worker_role> role_;
  stats stats_;
  admission admission_;
  connection_list echo_conns_;
  connection_list metrics_conns_;
  connection_list chat_conns_;
  connection_list handshakes_;  // TLS connections still in their handshake, oldest first
  std::uint32_t tls_refusals_ = 0;  // refused TLS clients being told why (tls_refusal)
  ssl_ctx_ptr tls_ctx_;         // new TLS connections use this one; null without TLS
  std::unique_ptr<async_chat> chat_;
  bool draining_ = false;
  bool stopped_ = false;
  bool reloading_ = false;
  std::thread reload_thread_;  // the last reload's reader; joined by the next one or the destructor
  // Scratch space for one read at a time; no connection keeps a buffer while it is idle.
  std::array<char, 64 * 1024> scratch_{};
  // The echo sessions' read buffer (chat reads into scratch_).
  std::array<char, 64 * 1024> echo_scratch_{};
  // The plain-TCP echo's epoll set (echo_poller.hpp), made at the first echo connection. Before
  // io_: its wait on the reactor may still be queued when io_ goes (the destructor closes it).
  std::unique_ptr<echo_poller> echo_poller_;

  // One thread runs it, and only that thread does I/O on its sockets: no locking in the reactor's
  // per-descriptor I/O (the scheduler keeps its lock for posts from other threads: reload,
  // request_shutdown).
  asio::io_context io_{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<tcp::acceptor> echo_acceptor_;
  std::optional<tcp::acceptor> chat_acceptor_;
  std::optional<tcp::acceptor> metrics_acceptor_;
  std::optional<tcp::acceptor> chat_tls_acceptor_;
  std::optional<tcp::acceptor> echo_tls_acceptor_;
  std::optional<asio::signal_set> signals_;
  asio::steady_timer sweep_timer_{io_};
  // The time a plain-TCP echo message counts as (its connection's activity): the next sweep's,
  // set by the sweeper, so a message costs no clock reading (an idle close comes up to one
  // sweep later).
  clock::time_point echo_clock_ = clock::now();
  asio::steady_timer stats_timer_{io_};
  asio::steady_timer drained_{io_};  // the drain's deadline; cancelled by the last close and the node's leave
  // After io_, so destroyed before it: its Redis connections are bound to io_.
  std::unique_ptr<cluster::chat_node> node_;
};

}  // namespace simul::server
