// The byte stream of one simul-load connection: plain TCP, or TLS (--tls) over the same
// socket with OpenSSL driven readiness-style (no Asio ssl::stream and its per-connection
// buffers). Offers what the scenarios use of tcp::socket: async_read_some / async_write_some
// (so asio::async_read / async_write compose over it), non-blocking read_some / write_some,
// non_blocking, cancel, close. Worker thread only.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <openssl/ssl.h>

namespace simul::load {

struct ssl_ctx_free {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_free>;

/// The client context of a --tls run: TLS 1.2+, verifying against `ca_file` (empty: the
/// system's CAs) unless `insecure`. Throws std::runtime_error naming the file on failure.
ssl_ctx_ptr make_client_tls_context(const std::string& ca_file, bool insecure);

class stream {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;
  using wait_type = asio::socket_base::wait_type;

  explicit stream(asio::io_context& io) : socket_(io) {}
  ~stream();
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  /// The TCP socket underneath (to connect it).
  asio::ip::tcp::socket& tcp() noexcept { return socket_; }

  /// Runs the TLS client handshake on the connected socket; `host` is checked against the
  /// server's certificate when the context verifies. From then on the stream is TLS.
  asio::awaitable<std::error_code> handshake(SSL_CTX* ctx, const std::string& host);

  executor_type get_executor() { return socket_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (!ssl_) return socket_.async_read_some(b, std::move(handler));
          start(std::move(handler), first(b), false);
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (!ssl_) return socket_.async_write_some(b, std::move(handler));
          auto c = first(b);
          start(std::move(handler), asio::mutable_buffer(const_cast<void*>(c.data()), c.size()), true);
        },
        token, buffers);
  }

  /// Never block (after non_blocking(true)): would_block when nothing could be done.
  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& b, std::error_code& ec) {
    if (!ssl_) return socket_.read_some(b, ec);
    wait_type ignored;
    return tls_io(first(b), false, ec, ignored);
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& b, std::error_code& ec) {
    if (!ssl_) return socket_.write_some(b, ec);
    auto c = first(b);
    wait_type ignored;
    return tls_io(asio::mutable_buffer(const_cast<void*>(c.data()), c.size()), true, ec, ignored);
  }

  void non_blocking(bool mode, std::error_code& ec) { socket_.non_blocking(mode, ec); }
  void cancel(std::error_code& ec) { socket_.cancel(ec); }
  void close(std::error_code& ec) { socket_.close(ec); }

 private:
  template <class Buffers>
  static auto first(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it)
      if (it->size() > 0) return *it;
    return *asio::buffer_sequence_begin(buffers);
  }

  // One SSL_read / SSL_write. would_block sets `wait` to the readiness OpenSSL needs.
  std::size_t tls_io(asio::mutable_buffer b, bool write, std::error_code& ec, wait_type& wait);

  // A read or write over TLS: tries, waits for the readiness OpenSSL asks for, tries again.
  // A result available at once is posted, never delivered inside the initiating call.
  struct tls_op {
    stream* s;
    asio::mutable_buffer buffer;
    bool write;
    bool posted = false;
    std::error_code result;
    std::size_t done = 0;

    template <class Self>
    void operator()(Self& self, std::error_code ec = {}) {
      if (posted) return self.complete(result, done);
      if (ec) return self.complete(ec, 0);
      wait_type wait = wait_type::wait_read;
      std::error_code e;
      std::size_t n = s->tls_io(buffer, write, e, wait);
      if (e == asio::error::would_block) return s->socket_.async_wait(wait, std::move(self));
      posted = true;
      result = e;
      done = n;
      asio::post(s->socket_.get_executor(), std::move(self));
    }
  };

  template <class Handler>
  void start(Handler&& handler, asio::mutable_buffer b, bool write) {
    asio::async_compose<Handler, void(std::error_code, std::size_t)>(tls_op{this, b, write, false, {}, 0}, handler, socket_);
  }

  asio::ip::tcp::socket socket_;
  SSL* ssl_ = nullptr;
};

}  // namespace simul::load
