// A TLS stream for the async sessions (the transport seam, stream.hpp): OpenSSL directly over
// the connection's non-blocking socket, readiness-style like tcp::socket. No buffers of its own:
// with SSL_MODE_RELEASE_BUFFERS an idle connection holds only OpenSSL's per-connection state.
//
// read_some / write_some call SSL_read / SSL_write once or a few times and never block. When
// OpenSSL wants the socket (WANT_READ or WANT_WRITE, in either direction: a TLS read may need
// to write and a write may need to read) they return would_block and remember which readiness
// the next async_wait of that direction must wait for. A read wait completes at once when
// OpenSSL already holds whole records (read ahead with the handshake, or left because the
// caller's buffer filled), which the socket would not signal; not when what it holds is part of
// a record that needs more bytes from the socket (that would spin).
//
// Writes: a would_block may leave a record encrypted and pending inside OpenSSL. The caller
// must then call write_some again with the same bytes first (it may add more after them), as
// the sessions do anyway: they keep unwritten bytes in their own queue and retry from its head.
//
// Loop thread only, like the socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <openssl/ssl.h>

#include "server/async/stream.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// The category of OpenSSL errors (value: the reason code of the first error).
const std::error_category& tls_category() noexcept;

class tls_stream {
 public:
  using tcp = asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;
  using wait_type = asio::socket_base::wait_type;

  /// Takes the accepted socket; the connection references `ctx` (which may then be replaced).
  /// Throws std::bad_alloc if OpenSSL cannot create the connection.
  tls_stream(tcp::socket socket, SSL_CTX* ctx);
  tls_stream(tls_stream&& o) noexcept;
  tls_stream& operator=(tls_stream&&) = delete;
  ~tls_stream();

  /// One step of the server handshake: {} when it is done, would_block when it needs the
  /// socket (then async_wait(handshake_wait())), else the error (see failure()).
  asio::error_code handshake();
  wait_type handshake_wait() const noexcept { return handshake_wait_; }
  /// Classifies the error a failed handshake() returned.
  tls_failure failure(const asio::error_code& ec) const noexcept;
  /// The negotiated protocol ("TLSv1.3") and cipher, for the log.
  const char* protocol() const noexcept { return SSL_get_version(ssl_); }
  const char* cipher() const noexcept { return SSL_get_cipher_name(ssl_); }

  /// Completes when a read_some / write_some (as `w` says) may make progress.
  template <class Token>
  auto async_wait(wait_type w, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code)>(
        [this, w](auto handler) {
          if (w == wait_type::wait_read && input_ready_ && SSL_has_pending(ssl_)) {
            // Input is waiting inside OpenSSL: ready now.
            auto ex = asio::get_associated_executor(handler, socket_.get_executor());
            asio::post(ex, [h = std::move(handler)]() mutable { std::move(h)(asio::error_code{}); });
            return;
          }
          auto real = w == wait_type::wait_read ? read_wait_ : w == wait_type::wait_write ? write_wait_ : w;
          socket_.async_wait(real, std::move(handler));
        },
        token);
  }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, asio::error_code& ec) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
      asio::mutable_buffer b(*it);
      if (b.size() > 0) return read(static_cast<char*>(b.data()), b.size(), ec);
    }
    ec = {};
    return 0;
  }

  /// Several buffers are gathered into one record (a chat batch of short lines would otherwise
  /// cost a record and a send() per line).
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, asio::error_code& ec) {
    auto it = asio::buffer_sequence_begin(buffers);
    const auto end = asio::buffer_sequence_end(buffers);
    while (it != end && asio::const_buffer(*it).size() == 0) ++it;
    if (it == end) {
      ec = {};
      return 0;
    }
    asio::const_buffer first(*it);
    auto next = it;
    if (++next == end || first.size() >= max_record) return write(static_cast<const char*>(first.data()), first.size(), ec);
    std::array<char, max_record> gather;  // on the thread's stack, not in the connection
    std::size_t n = 0;
    for (; it != end && n < gather.size(); ++it) {
      asio::const_buffer b(*it);
      std::size_t take = std::min(b.size(), gather.size() - n);
      std::memcpy(gather.data() + n, b.data(), take);
      n += take;
    }
    return write(gather.data(), n, ec);
  }

  void cancel(asio::error_code& ec) { socket_.cancel(ec); }
  /// Sends close_notify (best effort, without waiting) and ends the sending side.
  void shutdown(asio::socket_base::shutdown_type what, asio::error_code& ec);
  tcp::endpoint remote_endpoint(asio::error_code& ec) const { return socket_.remote_endpoint(ec); }
  void non_blocking(bool mode, asio::error_code& ec) { socket_.non_blocking(mode, ec); }
  template <class Option>
  void set_option(const Option& o, asio::error_code& ec) {
    socket_.set_option(o, ec);
  }
  executor_type get_executor() { return socket_.get_executor(); }
  tcp::socket& socket() noexcept { return socket_; }

  static constexpr std::size_t max_record = 16 * 1024;  // TLS's largest plaintext record

 private:
  std::size_t read(char* data, std::size_t size, asio::error_code& ec);
  std::size_t write(const char* data, std::size_t size, asio::error_code& ec);
  /// After a failed SSL call: would_block (noting the readiness to wait for in `wait`), eof, or the error.
  asio::error_code error_of(int ret, wait_type& wait);

  tcp::socket socket_;
  SSL* ssl_ = nullptr;
  wait_type read_wait_ = wait_type::wait_read;
  wait_type write_wait_ = wait_type::wait_write;
  wait_type handshake_wait_ = wait_type::wait_read;
  bool failed_ = false;       // a fatal error: no close_notify may follow
  bool input_ready_ = false;  // what OpenSSL holds may be readable without the socket
};

static_assert(session_stream<tls_stream>);

}  // namespace simul::server
