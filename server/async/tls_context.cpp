// Loading and checking the TLS certificate and key into an OpenSSL server context.
#include "server/async/tls_context.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "server/common/server.hpp"

namespace simul::server {
namespace {

// TLS 1.2 suites with forward secrecy and AEAD only (Mozilla's "intermediate" list without
// DHE); TLS 1.3's suites are all modern and stay OpenSSL's defaults.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

struct bio_free {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct x509_free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using bio_ptr = std::unique_ptr<BIO, bio_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

[[noreturn]] void fail(const char* key, const std::string& file, const std::string& reason) {
  ERR_clear_error();
  throw startup_error(std::string(key) + " " + file + ": " + reason);
}

// The reason of the last OpenSSL error ("no start line", "bad decrypt"), or `fallback`.
std::string openssl_reason(const char* fallback) {
  unsigned long e = ERR_peek_last_error();
  const char* r = e ? ERR_reason_error_string(e) : nullptr;
  return r ? r : fallback;
}

bio_ptr open_pem(const char* key, const std::string& file) {
  // fopen first: its errno says "No such file or directory" or "Permission denied" plainly.
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) fail(key, file, std::string("cannot read: ") + std::strerror(errno));
  bio_ptr bio(BIO_new_fp(f, BIO_CLOSE));
  if (!bio) {
    std::fclose(f);
    fail(key, file, "out of memory");
  }
  return bio;
}

// Never prompts: an encrypted key is refused instead of waiting for a passphrase on a tty.
int no_passphrase(char*, int, int, void*) { return -1; }

std::string time_text(const ASN1_TIME* t) {
  bio_ptr mem(BIO_new(BIO_s_mem()));
  if (!mem || ASN1_TIME_print(mem.get(), t) != 1) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(mem.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string key_text(EVP_PKEY* k) {
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA: return "RSA-" + std::to_string(EVP_PKEY_get_bits(k));
    case EVP_PKEY_EC: {
      char group[64] = "?";
      std::size_t len = 0;
      EVP_PKEY_get_group_name(k, group, sizeof group, &len);
      return std::string("ECDSA ") + group;
    }
    default: return EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "unknown key type";
  }
}

std::string subject_text(X509* cert) {
  char buf[256] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

}  // namespace

ssl_ctx_ptr make_tls_context(const tls_config& cfg, tls_certificate_info* info) {
  const char* cert_key = "tls.cert_file";
  const char* key_key = "tls.key_file";
  ERR_clear_error();

  // The certificate, then its chain (every further certificate in the file).
  auto cert_bio = open_pem(cert_key, cfg.cert_file);
  x509_ptr cert(PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr));
  if (!cert) fail(cert_key, cfg.cert_file, "not a PEM certificate (" + openssl_reason("no certificate") + ")");
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0)
    fail(cert_key, cfg.cert_file, "certificate expired on " + time_text(X509_get0_notAfter(cert.get())));
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0)
    fail(cert_key, cfg.cert_file, "certificate not valid before " + time_text(X509_get0_notBefore(cert.get())));

  ssl_ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) fail(cert_key, cfg.cert_file, "cannot create a TLS context (" + openssl_reason("out of memory") + ")");
  if (SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1)
    fail(cert_key, cfg.cert_file, "certificate refused (" + openssl_reason("unusable") + ")");
  while (x509_ptr extra{PEM_read_bio_X509(cert_bio.get(), nullptr, no_passphrase, nullptr)}) {
    if (SSL_CTX_add1_chain_cert(ctx.get(), extra.get()) != 1)
      fail(cert_key, cfg.cert_file, "chain certificate refused (" + openssl_reason("unusable") + ")");
  }
  // The loop ends on "no start line" (the end of the file); anything else is a broken chain.
  if (auto e = ERR_peek_last_error(); e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
    fail(cert_key, cfg.cert_file, "bad chain certificate (" + openssl_reason("unreadable") + ")");
  ERR_clear_error();

  auto key_bio = open_pem(key_key, cfg.key_file);
  pkey_ptr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) fail(key_key, cfg.key_file, "not an unencrypted PEM private key (" + openssl_reason("no key") + ")");
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1)
    fail(key_key, cfg.key_file, "does not match the certificate in tls.cert_file " + cfg.cert_file);

  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  if (SSL_CTX_set_cipher_list(ctx.get(), tls12_ciphers) != 1)
    fail(cert_key, cfg.cert_file, "no usable cipher (" + openssl_reason("cipher list") + ")");
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                     // A client that closes without close_notify is a client that left
                                     // (IRC and echo frame their own data), not an error to report.
                                     SSL_OP_IGNORE_UNEXPECTED_EOF);
  // No buffers while idle; writes that can be retried from a different address (the sessions
  // retry from their own queues) and that report each record written.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Resumption by stateless tickets only: a server-side cache would hold a session per client.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx.get(), 1);
  // Read whole records (and what follows them) in one recv instead of header, then body.
  SSL_CTX_set_read_ahead(ctx.get(), 1);

  if (info) {
    info->subject = subject_text(cert.get());
    info->key = key_text(key.get());
    info->not_after = time_text(X509_get0_notAfter(cert.get()));
  }
  ERR_clear_error();
  return ctx;
}

}  // namespace simul::server
