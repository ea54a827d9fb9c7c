// Unit tests for the load client's IRC helpers: line parsing, payloads, the delivery checker.
#include "client/chat_protocol.hpp"

#include <doctest/doctest.h>

using namespace simul::load;

TEST_CASE("an IRC line splits into prefix, command, middle and trailing parameters") {
  auto l = parse_irc_line(":nick!user@host PRIVMSG #room3 :hello there");
  REQUIRE(l);
  CHECK(l->prefix == "nick!user@host");
  CHECK(nick_of(l->prefix) == "nick");
  CHECK(l->command == "PRIVMSG");
  CHECK(l->param_count == 2);
  CHECK(l->param(0) == "#room3");
  CHECK(l->param(1) == "hello there");
  auto p = parse_irc_line("PING :tok en");
  REQUIRE(p);
  CHECK(p->prefix.empty());
  CHECK(p->last() == "tok en");
  CHECK_FALSE(parse_irc_line(""));
  CHECK_FALSE(parse_irc_line(":only-prefix"));
}

TEST_CASE("a payload survives formatting and parsing, padded to the requested size") {
  const auto text = format_payload("ab", 17, 42, 123456789, 64);
  CHECK(text.size() == 64);
  auto p = parse_payload(text);
  REQUIRE(p);
  CHECK(p->tag == "ab");
  CHECK(p->sender == 17);
  CHECK(p->seq == 42);
  CHECK(p->sent_ns == 123456789);
  CHECK_FALSE(parse_payload("hello world"));
  CHECK_FALSE(parse_payload("ab x 1 2 pad"));
}

TEST_CASE("the delivery checker tells in-order, reordered and duplicate deliveries apart") {
  delivery_checker c;
  using v = delivery_checker::verdict;
  CHECK(c.on_message(1, 0) == v::in_order);
  CHECK(c.on_message(1, 2) == v::in_order);   // a gap: 1 is missing so far
  CHECK(c.on_message(1, 1) == v::reordered);  // arrived after a later one
  CHECK(c.on_message(1, 1) == v::duplicate);
  CHECK(c.on_message(1, 0) == v::duplicate);
  CHECK(c.on_message(2, 0) == v::in_order);   // senders are independent
  CHECK(c.on_message(1, 5) == v::in_order);
  CHECK(c.on_message(1, 5) == v::duplicate);  // a duplicate above a gap
  CHECK(c.distinct() == 5);                    // 1:{0,1,2,5}, 2:{0}; 3 and 4 lost
}
