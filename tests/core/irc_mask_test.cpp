// irc_mask: wildcard matching and ban-mask normalisation.
#include <doctest/doctest.h>

#include <string>

#include "core/irc_mask.hpp"

using namespace simul::core;

TEST_CASE("a mask matches with * for any run and ? for one character, ignoring ASCII case") {
  CHECK(mask_match("*", ""));
  CHECK(mask_match("*!*@*", "bob!b@host"));
  CHECK(mask_match("BOB!*@*", "bob!b@host"));
  CHECK(mask_match("b?b!*@10.*", "bob!x@10.0.0.1"));
  CHECK_FALSE(mask_match("b?b!*@10.*", "bob!x@11.0.0.1"));
  CHECK_FALSE(mask_match("bob", "bobby"));
  CHECK(mask_match("*by", "bobby"));
  CHECK_FALSE(mask_match("", "x"));
}

TEST_CASE("a pathological mask is matched in bounded time") {
  const std::string text(2000, 'a');
  CHECK_FALSE(mask_match("*a*a*a*a*a*a*a*a*a*a*b", text));
}

TEST_CASE("ban masks are completed to nick!user@host form") {
  CHECK(normalize_mask("bob") == "bob!*@*");
  CHECK(normalize_mask("*@10.0.0.1") == "*!*@10.0.0.1");
  CHECK(normalize_mask("u@h") == "*!u@h");
  CHECK(normalize_mask("n!u") == "n!u@*");
  CHECK(normalize_mask("n!u@h") == "n!u@h");
  CHECK(normalize_mask(std::string(300, 'x')).size() == 128);
}
