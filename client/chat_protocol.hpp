// The load client's side of IRC: a minimal line parser, the PRIVMSG payload simul-load sends
// (run tag, sender id, sequence number, send timestamp, padding), and the per-receiver checker
// that finds lost, duplicated and reordered deliveries. Sans-IO.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace simul::load {

/// One parsed IRC line. Views into the line; valid while it is.
struct irc_line {
  std::string_view prefix;   // without the leading ':'
  std::string_view command;  // e.g. "PRIVMSG", "001"
  std::array<std::string_view, 15> params{};
  std::size_t param_count = 0;

  std::string_view param(std::size_t i) const { return i < param_count ? params[i] : std::string_view{}; }
  std::string_view last() const { return param_count ? params[param_count - 1] : std::string_view{}; }
};

/// Parses "[:prefix] COMMAND params [:trailing]" (without CR/LF). nullopt for an empty line.
std::optional<irc_line> parse_irc_line(std::string_view line);

/// "nick!user@host" -> "nick".
std::string_view nick_of(std::string_view prefix);

/// What a simul-load PRIVMSG carries.
struct chat_payload {
  std::string_view tag;    // identifies the run: messages of other runs are ignored
  std::uint32_t sender = 0;
  std::uint64_t seq = 0;
  std::uint64_t sent_ns = 0;  // intended send time, steady clock
};

/// "<tag> <sender> <seq> <sent_ns> " padded with '.' to `size` bytes (at least the header).
std::string format_payload(std::string_view tag, std::uint32_t sender, std::uint64_t seq,
                           std::uint64_t sent_ns, std::size_t size);
/// nullopt if the text is not a simul-load payload.
std::optional<chat_payload> parse_payload(std::string_view text);

/// Per receiver: for each sender, which sequence numbers arrived. Not thread-safe.
class delivery_checker {
 public:
  enum class verdict { in_order, reordered, duplicate };

  /// Classifies one delivery: a duplicate is a (sender, seq) seen before; a reordered one arrived
  /// after a later seq from the same sender. Memory stays O(1) per sender while in order.
  verdict on_message(std::uint32_t sender, std::uint64_t seq);

  /// Distinct (sender, seq) pairs received.
  std::uint64_t distinct() const noexcept { return distinct_; }

 private:
  struct sender_state {
    std::uint64_t next = 0;           // every seq below has arrived
    std::uint64_t max_seen = 0;
    bool any = false;
    std::set<std::uint64_t> ahead;    // arrived, above a gap
  };
  std::unordered_map<std::uint32_t, sender_state> senders_;
  std::uint64_t distinct_ = 0;
};

}  // namespace simul::load
