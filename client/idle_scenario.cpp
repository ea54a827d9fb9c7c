// idle: open --connections, hold them for --duration without sending, count how many survive.
// With --server-pid the runner reports what holding them cost the server (RSS, threads).
#include <array>

#include "client/connection.hpp"
#include "client/ramp.hpp"
#include "client/scenario.hpp"

namespace simul::load {

namespace {

asio::awaitable<void> idle_session(worker& w, std::size_t id) {
  connection conn(w, id);
  if (!co_await conn.establish(true)) co_return;
  conn.setup_complete();
  if (!co_await w.wait_for_go()) co_return;
  // Nothing is expected; a read completes only when the server talks (e.g. a chat PING, which an
  // idle client ignores) or closes the connection, which is the failure this scenario looks for.
  std::array<char, 512> buf;
  for (;;) {
    auto [ec, n] = co_await conn.socket().async_read_some(asio::buffer(buf), nothrow);
    if (ec) {
      conn.fail(ec);
      break;
    }
    w.stats().c.bytes_received += n;
  }
}

class idle_scenario final : public scenario {
 public:
  void start(worker& w) override { w.spawn(ramp(w, w.run().opts.connections, idle_session)); }
};

}  // namespace

std::unique_ptr<scenario> make_idle_scenario() { return std::make_unique<idle_scenario>(); }

}  // namespace simul::load
