// Test helpers for simul-load: in-process servers on 127.0.0.1 port 0 (an echo server that can
// garble, an IRC server that can drop, repeat and swap lines) and a runner for the binary.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/common/process.hpp"

namespace simul::test {

using asio::ip::tcp;
inline constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);

/// Runs an io_context on its own thread. Derived classes call stop() first in their destructor,
/// so that the thread is gone before their members are.
class server_thread {
 public:
  server_thread() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}
  virtual ~server_thread() { stop(); }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 protected:
  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  void start() {
    asio::co_spawn(io_, accept_loop(), report);
    thread_ = std::thread([this] { io_.run(); });
  }
  virtual asio::awaitable<void> session(tcp::socket s) = 0;

  asio::io_context io_;

 private:
  // Completion of a test server's coroutine: an exception is a bug in the test server, say so.
  static void report(std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "test server: %s\n", ex.what());
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, s] = co_await acceptor_.async_accept(nothrow);
      if (ec) co_return;
      asio::co_spawn(io_, session(std::move(s)), report);
    }
  }

  tcp::acceptor acceptor_;
  std::thread thread_;
};

/// Echoes every byte; records each peer's address. With garble_every = N, every Nth read has
/// its first byte flipped.
class echo_server : public server_thread {
 public:
  explicit echo_server(int garble_every = 0) : garble_every_(garble_every) { start(); }
  ~echo_server() override { stop(); }

  std::multiset<std::string> peers() {
    std::lock_guard lock(mu_);
    return peers_;
  }

 private:
  asio::awaitable<void> session(tcp::socket s) override {
    {
      std::lock_guard lock(mu_);
      peers_.insert(s.remote_endpoint().address().to_string());
    }
    char buf[4096];
    for (int reads = 1;; ++reads) {
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), nothrow);
      if (ec) co_return;
      if (garble_every_ && reads % garble_every_ == 0) buf[0] ^= 0x5a;
      auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf, n), nothrow);
      if (wec) co_return;
    }
  }

  int garble_every_;
  std::mutex mu_;
  std::multiset<std::string> peers_;
};

/// Which relayed PRIVMSG lines (numbered from 1 over the whole server) the IRC server breaks.
struct irc_faults {
  int drop_at = 0;
  int repeat_at = 0;
  int swap_at = 0;  // held back and sent after the next line to the same user
};

/// Just enough IRC for simul-load chat: 001 after NICK+USER, a PING it must answer, JOIN echoed,
/// PRIVMSG relayed to the room's other members. Faults are applied per relayed line, counted over
/// the whole server (see irc_faults).
class irc_server : public server_thread {
 public:
  explicit irc_server(irc_faults f = {}) : faults_(f) { start(); }
  ~irc_server() override { stop(); }

  int pongs() const { return pongs_.load(); }

 private:
  struct client {
    tcp::socket socket;
    std::string nick;
    std::string held;    // a line held back by swap_at
    std::string outbox;  // one write at a time keeps lines whole and in order
    bool writing = false;
    explicit client(tcp::socket s) : socket(std::move(s)) {}
  };
  using client_ptr = std::shared_ptr<client>;

  void send(const client_ptr& c, const std::string& line) {
    c->outbox += line;
    if (!c->writing) flush(c);
  }

  void flush(const client_ptr& c) {
    c->writing = true;
    auto data = std::make_shared<std::string>(std::move(c->outbox));
    c->outbox.clear();
    asio::async_write(c->socket, asio::buffer(*data), [this, c, data](std::error_code ec, std::size_t) {
      c->writing = false;
      if (!ec && !c->outbox.empty()) flush(c);
    });
  }

  void relay(const client_ptr& to, const std::string& line) {
    const int n = ++relays_;
    if (n == faults_.drop_at) return;
    if (n == faults_.swap_at) {
      to->held = line;
      return;
    }
    send(to, line);
    if (n == faults_.repeat_at) send(to, line);
    if (!to->held.empty()) {
      send(to, to->held);
      to->held.clear();
    }
  }

  asio::awaitable<void> session(tcp::socket s) override {
    auto self = std::make_shared<client>(std::move(s));
    std::string buf;
    bool have_user = false;
    std::string room;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(self->socket, asio::dynamic_buffer(buf), "\n", nothrow);
      if (ec) break;
      std::string line = buf.substr(0, n);
      buf.erase(0, n);
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      std::istringstream in(line);
      std::string cmd, arg;
      in >> cmd >> arg;
      if (cmd == "NICK") self->nick = arg;
      if (cmd == "USER") have_user = true;
      if ((cmd == "NICK" || cmd == "USER") && have_user && !self->nick.empty()) {
        send(self, ":test.local 001 " + self->nick + " :Welcome\r\nPING :tok\r\n");
      } else if (cmd == "PONG") {
        ++pongs_;
      } else if (cmd == "JOIN") {
        room = arg;
        rooms_[room].push_back(self);
        send(self, ":" + self->nick + "!u@h JOIN " + room + "\r\n");
      } else if (cmd == "PRIVMSG") {
        const std::string out = ":" + self->nick + "!u@h " + line + "\r\n";
        for (auto& member : rooms_[arg]) {
          if (member != self) relay(member, out);
        }
      }
    }
    if (!room.empty()) std::erase(rooms_[room], self);
  }

  irc_faults faults_;
  int relays_ = 0;
  std::atomic<int> pongs_{0};
  std::map<std::string, std::vector<client_ptr>> rooms_;
};

inline run_output run_load(const std::vector<std::string>& args) { return run_program(SIMUL_LOAD_BIN, args); }

}  // namespace simul::test
