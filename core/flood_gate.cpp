// flood_gate: line framing, then one flood token per line, with a backlog limit while throttled.
#include "core/flood_gate.hpp"

namespace simul::core {

flood_gate::flood_gate(const limits& l)
    : framer_(l.max_line_bytes),
      bucket_(l.flood_burst, l.flood_lines_per_second),
      max_backlog_(l.flood_max_backlog_bytes) {}

void flood_gate::feed(std::string_view bytes) { framer_.feed(bytes); }

flood_gate::step flood_gate::next(clock::time_point now) {
  if (holding_) {
    // Measured before the token is tried: a flooder whose backlog passed the limit during the
    // wait is cut off even if its token has come.
    if (framer_.buffered() > max_backlog_) return {status::excess_flood, {}, {}, {}};
    if (!bucket_.try_take(now)) return {status::wait, {}, {}, bucket_.time_until_token(now)};
    holding_ = false;
    return {status::line, held_, held_error_, {}};
  }
  auto l = framer_.next();
  if (!l) return {};
  if (bucket_.try_take(now)) return {status::line, l->line, l->error, {}};
  // Flooding: this line waits for a token. The backlog is measured from the next call on,
  // after the caller has waited and taken in what arrived meanwhile.
  held_.assign(l->line);
  held_error_ = l->error;
  holding_ = true;
  return {status::wait, {}, {}, bucket_.time_until_token(now)};
}

void flood_gate::discard() {
  framer_ = line_framer(framer_.max_line_bytes());
  held_.clear();
  held_error_ = {};
  holding_ = false;
}

}  // namespace simul::core
