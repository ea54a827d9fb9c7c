// The interface both server models implement, and the factory main() and the tests use.
#pragma once

#include <cstdint>
#include <memory>

#include "server/common/config.hpp"
#include "server/common/reload.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// A start-up failure (bind, listen, motd): what() is one line such as
/// "chat listener 127.0.0.1:6667: address already in use". main() prints it and exits 2.
class startup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class server {
 public:
  virtual ~server() = default;

  /// Serves until shutdown has completed. Call once, from one thread. With handle_signals,
  /// SIGINT/SIGTERM start a drain and a second one ends the process at once.
  virtual void run(bool handle_signals) = 0;

  /// Starts a graceful drain (stop accepting, /readyz 503, flush, close). Thread-safe, idempotent.
  virtual void request_shutdown() = 0;

  /// Bound ports (useful with port 0); 0 when the listener is disabled.
  virtual std::uint16_t echo_port() const = 0;
  virtual std::uint16_t chat_port() const = 0;
  virtual std::uint16_t metrics_port() const = 0;
  /// Bound TLS ports (chat.tls_port, echo.tls_port); 0 when not serving TLS.
  virtual std::uint16_t chat_tls_port() const { return 0; }
  virtual std::uint16_t echo_tls_port() const { return 0; }

  virtual const stats& counters() const = 0;

  /// How SIGHUP re-reads the configuration (main() re-parses its command line). Without one,
  /// SIGHUP is logged and ignored. Call before run().
  void set_reloader(config_reloader r) { reloader_ = std::move(r); }

 protected:
  config_reloader reloader_;
};

/// Creates the configured model and binds its listeners. Throws startup_error.
std::unique_ptr<server> make_server(const config& cfg);

/// Reads and checks the files the config names that start-up would load (the TLS certificate
/// and key: readable PEM, matching, valid now), without opening any listener: what
/// `--check-config` adds to validating the config. Throws startup_error naming the key, the
/// file and the reason, as start-up would.
void check_config_files(const config& cfg);

}  // namespace simul::server
