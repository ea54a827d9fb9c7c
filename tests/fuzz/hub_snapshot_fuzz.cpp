// Fuzz target: chat_hub::load(). The input is tried twice: as a whole snapshot, and as a
// snapshot body with its checksum appended, so the parser and the consistency checks behind the
// checksum are reached. What is checked:
// - a refused snapshot leaves the hub unchanged;
// - an accepted one saves and loads again to the same bytes, and the hub then survives a short
//   session (queries, joins, messages, nick changes, quits from clients 0-7, then a shutdown
//   that reaches every loaded client), every delivery one CRLF-terminated line within
//   max_line_bytes, and ends empty.
// Seeds (corpus/hub_snapshot/) are snapshot bodies without their checksum.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/chat_hub.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using namespace simul::core;

std::string with_checksum(std::string_view body) {  // FNV-1a 64, as core/chat_snapshot.cpp
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char ch : body) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  std::string out(body);
  for (int i = 0; i < 8; ++i, h >>= 8) out.push_back(static_cast<char>(h & 0xff));
  return out;
}

hub_config config() {
  hub_config c;
  c.server_name = "irc.fuzz";
  c.max_line_bytes = 512;
  c.max_rooms_per_user = 4;
  c.clock = [] { return std::int64_t{1700000000}; };
  return c;
}

void check_output(const chat_hub& hub, const hub_output& out) {
  for (const auto& d : out.deliveries) {
    FUZZ_CHECK(d.line != nullptr);
    const std::string& s = *d.line;
    FUZZ_CHECK(s.size() >= 2 && s.size() <= hub.config().max_line_bytes && s.ends_with("\r\n"));
    FUZZ_CHECK(s.find('\n') == s.size() - 1);
  }
}

void exercise(chat_hub& hub) {
  const char* lines[] = {"NAMES",       "WHO *",          "LIST",       "LUSERS",       "WHOIS a",
                         "WHOWAS a",    "JOIN #a",        "JOIN #b,#c", "MODE #a",      "MODE #a +o a",
                         "MODE #a b",   "PRIVMSG #a :hi", "TOPIC #a",   "TOPIC #a :t",  "KICK #a a",
                         "INVITE a #a", "NICK a",         "NICK zz",    "USER u 0 * :r", "CAP END",
                         "AWAY :x",     "PART #a",        "WALLOPS :w", "KILL a :k",    "QUIT :q"};
  for (const char* line : lines) {
    for (client_id id = 0; id < 8; ++id) check_output(hub, hub.on_line(id, line));
  }
  for (client_id id = 0; id < 8; ++id) check_output(hub, hub.disconnect(id, "gone"));
  check_output(hub, hub.shutdown("bye"));
  FUZZ_CHECK(hub.connections() == 0 && hub.users() == 0 && hub.rooms() == 0);
}

void try_load(std::string_view snapshot) {
  chat_hub hub(config());
  hub.connect(3, "10.0.0.3");
  (void)hub.on_line(3, "NICK keep");
  const std::string before = hub.save();
  if (!hub.load(snapshot)) {
    FUZZ_CHECK(hub.save() == before);
    return;
  }
  const std::string saved = hub.save();
  chat_hub again(config());
  FUZZ_CHECK(again.load(saved).ok);
  FUZZ_CHECK(again.save() == saved);
  exercise(hub);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  try_load(in);
  try_load(with_checksum(in));
  return 0;
}
