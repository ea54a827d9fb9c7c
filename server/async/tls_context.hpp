// The async model's TLS server context (OpenSSL): the certificate and key from tls.cert_file /
// tls.key_file, TLS 1.2 and 1.3 only, modern ciphers, and the modes that keep an idle
// connection small (no buffers while idle, no server-side session cache).
#pragma once

#include <memory>
#include <string>

#include <openssl/ssl.h>

#include "server/common/config.hpp"

namespace simul::server {

struct ssl_ctx_free {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
/// A server context. Each connection's SSL holds its own reference, so replacing the context
/// (SIGHUP) leaves established connections on the one they started with.
using ssl_ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_free>;

/// What was loaded, for the log: "CN=example, ECDSA P-256, expires 2027-01-01".
struct tls_certificate_info {
  std::string subject;
  std::string key;
  std::string not_after;
};

/// Builds a server context from the PEM files of `cfg`. Throws startup_error with one line that
/// names the file and the reason, e.g. "tls.cert_file /etc/simul/cert.pem: certificate expired
/// on 2024-01-01 00:00:00 GMT" or "tls.key_file /etc/simul/key.pem: does not match the
/// certificate in tls.cert_file /etc/simul/cert.pem". Any thread; touches no server state.
ssl_ctx_ptr make_tls_context(const tls_config& cfg, tls_certificate_info* info = nullptr);

}  // namespace simul::server
