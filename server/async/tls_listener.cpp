// The async model's TLS front: the TLS listeners, each connection's handshake under its
// deadline, then the same echo and chat sessions as plain TCP (over tls_stream); and the
// certificate reload on SIGHUP. Loop thread only.
#include <optional>

#include <spdlog/spdlog.h>

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
  spdlog::info("TLS on chat port {} and echo port {}: {} ({}), expires {}", chat_tls_port(), echo_tls_port(),
               info.subject, info.key, info.not_after);
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

asio::awaitable<void> async_server::tls_session(tcp::socket socket, service svc, std::string address) {
  const auto started = clock::now();
  asio::error_code ec;
  socket.non_blocking(true, ec);
  socket.set_option(tcp::no_delay(true), ec);
  std::optional<tls_stream> stream;
  {
    // Until the handshake is done the connection is in handshakes_, where the sweeper cuts it
    // at its deadline: no timer of its own. Nothing of OpenSSL's exists until the client
    // speaks, so a client that never sends its hello costs what an idle connection does.
    handshake_connection conn(socket);
    conn.last_active = started;
    handshakes_.push_back(conn);
    auto [first] = co_await socket.async_wait(tcp::socket::wait_read, nothrow);
    ec = first;
    if (!ec && !conn.stopped()) {
      stream.emplace(std::move(socket), tls_ctx_.get());
      conn.moved_to(stream->socket());
      for (;;) {
        ec = stream->handshake();
        if (ec != asio::error::would_block || conn.stopped()) break;
        auto [wec] = co_await stream->async_wait(stream->handshake_wait(), nothrow);
        if (wec || conn.stopped()) {
          ec = wec ? wec : asio::error::operation_aborted;
          break;
        }
      }
    }
    handshakes_.remove(conn);
    if (ec || conn.stopped()) {
      auto why = conn.stopped() ? (conn.reason() == disconnect_reason::shutdown ? tls_failure::shutdown : tls_failure::timeout)
                 : stream       ? stream->failure(ec)
                                : tls_failure::closed;
      stats_.tls.handshake_failed(why);
      stats_.disconnected(svc, why == tls_failure::shutdown ? disconnect_reason::shutdown : disconnect_reason::handshake);
      admission_.release(address);
      spdlog::debug("TLS handshake from {} failed: {} ({})", address.empty() ? "client" : address, to_string(why),
                    ec.message());
      co_return;
    }
  }
  stats_.tls.handshake_done(std::chrono::duration<double>(clock::now() - started).count());
  spdlog::debug("TLS handshake done: {} {}", stream->protocol(), stream->cipher());
  auto& open = stats_.tls.connections[svc == service::echo ? 0 : 1];
  open.add();
  if (svc == service::echo)
    co_await echo_session(std::move(*stream), std::move(address));
  else
    co_await chat_session(std::move(*stream), std::move(address));
  open.sub();
}

bool async_server::reload_tls(const tls_config& tls) {
  if (!tls_ctx_) {
    spdlog::info("reload: TLS is not configured, no certificate to reload");
    return false;
  }
  try {
    tls_certificate_info info;
    tls_ctx_ = make_tls_context(tls, &info);
    stats_.tls.reloads_total.add();
    spdlog::info("reload: TLS certificate {} ({}), expires {}; new connections use it", info.subject, info.key,
                 info.not_after);
    return true;
  } catch (const std::exception& e) {
    stats_.tls.reload_failures_total.add();
    spdlog::error("reload: {}; the running certificate stays", e.what());
    return false;
  }
}

}  // namespace simul::server
