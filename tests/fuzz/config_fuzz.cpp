// Fuzz target: the server's config loader (load_config_text) on arbitrary text. It either returns
// a config that validates and survives to_yaml() and a reload unchanged, or throws config_error
// with one printable line: no newline or other control byte (a key or a value, or yaml-cpp's own
// message, may hold any of them) and of bounded length (values and keys are shown cut short).
#include <cstdio>
#include <string>
#include <string_view>

#include "server/common/config.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace simul::server;

constexpr std::size_t max_message_bytes = 400;

bool printable_line(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == 0x7f) return false;
    // C1 controls written as UTF-8 (U+0080..U+009F): some terminals act on them too.
    if (u == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0 &&
        static_cast<unsigned char>(s[i + 1]) >= 0x80)
      return false;
  }
  return true;
}

// chat.motd_file names a file to read: keep the fuzzer away from devices, pipes and /proc
// (reading /dev/stdin would wait forever). Escapes could spell any path, so they go too.
bool may_read_odd_files(std::string_view yaml) {
  if (yaml.find("motd_file") == std::string_view::npos) return false;
  for (std::string_view bad : {"dev", "proc", "sys", "run", "\\", "!"}) {
    if (yaml.find(bad) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  if (may_read_odd_files(yaml)) return 0;
  config cfg;
  try {
    cfg = load_config_text(yaml, "fuzz.yaml");
  } catch (const config_error& e) {
    const std::string_view msg = e.what();
    if (!printable_line(msg) || msg.size() > max_message_bytes || !msg.starts_with("fuzz.yaml")) {
      std::fprintf(stderr, "bad config error message (%zu bytes): ", msg.size());
      for (char c : msg) std::fprintf(stderr, (c >= 0x20 && c < 0x7f) ? "%c" : "\\x%02x", static_cast<unsigned char>(c));
      std::fprintf(stderr, "\n");
      FUZZ_CHECK(!"config_error message is one printable line of bounded length starting with the name");
    }
    return 0;
  }
  validate(cfg);  // must not throw: load_config_text validated it
  // What was accepted prints as YAML that loads back to the same text.
  const std::string again = to_yaml(cfg);
  config reloaded;
  try {
    reloaded = load_config_text(again, "again.yaml");
  } catch (const config_error& e) {
    std::fprintf(stderr, "to_yaml output does not load: %s\n%s\n", e.what(), again.c_str());
    FUZZ_CHECK(!"to_yaml output loads");
  }
  FUZZ_CHECK(to_yaml(reloaded) == again);
  return 0;
}
