// Input flood control of one chat connection, as pure logic: received bytes are framed into
// lines, and lines are let out no faster than a token bucket allows. While the bucket is empty
// one line is held back and the input that keeps arriving piles up; past a backlog limit that
// is an excess flood. Sans-IO: the caller reads, waits and passes the time; both server models'
// chat readers are a loop around next() that does only the I/O and the waiting it asks for.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

#include "core/limits.hpp"
#include "core/line_framer.hpp"
#include "core/token_bucket.hpp"

namespace simul::core {

/// Not thread-safe; one per chat connection (its reader's alone).
class flood_gate {
 public:
  using clock = std::chrono::steady_clock;

  enum class status {
    line,          // handle `line` now (or, if `error` is set, the overlong line it replaces)
    need_input,    // no complete line: wait for input, feed() it, call next() again
    wait,          // a line is held for a flood token: wait `wait` (ending early only on a
                   // hang-up or a close), feed() what has arrived meanwhile, call next() again
    excess_flood,  // the input piled up while throttled passed the backlog limit: close the client
  };

  struct step {
    status what = status::need_input;
    std::string_view line;       // status::line: without CR/LF; valid until the next feed() or next()
    std::error_code error;       // status::line: errc::line_too_long (the line was discarded)
    clock::duration wait{};      // status::wait: how long until a token is available
  };

  /// Uses max_line_bytes, flood_burst, flood_lines_per_second and flood_max_backlog_bytes.
  explicit flood_gate(const limits& l);

  /// Appends received bytes, in any split. Memory is bounded by the framer (overlong lines are
  /// dropped as they arrive) and by the caller, which stops reading at excess_flood.
  void feed(std::string_view bytes);

  /// What the reader does next at `now`. Each line, including an overlong one, takes a token.
  /// While a line is held, every call first measures the backlog (so the caller must have
  /// waited and taken in what arrived before calling again), then tries for the token.
  step next(clock::time_point now);

  /// Drops all input, a held line included (a closing connection reads and discards).
  void discard();

  /// A line is held for a flood token.
  bool throttled() const noexcept { return holding_; }

  /// Received bytes not yet handed out as lines (a held line excluded).
  std::size_t buffered() const noexcept { return framer_.buffered(); }

 private:
  line_framer framer_;
  token_bucket bucket_;
  std::size_t max_backlog_;
  std::string held_;          // copied: the framer may move its bytes on the next feed()
  std::error_code held_error_;
  bool holding_ = false;
};

}  // namespace simul::core
