// Implementation of the TLS test helpers (not a test file: no _test suffix).
#include "tests/server/tls_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace simul::test {
namespace {

using steady = std::chrono::steady_clock;

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const noexcept { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;

void write_pem(const std::string& path, auto write) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "w"), &std::fclose);
  REQUIRE(f);
  REQUIRE(write(f.get()) == 1);
}

std::string temp_path(const char* suffix) {
  static std::atomic<int> seq{0};
  return "/tmp/simul-tls-" + std::to_string(::getpid()) + "-" + std::to_string(seq++) + suffix;
}

}  // namespace

test_cert::~test_cert() {
  if (!cert_file.empty()) ::unlink(cert_file.c_str());
  if (!key_file.empty()) ::unlink(key_file.c_str());
}

void write_test_cert(const std::string& cert_file, const std::string& key_file, const std::string& common_name,
                     key_kind kind, std::chrono::seconds valid_from, std::chrono::seconds valid_for) {
  pkey_ptr key(kind == key_kind::rsa_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"));
  REQUIRE(key);
  x509_ptr cert(X509_new());
  REQUIRE(cert);
  X509_set_version(cert.get(), 2);
  static std::atomic<long> serial{1};
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(valid_from.count()));
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>((valid_from + valid_for).count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                             -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  write_pem(key_file, [&](std::FILE* f) {
    return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  write_pem(cert_file, [&](std::FILE* f) { return PEM_write_X509(f, cert.get()); });
}

void make_test_cert(test_cert& out, const std::string& common_name, key_kind kind, std::chrono::seconds valid_from,
                    std::chrono::seconds valid_for) {
  out.cert_file = temp_path("-cert.pem");
  out.key_file = temp_path("-key.pem");
  write_test_cert(out.cert_file, out.key_file, common_name, kind, valid_from, valid_for);
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) == 0);
  ::close(fd);
  return ntohs(sa.sin_port);
}

tls_client::tls_client(std::uint16_t port, int max_version) : tcp_(port) {
  // The client's socket BIO writes with write(): a server that closed would raise SIGPIPE.
  static const bool sigpipe_ignored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  REQUIRE(sigpipe_ignored);
  ctx_ = SSL_CTX_new(TLS_client_method());
  REQUIRE(ctx_);
  if (max_version) {
    // OpenSSL 3 offers TLS 1.0 and 1.1 only at security level 0: let this client try them,
    // so that it is the server that refuses.
    SSL_CTX_set_min_proto_version(ctx_, 0);
    SSL_CTX_set_max_proto_version(ctx_, max_version);
    SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
  }
  ssl_ = SSL_new(ctx_);
  REQUIRE(ssl_);
  ::fcntl(tcp_.fd(), F_SETFL, ::fcntl(tcp_.fd(), F_GETFL) | O_NONBLOCK);
  SSL_set_fd(ssl_, tcp_.fd());
  SSL_set_connect_state(ssl_);
}

tls_client::~tls_client() {
  SSL_free(ssl_);
  SSL_CTX_free(ctx_);
}

template <class Op>
int tls_client::retry(Op op, steady::time_point until) {
  for (;;) {
    ERR_clear_error();
    int r = op();
    if (r > 0) return r;
    short events = 0;
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ: events = POLLIN; break;
      case SSL_ERROR_WANT_WRITE: events = POLLOUT; break;
      default: {
        char buf[256] = "closed";
        if (auto e = ERR_peek_error()) ERR_error_string_n(e, buf, sizeof buf);
        error_ = buf;
        return -1;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
    pollfd p{tcp_.fd(), events, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      error_ = "deadline";
      return -1;
    }
  }
}

bool tls_client::handshake(std::chrono::milliseconds deadline) {
  return retry([&] { return SSL_do_handshake(ssl_); }, steady::now() + deadline) > 0;
}

std::string tls_client::peer_common_name() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert) return {};
  char cn[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  return cn;
}

void tls_client::send(std::string_view bytes) {
  auto until = steady::now() + 10s;
  while (!bytes.empty()) {
    int n = retry([&] { return SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 16384))); },
                  until);
    REQUIRE_MESSAGE(n > 0, "TLS send failed: " << error_);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string tls_client::recv_exact(std::size_t n, std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  char buf[16384];
  while (pending_.size() < n) {
    int r = retry([&] { return SSL_read(ssl_, buf, sizeof buf); }, until);
    if (r <= 0) break;
    pending_.append(buf, static_cast<std::size_t>(r));
  }
  std::string out = pending_.substr(0, std::min(n, pending_.size()));
  pending_.erase(0, out.size());
  return out;
}

std::optional<std::string> tls_client::recv_line(std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  char buf[4096];
  for (;;) {
    if (auto eol = pending_.find('\n'); eol != std::string::npos) {
      std::string line = pending_.substr(0, eol);
      pending_.erase(0, eol + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    int r = retry([&] { return SSL_read(ssl_, buf, sizeof buf); }, until);
    if (r <= 0) return std::nullopt;
    pending_.append(buf, static_cast<std::size_t>(r));
  }
}

std::optional<std::string> tls_client::wait_for(std::string_view needle, std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  while (auto line = recv_line(std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()))) {
    if (line->find(needle) != std::string::npos) return line;
  }
  return std::nullopt;
}

bool tls_client::wait_closed(std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  char buf[4096];
  while (retry([&] { return SSL_read(ssl_, buf, sizeof buf); }, until) > 0) {
  }
  return error_ != "deadline";
}

}  // namespace simul::test
