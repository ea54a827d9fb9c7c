// The TLS stream's OpenSSL calls: handshake, read, write, close_notify, and error mapping.
#include "server/async/tls_stream.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <new>

#include <openssl/bio.h>
#include <openssl/err.h>

namespace simul::server {
namespace {

class tls_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int v) const override {
    const char* r = ERR_reason_error_string(ERR_PACK(ERR_LIB_SSL, 0, v));
    return r ? r : "TLS error " + std::to_string(v);
  }
};

constexpr int unknown_reason = 0xfff;  // a failure OpenSSL gave no reason for (never 0: 0 is "no error")

// OpenSSL's socket BIO writes with write(), which raises SIGPIPE on a connection the peer has
// reset; this one sends with MSG_NOSIGNAL, as Asio does, so no process needs to ignore SIGPIPE.
int bio_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(static_cast<int>(BIO_get_fd(b, nullptr)), data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

int bio_read(BIO* b, char* data, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(static_cast<int>(BIO_get_fd(b, nullptr)), data, static_cast<std::size_t>(len), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  if (n == 0) BIO_set_flags(b, BIO_FLAGS_IN_EOF);
  return static_cast<int>(n);
}

// The socket BIO's method table with our read and write (its ctrl keeps the fd and answers
// flush and EOF queries).
BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    const BIO_METHOD* base = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_TYPE_SOCKET, "simul socket");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    return m;
  }();
  return method;
}

}  // namespace

const std::error_category& tls_category() noexcept {
  static const tls_error_category category;
  return category;
}

tls_stream::tls_stream(tcp::socket socket, SSL_CTX* ctx) : socket_(std::move(socket)), ssl_(SSL_new(ctx)) {
  BIO* bio = ssl_ ? BIO_new(socket_method()) : nullptr;
  if (!bio) {
    SSL_free(ssl_);
    throw std::bad_alloc();
  }
  BIO_set_fd(bio, socket_.native_handle(), BIO_NOCLOSE);
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_accept_state(ssl_);
}

tls_stream::tls_stream(tls_stream&& o) noexcept
    : socket_(std::move(o.socket_)),
      ssl_(std::exchange(o.ssl_, nullptr)),
      read_wait_(o.read_wait_),
      write_wait_(o.write_wait_),
      handshake_wait_(o.handshake_wait_),
      failed_(o.failed_),
      input_ready_(o.input_ready_) {}

tls_stream::~tls_stream() { SSL_free(ssl_); }  // the socket closes after it

asio::error_code tls_stream::error_of(int ret, wait_type& wait) {
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      wait = wait_type::wait_read;
      return asio::error::would_block;
    case SSL_ERROR_WANT_WRITE:
      wait = wait_type::wait_write;
      return asio::error::would_block;
    case SSL_ERROR_ZERO_RETURN:
      return asio::error::eof;  // close_notify
    case SSL_ERROR_SYSCALL:
      failed_ = true;
      ERR_clear_error();
      if (saved_errno != 0 && saved_errno != EAGAIN) return {saved_errno, asio::error::get_system_category()};
      return asio::error::eof;
    default: {
      failed_ = true;
      unsigned long e = ERR_peek_error();
      int reason = e ? ERR_GET_REASON(e) : 0;
      ERR_clear_error();
      return {reason ? reason : unknown_reason, tls_category()};
    }
  }
}

asio::error_code tls_stream::handshake() {
  ERR_clear_error();
  errno = 0;
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    input_ready_ = true;  // records that came with the client's Finished
    return {};
  }
  return error_of(r, handshake_wait_);
}

tls_failure tls_stream::failure(const asio::error_code& ec) const noexcept {
  if (ec.category() != tls_category()) return tls_failure::closed;  // EOF, reset
  switch (ec.value()) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return tls_failure::version;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
      return tls_failure::cipher;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
      return tls_failure::certificate;
    default:
      return tls_failure::protocol;
  }
}

std::size_t tls_stream::read(char* data, std::size_t size, asio::error_code& ec) {
  // Whole records while OpenSSL holds input; the socket is read at most once per call when
  // nothing is pending (read-ahead takes everything the kernel has, up to a record buffer).
  std::size_t got = 0;
  for (;;) {
    if (got == size) {
      input_ready_ = true;  // stopped for room: what OpenSSL still holds is for the next call
      break;
    }
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    if (SSL_read_ex(ssl_, data + got, size - got, &n) != 1) {
      auto e = error_of(0, read_wait_);
      input_ready_ = false;  // OpenSSL needs the socket (or failed)
      if (got > 0) break;    // would_block, or an error (or EOF) that the next call meets again
      ec = e;
      return 0;
    }
    got += n;
    if (!SSL_has_pending(ssl_)) break;
  }
  ec = {};
  return got;
}

std::size_t tls_stream::write(const char* data, std::size_t size, asio::error_code& ec) {
  std::size_t done = 0;
  while (done < size) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    // One record at a time: a retry after WANT_WRITE then passes at least the same bytes.
    if (SSL_write_ex(ssl_, data + done, std::min(size - done, max_record), &n) != 1) {
      auto e = error_of(0, write_wait_);
      if (done > 0 && e == asio::error::would_block) break;
      ec = e;
      return done;
    }
    done += n;
  }
  ec = {};
  return done;
}

void tls_stream::shutdown(asio::socket_base::shutdown_type what, asio::error_code& ec) {
  if (!failed_ && SSL_is_init_finished(ssl_)) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify and tries to send it; not waited for
    ERR_clear_error();
  }
  socket_.shutdown(what, ec);
}

}  // namespace simul::server
