// Unit tests for load::json_writer: structure and string escaping, checked by python3's parser.
#include "client/json_writer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "tests/client/test_support.hpp"

using simul::load::json_writer;

TEST_CASE("strings are escaped: quotes, backslashes, control characters, invalid UTF-8") {
  CHECK(json_writer::quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_writer::quote("line\nnext\ttab\r") == R"("line\nnext\ttab\r")");
  CHECK(json_writer::quote(std::string("\x01\x1f", 2)) == R"("\u0001\u001f")");
  CHECK(json_writer::quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");          // valid UTF-8 kept
  CHECK(json_writer::quote("bad\xff\xc3") == R"("bad\ufffd\ufffd")");     // invalid bytes replaced
  CHECK(json_writer::quote("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // a UTF-16 surrogate
}

TEST_CASE("nested objects and arrays with every value type form one valid document") {
  json_writer j;
  j.begin_object();
  j.member("s", "x\"y").member("n", std::uint64_t{18446744073709551615ull}).member("i", std::int64_t{-3});
  j.member("d", 0.25).member("nan", std::nan("")).member("inf", std::numeric_limits<double>::infinity());
  j.member("t", true).key("nothing").null();
  j.key("list").begin_array().value(1).value("two").begin_object().end_object().begin_array().end_array().end_array();
  j.key("empty").begin_object().end_object();
  j.end_object();
  const auto path = simul::test::temp_path("writer.json");
  std::ofstream(path) << j.str();
  CHECK(simul::test::python_json_check(
      path, "d['s']=='x\"y' and d['n']==18446744073709551615 and d['i']==-3 and d['d']==0.25 and "
            "d['nan'] is None and d['inf'] is None and d['t'] is True and d['nothing'] is None and "
            "d['list']==[1,'two',{},[]] and d['empty']=={}"));
}
