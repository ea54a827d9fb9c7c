// Unit tests of admission control (sans-IO): the connection limits and per-address counts.
#include <doctest/doctest.h>

#include "server/common/admission.hpp"

using simul::server::admission;

namespace {
simul::core::limits limits_of(std::uint32_t total, std::uint32_t per_ip) {
  simul::core::limits l;
  l.max_connections = total;
  l.max_connections_per_ip = per_ip;
  return l;
}
}  // namespace

TEST_CASE("admission: connections are admitted up to max_connections, then refused with a reason") {
  admission a(limits_of(2, 0));
  CHECK(a.admit("10.0.0.1").empty());
  CHECK(a.admit("10.0.0.2").empty());
  CHECK(a.admit("10.0.0.3") == "too many connections");
  CHECK(a.open() == 2);
  a.release("10.0.0.1");
  CHECK(a.open() == 1);
  CHECK(a.admit("10.0.0.3").empty());
}

TEST_CASE("admission: the per-address limit counts each address apart and frees a slot on release") {
  admission a(limits_of(100, 2));
  REQUIRE(a.per_address());
  CHECK(a.admit("127.0.0.1").empty());
  CHECK(a.admit("127.0.0.1").empty());
  CHECK(a.admit("127.0.0.1") == "too many connections from your address");
  CHECK(a.admit("127.0.0.2").empty());
  CHECK(a.open_from("127.0.0.1") == 2);
  CHECK(a.open_from("127.0.0.2") == 1);
  CHECK(a.open() == 3);
  a.release("127.0.0.1");
  CHECK(a.open_from("127.0.0.1") == 1);
  CHECK(a.admit("127.0.0.1").empty());
}

TEST_CASE("admission: a refused connection counts nothing, and an address with none open is forgotten") {
  admission a(limits_of(1, 1));
  CHECK(a.admit("::1").empty());
  CHECK(a.admit("::1") == "too many connections");
  CHECK(a.admit("::2") == "too many connections");
  CHECK(a.open() == 1);
  CHECK(a.open_from("::2") == 0);
  a.release("::1");
  CHECK(a.open() == 0);
  CHECK(a.open_from("::1") == 0);
}

TEST_CASE("admission: without a per-address limit no address is tracked") {
  admission a(limits_of(10, 0));
  CHECK_FALSE(a.per_address());
  CHECK(a.admit("1.2.3.4").empty());
  CHECK(a.open_from("1.2.3.4") == 0);
  a.release("1.2.3.4");
  CHECK(a.open() == 0);
}
