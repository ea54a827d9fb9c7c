// The async model's TLS front: the TLS listeners, each connection's handshake under its
// deadline, then the same echo and chat sessions as plain TCP (over tls_stream); and the
// certificate reload on SIGHUP. Loop thread only.
#include <optional>

#include "server/async/chat.hpp"
#include "server/async/session_scope.hpp"
#include "server/async/tls_stream.hpp"

namespace simul::server {

void async_server::open_tls_listeners() {
  const auto& tls = cfg_.tls;
  if (!tls.configured()) return;
  // Loaded even when both TLS ports are off: a bad certificate is reported at start-up.
  tls_certificate_info info;
  tls_ctx_ = make_tls_context(tls, &info);  // throws startup_error naming the file
  const bool chat = cfg_.chat.enabled && tls.chat.enabled;
  const bool echo = cfg_.echo.enabled && tls.echo.enabled;
  auto open = [&](std::optional<tcp::acceptor>& a, service svc, std::uint16_t port) {
    try {
      open_listener(a, svc, port);
    } catch (const startup_error& e) {
      // "chat listener 127.0.0.1:6697: ..." → "chat TLS listener 127.0.0.1:6697: ..."
      std::string what = e.what();
      if (auto at = what.find(" listener"); at != std::string::npos) what.insert(at, " TLS");
      throw startup_error(what);
    }
  };
  if (chat) open(chat_tls_acceptor_, service::chat, listen_port(tls.chat.port, role_ ? role_->chat_tls_port : 0));
  if (echo) open(echo_tls_acceptor_, service::echo, listen_port(tls.echo.port, role_ ? role_->echo_tls_port : 0));
  log_event("tls_started",
            "TLS on chat port {chat_tls_port} and echo port {echo_tls_port}: {subject} ({key}), expires {not_after}")
      .with("chat_tls_port", chat_tls_port())
      .with("echo_tls_port", echo_tls_port())
      .with("subject", info.subject)
      .with("key", info.key)
      .with("not_after", info.not_after)
      .info();
}

namespace {

// A connection in its TLS handshake: a stop cancels the waits of its socket, first the accepted
// one, then the one inside the tls_stream it moved into.
class handshake_connection final : public connection {
 public:
  explicit handshake_connection(asio::ip::tcp::socket& s) : socket_(&s) {}
  void moved_to(asio::ip::tcp::socket& s) noexcept { socket_ = &s; }

 private:
  void on_stop(disconnect_reason) override {
    asio::error_code ec;
    socket_->cancel(ec);
  }
  asio::ip::tcp::socket* socket_;
};

}  // namespace

struct async_server::handshake_result {
  std::optional<tls_stream> stream;  // set when the handshake succeeded
  tls_failure why = tls_failure::closed;
  asio::error_code ec;
};

asio::awaitable<async_server::handshake_result> async_server::tls_handshake(tcp::socket socket) {
  asio::error_code ec;
  socket.non_blocking(true, ec);
  socket.set_option(tcp::no_delay(true), ec);
  handshake_result r;
  // Until the handshake is done the connection is in handshakes_, where the sweeper cuts it
  // at its deadline: no timer of its own. Nothing of OpenSSL's exists until the client
  // speaks, so a client that never sends its hello costs what an idle connection does.
  handshake_connection conn(socket);
  conn.last_active = clock::now();
  handshakes_.push_back(conn);
  auto [first] = co_await socket.async_wait(tcp::socket::wait_read, nothrow);
  ec = first;
  if (!ec && !conn.stopped()) {
    r.stream.emplace(std::move(socket), tls_ctx_.get());
    conn.moved_to(r.stream->socket());
    for (;;) {
      ec = r.stream->handshake();
      if (ec != asio::error::would_block || conn.stopped()) break;
      auto [wec] = co_await r.stream->async_wait(r.stream->handshake_wait(), nothrow);
      if (wec || conn.stopped()) {
        ec = wec ? wec : asio::error::operation_aborted;
        break;
      }
    }
  }
  handshakes_.remove(conn);
  if (ec || conn.stopped()) {
    const bool shutdown = conn.reason() == disconnect_reason::shutdown;
    r.why = conn.stopped() ? (shutdown ? tls_failure::shutdown : tls_failure::timeout)
            : r.stream     ? r.stream->failure(ec)
                           : tls_failure::closed;
    r.ec = ec;
    r.stream.reset();
  }
  co_return r;
}

asio::awaitable<void> async_server::tls_session(tcp::socket socket, service svc, std::string address) {
  const auto started = clock::now();
  auto hs = co_await tls_handshake(std::move(socket));
  if (!hs.stream) {
    stats_.tls.handshake_failed(hs.why);
    stats_.disconnected(svc,
                        hs.why == tls_failure::shutdown ? disconnect_reason::shutdown : disconnect_reason::handshake);
    admission_.release(address);
    log_event("tls_handshake_failed", "TLS handshake from {peer} failed: {reason} ({error})")
        .with("peer", address.empty() ? "client" : address)
        .with("service", to_string(svc))
        .with("reason", to_string(hs.why))
        .with("error", hs.ec.message())
        .debug();
    co_return;
  }
  auto& stream = *hs.stream;
  stats_.tls.handshake_done(std::chrono::duration<double>(clock::now() - started).count());
  log_event("tls_handshake_done", "TLS handshake done: {protocol} {cipher}")
      .with("protocol", stream.protocol())
      .with("cipher", stream.cipher())
      .with("peer", address)
      .with("service", to_string(svc))
      .debug();
  auto& open = stats_.tls.connections[svc == service::echo ? 0 : 1];
  open.add();
  if (svc == service::echo)
    co_await echo_session(std::move(stream), std::move(address));
  else
    co_await chat_session(std::move(stream), std::move(address));
  open.sub();
}

bool async_server::tls_refusal(tcp::socket& socket, service svc, std::string_view reason) {
  if (tls_refusals_ >= cfg_.tls.refusal_handshakes) return false;
  ++tls_refusals_;
  auto tell = [](async_server& self, tcp::socket s, std::string line) -> asio::awaitable<void> {
    // Counted as refused already (count_refusal): the handshake is not counted as a TLS
    // connection, only done to carry the line. A short line on a fresh connection fits the
    // socket buffer, so one write without waiting; then close_notify and the close.
    auto hs = co_await self.tls_handshake(std::move(s));
    if (hs.stream) {
      asio::error_code ec;
      hs.stream->write_some(asio::buffer(line), ec);
      hs.stream->shutdown(tcp::socket::shutdown_send, ec);
    }
    --self.tls_refusals_;
  };
  spawn(tell(*this, std::move(socket), refusal_line(svc, reason)), "TLS refusal");
  return true;
}

bool async_server::reload_tls(const tls_config& tls) {
  if (!tls_ctx_) {
    log_event("reload_tls", "reload: TLS is not configured, no certificate to reload")
        .with("result", "ignored")
        .json_only()
        .info();
    return false;
  }
  try {
    tls_certificate_info info;
    tls_ctx_ = make_tls_context(tls, &info);
    stats_.tls.reloads_total.add();
    log_event("reload_tls", "reload: TLS certificate {subject} ({key}), expires {not_after}; new connections use it")
        .with("subject", info.subject)
        .with("key", info.key)
        .with("not_after", info.not_after)
        .with("result", "applied")
        .json_only()
        .info();
    return true;
  } catch (const std::exception& e) {
    stats_.tls.reload_failures_total.add();
    log_event("reload_tls", "reload: {error}; the running certificate stays")
        .with("error", e.what())
        .with("result", "failed")
        .json_only()
        .error();
    return false;
  }
}

}  // namespace simul::server
