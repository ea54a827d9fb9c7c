// stream: the TLS side (OpenSSL calls, handshake, client context).
#include "client/stream.hpp"

#include <cerrno>
#include <csignal>
#include <stdexcept>

#include <asio/use_awaitable.hpp>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "client/connection.hpp"

namespace simul::load {
namespace {

// The first OpenSSL error's reason as an error_code that cause_name() turns into a cause.
std::error_code tls_error() {
  unsigned long e = ERR_peek_error();
  ERR_clear_error();
  // Causes are named from the message: "tls: certificate verify failed", "tls: ...".
  static const struct category final : std::error_category {
    const char* name() const noexcept override { return "tls"; }
    std::string message(int v) const override {
      const char* r = ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, v));
      return std::string("tls: ") + (r ? r : "error " + std::to_string(v));
    }
  } cat;
  int reason = e ? ERR_GET_REASON(e) : 0;
  return {reason ? reason : 0xfff, cat};
}

}  // namespace

ssl_ctx_ptr make_client_tls_context(const std::string& ca_file, bool insecure) {
  // OpenSSL's socket BIO writes with write(): a server that reset a connection would raise
  // SIGPIPE and end the run. (Asio's own sends use MSG_NOSIGNAL.)
  std::signal(SIGPIPE, SIG_IGN);
  ssl_ctx_ptr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw std::runtime_error("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);  // every handshake is a full one
  if (insecure) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  int ok = ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx.get())
                           : SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
  if (ok != 1) {
    unsigned long e = ERR_peek_last_error();
    const char* r = e ? ERR_reason_error_string(e) : nullptr;
    ERR_clear_error();
    throw std::runtime_error("--ca-file " + ca_file + ": cannot load CA certificates (" + (r ? r : "unreadable") + ")");
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  return ctx;
}

stream::~stream() { SSL_free(ssl_); }

asio::awaitable<std::error_code> stream::handshake(SSL_CTX* ctx, const std::string& host) {
  ssl_ = SSL_new(ctx);
  if (!ssl_) co_return std::make_error_code(std::errc::not_enough_memory);
  SSL_set_fd(ssl_, socket_.native_handle());
  SSL_set_connect_state(ssl_);
  if (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) {
    // The name to check: an IP address against the certificate's IP SANs, else the host name.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      ERR_clear_error();
      SSL_set1_host(ssl_, host.c_str());
      SSL_set_tlsext_host_name(ssl_, host.c_str());
    }
  }
  std::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) co_return ec;
  for (;;) {
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) co_return std::error_code{};
    wait_type wait;
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ: wait = wait_type::wait_read; break;
      case SSL_ERROR_WANT_WRITE: wait = wait_type::wait_write; break;
      case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        co_return errno ? std::error_code(errno, std::system_category()) : asio::error::eof;
      default: co_return tls_error();
    }
    auto [wec] = co_await socket_.async_wait(wait, nothrow);
    if (wec) co_return wec;
  }
}

std::size_t stream::tls_io(asio::mutable_buffer b, bool write, std::error_code& ec, wait_type& wait) {
  ERR_clear_error();
  errno = 0;
  std::size_t n = 0;
  int ok = write ? SSL_write_ex(ssl_, b.data(), b.size(), &n) : SSL_read_ex(ssl_, b.data(), b.size(), &n);
  if (ok == 1) {
    ec = {};
    return n;
  }
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, 0)) {
    case SSL_ERROR_WANT_READ: wait = wait_type::wait_read; ec = asio::error::would_block; break;
    case SSL_ERROR_WANT_WRITE: wait = wait_type::wait_write; ec = asio::error::would_block; break;
    case SSL_ERROR_ZERO_RETURN: ec = asio::error::eof; break;
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      ec = saved_errno ? std::error_code(saved_errno, std::system_category()) : asio::error::eof;
      break;
    default: ec = tls_error(); break;
  }
  return 0;
}

}  // namespace simul::load
