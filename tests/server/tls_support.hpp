// Helpers for the TLS integration tests: throwaway certificates made at test time (OpenSSL's
// API, nothing committed) and a blocking TLS client whose every wait has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/ssl.h>

#include "tests/server/test_support.hpp"

namespace simul::test {

enum class key_kind { ecdsa_p256, rsa_2048 };

/// A self-signed certificate and its key in two fresh PEM files (removed by the destructor).
struct test_cert {
  std::string cert_file;
  std::string key_file;
  test_cert() = default;
  test_cert(const test_cert&) = delete;
  test_cert& operator=(const test_cert&) = delete;
  ~test_cert();
};

/// Writes a self-signed certificate for `common_name`, valid from `valid_from` (relative to now)
/// for `valid_for`, with a new key of `kind`, to `cert_file` / `key_file`.
void write_test_cert(const std::string& cert_file, const std::string& key_file, const std::string& common_name,
                     key_kind kind = key_kind::ecdsa_p256, std::chrono::seconds valid_from = -std::chrono::hours(1),
                     std::chrono::seconds valid_for = std::chrono::hours(24));

/// As write_test_cert, into fresh temporary files.
void make_test_cert(test_cert& out, const std::string& common_name, key_kind kind = key_kind::ecdsa_p256,
                    std::chrono::seconds valid_from = -std::chrono::hours(1),
                    std::chrono::seconds valid_for = std::chrono::hours(24));

/// A port that was free a moment ago (for a child process whose TLS port cannot be 0).
std::uint16_t free_port();

/// A TLS client over a real socket. Does not verify the server (tests check what it presents).
class tls_client {
 public:
  /// Connects; handshake() then runs the TLS handshake. `max_version` limits the client
  /// (e.g. TLS1_1_VERSION, with the security level lowered so that the client offers it).
  explicit tls_client(std::uint16_t port, int max_version = 0);
  ~tls_client();
  tls_client(const tls_client&) = delete;
  tls_client& operator=(const tls_client&) = delete;

  /// True when the handshake completed within the deadline; error() says why not.
  bool handshake(std::chrono::milliseconds deadline = 10s);
  const std::string& error() const { return error_; }
  /// The server certificate's common name; the negotiated protocol ("TLSv1.3").
  std::string peer_common_name() const;
  std::string protocol() const { return SSL_get_version(ssl_); }

  void send(std::string_view bytes);  // all of it, or fails the test
  std::string recv_exact(std::size_t n, std::chrono::milliseconds deadline = 10s);
  std::optional<std::string> recv_line(std::chrono::milliseconds deadline = 10s);
  std::optional<std::string> wait_for(std::string_view needle, std::chrono::milliseconds deadline = 10s);
  /// True when the server closed (close_notify, EOF or reset) within the deadline.
  bool wait_closed(std::chrono::milliseconds deadline = 10s);

 private:
  // One SSL call retried while it wants the socket, until the deadline; its result or -1.
  template <class Op>
  int retry(Op op, std::chrono::steady_clock::time_point until);

  client tcp_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
  std::string pending_;
};

}  // namespace simul::test
