// Unit tests of the shared life-cycle pieces: refusal lines, accept back-off, start-up checks.
#include <doctest/doctest.h>

#include "server/common/lifecycle.hpp"

using namespace simul::server;

TEST_CASE("a refused client gets one line: an IRC ERROR on chat, plain text on echo") {
  CHECK(refusal_line(service::chat, "too many connections") == "ERROR :too many connections\r\n");
  CHECK(refusal_line(service::echo, "too many connections") == "error: too many connections\r\n");
}

TEST_CASE("accept back-off doubles from 10 ms to 1 s, counts each failure and resets on success") {
  stats st;
  accept_backoff b;
  std::vector<long> waits;
  for (int i = 0; i < 9; ++i) waits.push_back(static_cast<long>(b.failed(st, service::echo, "Too many open files").count()));
  CHECK(waits == std::vector<long>{10, 20, 40, 80, 160, 320, 640, 1000, 1000});
  CHECK(st.accept_errors_total.get() == 9);
  b.succeeded();
  CHECK(b.failed(st, service::echo, "Too many open files").count() == 10);
}

TEST_CASE("a listener that cannot be opened names the service, the address and the reason") {
  auto e = listener_error(service::chat, "127.0.0.1", 6667, "Address already in use");
  CHECK(std::string(e.what()) == "chat listener 127.0.0.1:6667: address already in use");
}

TEST_CASE("the open-files warning names the limit, the key and what to raise it to, only when it is too low") {
  using simul::server::fd_limit_warning;
  CHECK(fd_limit_warning(0, 10000).empty());  // unlimited
  CHECK(fd_limit_warning(20000, 10000).empty());
  CHECK(fd_limit_warning(10032, 10000).empty());
  auto w = fd_limit_warning(1024, 10000);
  CHECK(w.find("open-files limit is 1024") != std::string::npos);
  CHECK(w.find("limits.max_connections is 10000") != std::string::npos);
  CHECK(w.find("near 992 connections") != std::string::npos);
  CHECK(w.find("at least 10032") != std::string::npos);
}
