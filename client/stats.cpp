// stats: summing counters and snapshots across worker threads.
#include "client/stats.hpp"

#include <algorithm>

namespace simul::load {

counters& counters::operator+=(const counters& o) {
  connects_started += o.connects_started;
  connects_ok += o.connects_ok;
  connects_failed += o.connects_failed;
  connections_up += o.connections_up;
  connections_lost += o.connections_lost;
  msgs_sent += o.msgs_sent;
  msgs_received += o.msgs_received;
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  outstanding += o.outstanding;
  chat_distinct += o.chat_distinct;
  chat_duplicates += o.chat_duplicates;
  chat_reordered += o.chat_reordered;
  chat_foreign += o.chat_foreign;
  return *this;
}

namespace {

void add_elementwise(std::vector<std::uint64_t>& to, const std::vector<std::uint64_t>& from) {
  if (to.size() < from.size()) to.resize(from.size());
  for (std::size_t i = 0; i < from.size(); ++i) to[i] += from[i];
}

}  // namespace

void snapshot::merge(const snapshot& o) {
  c += o.c;
  connect_errors.merge(o.connect_errors);
  io_errors.merge(o.io_errors);
  interval.merge(o.interval);
  add_elementwise(chat_sent_per_room, o.chat_sent_per_room);
  add_elementwise(connected_per_target, o.connected_per_target);
  setup_finished += o.setup_finished;
  setup_ok += o.setup_ok;
  add_elementwise(room_members, o.room_members);
}

snapshot take_snapshot(thread_stats& st, bool take_interval) {
  snapshot s;
  s.c = st.c;
  s.connect_errors = st.connect_errors;
  s.io_errors = st.io_errors;
  s.chat_sent_per_room = st.chat_sent_per_room;
  s.connected_per_target = st.connected_per_target;
  if (take_interval) {
    s.interval = st.interval;
    st.interval.reset();
  }
  return s;
}

}  // namespace simul::load
