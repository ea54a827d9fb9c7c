// connection: connect with source binding and timeout; per-connection accounting.
#include "client/connection.hpp"

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace simul::load {

using asio::ip::tcp;

asio::awaitable<std::error_code> connect_socket(tcp::socket& socket, const tcp::endpoint& target,
                                                const asio::ip::address_v4* source,
                                                clock::duration timeout) {
  using namespace asio::experimental::awaitable_operators;
  std::error_code ec;
  socket.open(target.protocol(), ec);
  if (ec) co_return ec;
  if (source) {
    int one = 1;
    // Without this, bind() reserves a port for every destination and the source address runs out
    // of ports at ~28k connections no matter how many servers it talks to.
    if (::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one) != 0) {
      co_return std::error_code(errno, std::system_category());
    }
    socket.bind(tcp::endpoint(*source, 0), ec);
    if (ec) co_return ec;
  }
  asio::steady_timer timer(socket.get_executor(), timeout);
  auto result = co_await (socket.async_connect(target, nothrow) || timer.async_wait(nothrow));
  if (result.index() == 1) co_return std::make_error_code(std::errc::timed_out);
  ec = std::get<0>(std::get<0>(result));
  if (!ec) socket.set_option(tcp::no_delay(true), ec);
  co_return ec;
}

connection::connection(worker& w, std::size_t id) : session_base(w), socket_(w.context()), id_(id) {}

connection::~connection() {
  if (up_) --owner().stats().c.connections_up;
}

void connection::on_abort() {
  std::error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<bool> connection::establish(bool holds_slot) {
  auto& w = owner();
  auto& run = w.run();
  ++w.stats().c.connects_started;
  std::error_code ec;
  if (aborted()) {
    ec = std::make_error_code(std::errc::operation_canceled);
  } else {
    target_ = run.target_of(id_);
    const auto timeout =
        std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(run.opts.connect_timeout_s));
    const auto deadline = clock::now() + timeout;
    ec = co_await connect_socket(socket_.tcp(), run.targets[target_], run.source_of(id_), timeout);
    if (!ec && run.tls && !aborted()) {
      // The handshake is part of the connect: the ramp's slot is held until it ends, and
      // --connect-timeout covers both (a server that accepts but never answers the hello).
      using namespace asio::experimental::awaitable_operators;
      const auto started = clock::now();
      asio::steady_timer timer(socket_.tcp().get_executor(), deadline);
      auto result =
          co_await (socket_.handshake(run.tls.get(), run.opts.targets[target_].host) || timer.async_wait(nothrow));
      if (result.index() == 1)
        ec = std::make_error_code(std::errc::timed_out);
      else
        ec = std::get<0>(result);
      if (!ec) w.stats().handshakes.record(steady_ns(clock::now()) - steady_ns(started));
    }
  }
  if (holds_slot) w.release_connect_slot();
  if (!ec && aborted()) ec = std::make_error_code(std::errc::operation_canceled);
  if (ec) {
    count_setup_failure(cause_name(ec));
    co_return false;
  }
  ++w.stats().c.connects_ok;
  ++w.stats().connected_per_target[target_];
  ++w.stats().c.connections_up;
  up_ = true;
  co_return true;
}

void connection::setup_complete() {
  ready_ = true;
  owner().setup_finished(true);
}

void connection::setup_failed(std::string_view cause) {
  count_setup_failure(cause);
  std::error_code ignored;
  socket_.close(ignored);
}

void connection::count_setup_failure(std::string_view cause) {
  if (failed_) return;
  failed_ = true;
  auto& w = owner();
  // Aborted by the worker: the setup deadline passed (named so), or the run is over.
  if (aborted() && abort_reason()) cause = abort_reason();
  if (owner().phase() != run_phase::stopping || abort_reason()) {
    ++w.stats().c.connects_failed;
    w.stats().connect_errors.add(cause);
  }
  w.setup_finished(false);
}

void connection::fail(std::string_view cause) {
  if (failed_ || finished()) return;
  failed_ = true;
  auto& st = owner().stats();
  ++st.c.connections_lost;
  st.io_errors.add(cause);
}

void connection::fail(const std::error_code& ec) { fail(cause_name(ec)); }

}  // namespace simul::load
