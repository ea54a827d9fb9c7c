// Fuzz target: core::line_framer. Input: [max_line_bytes - 2][split seed][stream...]. The stream
// is fed in pseudo-random pieces (sometimes several before lines are pulled) and what comes out
// must equal a plain reference framing of the whole stream: one line per LF (one CR before it
// dropped), or exactly one line_too_long for a line over the limit, wherever the pieces split it.
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/errc.hpp"
#include "core/line_framer.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using simul::core::errc;

struct item {
  bool too_long = false;
  std::string line;
  bool operator==(const item&) const = default;
};

// The framing the header promises, on the whole stream at once.
std::vector<item> reference(std::string_view s, std::size_t max) {
  std::vector<item> out;
  while (true) {
    auto nl = s.find('\n');
    auto seg = s.substr(0, nl);
    if (nl == std::string_view::npos) {
      if (seg.size() >= max) out.push_back({true, {}});  // reported when it passes the limit
      break;
    }
    if (seg.size() + 1 > max) {
      out.push_back({true, {}});
    } else {
      if (!seg.empty() && seg.back() == '\r') seg.remove_suffix(1);
      out.push_back({false, std::string(seg)});
    }
    s.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max = 2 + data[0];
  std::uint32_t rng = 0x9e3779b9u ^ data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  simul::core::line_framer framer(max);
  std::vector<item> got;
  auto drain = [&] {
    while (auto f = framer.next()) {
      if (f->error) {
        FUZZ_CHECK(f->error == errc::line_too_long);
        FUZZ_CHECK(f->line.empty());
        got.push_back({true, {}});
      } else {
        FUZZ_CHECK(f->line.find('\n') == std::string_view::npos);
        FUZZ_CHECK(f->line.size() + 1 <= max);
        got.push_back({false, std::string(f->line)});
      }
    }
    // Whatever is held is an incomplete line below the limit.
    FUZZ_CHECK(framer.buffered() < max);
  };
  std::size_t pos = 0;
  while (pos < stream.size()) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    std::size_t piece = 1 + rng % (rng & 0x100 ? 7 : 2 * max + 3);
    if (piece > stream.size() - pos) piece = stream.size() - pos;
    framer.feed(stream.substr(pos, piece));
    pos += piece;
    if (rng & 0x200 || pos == stream.size()) drain();  // sometimes pieces pile up first
  }
  drain();
  FUZZ_CHECK(got == reference(stream, max));
  return 0;
}
