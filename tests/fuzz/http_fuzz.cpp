// Fuzz target: the metrics listener's request handling, as both models run it: bytes arrive in
// pieces of at most 1 KiB (the read buffer) until http_request_complete() or 8 KiB, then the
// answer is http_reply() (http_response(), or 431). Input: [piece-size seed][draining flag][request bytes...].
// The answer must be a well-formed HTTP/1.0 response: a status line "HTTP/1.0 NNN Reason", header
// lines "Name: value", a blank line, Content-Length equal to the body (no body for HEAD), and
// 200 only for GET or HEAD of a known path.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "server/common/metrics.hpp"
#include "server/common/stats.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace simul::server;

bool is_token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool printable(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

void check_response(std::string_view request, std::string_view r, bool complete) {
  const auto head_end = r.find("\r\n\r\n");
  FUZZ_CHECK(head_end != std::string_view::npos);
  const auto head = r.substr(0, head_end + 2);
  const auto body = r.substr(head_end + 4);
  const auto status_end = head.find("\r\n");
  const auto status = head.substr(0, status_end);
  FUZZ_CHECK(status.size() > 13 && status.starts_with("HTTP/1.0 "));
  const auto code = status.substr(9, 3);
  FUZZ_CHECK(code[0] >= '1' && code[0] <= '5' && code[1] >= '0' && code[1] <= '9' && code[2] >= '0' && code[2] <= '9');
  FUZZ_CHECK(status[12] == ' ' && printable(status.substr(13)));
  std::string_view rest = head.substr(status_end + 2);
  std::optional<std::size_t> length;
  while (!rest.empty()) {
    const auto eol = rest.find("\r\n");
    FUZZ_CHECK(eol != std::string_view::npos);
    const auto field = rest.substr(0, eol);
    const auto colon = field.find(": ");
    FUZZ_CHECK(colon != std::string_view::npos && colon > 0);
    for (char c : field.substr(0, colon)) FUZZ_CHECK(is_token_char(c));
    FUZZ_CHECK(printable(field.substr(colon + 2)));
    if (field.substr(0, colon) == "Content-Length") length = std::stoul(std::string(field.substr(colon + 2)));
    rest.remove_prefix(eol + 2);
  }
  const bool head_request = complete && request.starts_with("HEAD ");
  if (head_request) {
    FUZZ_CHECK(body.empty());
  } else if (length) {
    FUZZ_CHECK(*length == body.size());
  } else {
    FUZZ_CHECK(body.empty());
  }
  if (code == "200") {
    FUZZ_CHECK(request.starts_with("GET ") || head_request);
    FUZZ_CHECK(request.find("/metrics") != std::string_view::npos || request.find("/healthz") != std::string_view::npos ||
               request.find("/readyz") != std::string_view::npos);
  }
  if (!complete) FUZZ_CHECK(code == "431");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static stats st;  // counters as a running server has them
  st.of(service::chat).connections.add();
  st.lines_in_total.add(3);
  const unsigned seed = data[0];
  const bool draining = data[1] & 1;
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  std::string request;
  std::size_t pos = 0;
  unsigned rng = seed * 2654435761u + 1;
  while (request.size() < max_http_request_bytes && !http_request_complete(request)) {
    if (pos == input.size()) return 0;  // the client closed before a full request: no answer
    rng = rng * 1103515245u + 12345u;
    std::size_t n = 1 + (rng >> 8) % 1024;  // what one read_some returns
    n = std::min(n, input.size() - pos);
    request.append(input.substr(pos, n));
    pos += n;
  }
  const bool complete = http_request_complete(request);
  const std::string reply = http_reply(request, st, draining, seed & 1 ? model_kind::async : model_kind::threaded);
  check_response(request, reply, complete);
  return 0;
}
