// log_event: structured fields in the text and JSON formats, through the real formatter.
#include "server/common/log_event.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "server/common/logging.hpp"

using simul::server::log_event;

namespace {

// The default logger swapped for one writing to a string, with the server's formatter for
// `format`; the previous logger comes back at the end of the scope.
class captured_log {
 public:
  explicit captured_log(const std::string& format) : previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_st>(out_)));
    simul::server::apply_logging({"debug", format, std::chrono::milliseconds(0)});
  }
  ~captured_log() { spdlog::set_default_logger(previous_); }
  captured_log(const captured_log&) = delete;
  captured_log& operator=(const captured_log&) = delete;
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

log_event closed() {
  return log_event("connection_closed", "{service}: closed the connection from {peer} after {duration_s} s")
      .with("service", "echo")
      .with("peer", "127.0.0.1")
      .with("duration_s", 1.23456)
      .with("bytes_in", std::uint64_t{6});
}

}  // namespace

TEST_CASE("a log event fills its template and appends the fields it does not name, logfmt style") {
  CHECK(closed().message() == "echo: closed the connection from 127.0.0.1 after 1.235 s");
  CHECK(closed().text() == "echo: closed the connection from 127.0.0.1 after 1.235 s bytes_in=6");
  auto quoted = log_event("e", "x").with("why", "two words").with("q", "a\"b").with("empty", "").with("ok", true);
  CHECK(quoted.text() == R"(x why="two words" q="a\"b" empty="" ok=true)");
  CHECK(log_event("e", "{a} and {a}, {unknown}").with("a", 1).with("b", 2).json_only().text() == "1 and 1, {unknown}");
}

TEST_CASE("a log event's JSON members carry the event name and typed fields") {
  CHECK(closed().json_members() ==
        R"(,"event":"connection_closed","service":"echo","peer":"127.0.0.1","duration_s":1.235,"bytes_in":6)");
  auto odd = log_event("e", "m")
                 .with("ctl", "a\nb\x01")
                 .with("nan", std::numeric_limits<double>::quiet_NaN())
                 .with("neg", -3);
  CHECK(odd.json_members() == R"(,"event":"e","ctl":"a\u000ab\u0001","nan":null,"neg":-3)");
}

TEST_CASE("under the json format a log event's fields are keys of the line; under text they read as before") {
  {
    captured_log log("json");
    closed().debug();
    spdlog::info("plain \"quoted\" message");
    const auto out = log.text();
    CHECK(out.find(R"("level":"debug","pid":)") != std::string::npos);
    CHECK(out.find(R"("msg":"echo: closed the connection from 127.0.0.1 after 1.235 s","event":"connection_closed",)"
                   R"("service":"echo","peer":"127.0.0.1","duration_s":1.235,"bytes_in":6})"
                   "\n") != std::string::npos);
    CHECK(out.find(R"("msg":"plain \"quoted\" message"})"
                   "\n") != std::string::npos);
  }
  {
    captured_log log("text");
    closed().debug();
    const auto out = log.text();
    CHECK(out.find(" debug echo: closed the connection from 127.0.0.1 after 1.235 s bytes_in=6\n") !=
          std::string::npos);
    CHECK(out.find('{') == std::string::npos);
  }
  {
    captured_log log("text");
    simul::server::apply_logging({"info", "text", std::chrono::milliseconds(0)});
    closed().debug();  // below the level: nothing
    CHECK(log.text().empty());
  }
}
