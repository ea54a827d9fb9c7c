// shard_wire: encoding statistics for the parent process, and framing on a socket.
#include "client/shard_wire.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace simul::load {

namespace {

constexpr std::uint32_t max_frame = 64u << 20;  // far above any snapshot: a bigger one is garbage

void put(wire_out& out, const counters& c) {
  out.u64(c.connects_started).u64(c.connects_ok).u64(c.connects_failed);
  out.u64(static_cast<std::uint64_t>(c.connections_up)).u64(c.connections_lost);
  out.u64(c.msgs_sent).u64(c.msgs_received).u64(c.bytes_sent).u64(c.bytes_received);
  out.u64(static_cast<std::uint64_t>(c.outstanding));
  out.u64(c.chat_distinct).u64(c.chat_duplicates).u64(c.chat_reordered).u64(c.chat_foreign);
}

counters get_counters(wire_in& in) {
  counters c;
  c.connects_started = in.u64();
  c.connects_ok = in.u64();
  c.connects_failed = in.u64();
  c.connections_up = static_cast<std::int64_t>(in.u64());
  c.connections_lost = in.u64();
  c.msgs_sent = in.u64();
  c.msgs_received = in.u64();
  c.bytes_sent = in.u64();
  c.bytes_received = in.u64();
  c.outstanding = static_cast<std::int64_t>(in.u64());
  c.chat_distinct = in.u64();
  c.chat_duplicates = in.u64();
  c.chat_reordered = in.u64();
  c.chat_foreign = in.u64();
  return c;
}

void put(wire_out& out, const error_counts& e) {
  out.u64(e.by_cause().size());
  for (const auto& [cause, n] : e.by_cause()) out.str(cause).u64(n);
}

error_counts get_errors(wire_in& in) {
  error_counts e;
  const auto n = in.u64();
  for (std::uint64_t i = 0; i < n && in.ok(); ++i) {
    auto cause = in.str();
    e.add(cause, in.u64());
  }
  return e;
}

}  // namespace

wire_out& wire_out::u64(std::uint64_t v) {
  buf_.append(reinterpret_cast<const char*>(&v), sizeof v);
  return *this;
}

wire_out& wire_out::f64(double v) {
  buf_.append(reinterpret_cast<const char*>(&v), sizeof v);
  return *this;
}

wire_out& wire_out::str(std::string_view s) {
  u64(s.size());
  buf_.append(s);
  return *this;
}

wire_out& wire_out::u64s(const std::vector<std::uint64_t>& v) {
  u64(v.size());
  for (auto x : v) u64(x);
  return *this;
}

bool wire_in::take(void* to, std::size_t n) {
  if (!ok_ || data_.size() < n) {
    ok_ = false;
    std::memset(to, 0, n);
    return false;
  }
  std::memcpy(to, data_.data(), n);
  data_.remove_prefix(n);
  return true;
}

std::uint64_t wire_in::u64() {
  std::uint64_t v = 0;
  take(&v, sizeof v);
  return v;
}

double wire_in::f64() {
  double v = 0;
  take(&v, sizeof v);
  return v;
}

std::string wire_in::str() {
  const auto n = u64();
  if (n > data_.size()) {
    ok_ = false;
    return {};
  }
  std::string s(data_.substr(0, n));
  data_.remove_prefix(n);
  return s;
}

std::vector<std::uint64_t> wire_in::u64s() {
  const auto n = u64();
  std::vector<std::uint64_t> v;
  if (n > data_.size() / sizeof(std::uint64_t)) {
    ok_ = false;
    return v;
  }
  v.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) v.push_back(u64());
  return v;
}

void put(wire_out& out, const core::histogram& h) {
  std::uint64_t used = 0;
  for (std::size_t i = 0; i < core::histogram::bucket_count; ++i) used += h.count_in(i) ? 1 : 0;
  out.u64(used);
  for (std::size_t i = 0; i < core::histogram::bucket_count; ++i) {
    if (h.count_in(i)) out.u64(i).u64(h.count_in(i));
  }
  out.u64(h.min()).u64(h.max()).f64(h.sum());
}

core::histogram get_histogram(wire_in& in) {
  std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets;
  const auto used = in.u64();
  for (std::uint64_t i = 0; i < used && i < core::histogram::bucket_count && in.ok(); ++i) {
    const auto index = static_cast<std::uint32_t>(in.u64());
    buckets.emplace_back(index, in.u64());
  }
  const auto min = in.u64();
  const auto max = in.u64();
  const auto sum = in.f64();
  return core::histogram::from_parts(buckets, min, max, sum);
}

void put(wire_out& out, const snapshot& s) {
  put(out, s.c);
  put(out, s.connect_errors);
  put(out, s.io_errors);
  put(out, s.interval);
  out.u64s(s.chat_sent_per_room).u64s(s.connected_per_target);
  out.u64(s.setup_finished).u64(s.setup_ok).u64s(s.room_members);
}

snapshot get_snapshot(wire_in& in) {
  snapshot s;
  s.c = get_counters(in);
  s.connect_errors = get_errors(in);
  s.io_errors = get_errors(in);
  s.interval = get_histogram(in);
  s.chat_sent_per_room = in.u64s();
  s.connected_per_target = in.u64s();
  s.setup_finished = in.u64();
  s.setup_ok = in.u64();
  s.room_members = in.u64s();
  return s;
}

void put(wire_out& out, const shard_totals& t) {
  put(out, t.last);
  put(out, t.latency);
  put(out, t.handshakes);
  put(out, t.cross_target);
}

shard_totals get_totals(wire_in& in) {
  shard_totals t;
  t.last = get_snapshot(in);
  t.latency = get_histogram(in);
  t.handshakes = get_histogram(in);
  t.cross_target = get_histogram(in);
  return t;
}

std::uint64_t to_wire(clock::time_point t) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

clock::time_point time_from_wire(std::uint64_t ns) {
  return clock::time_point(std::chrono::duration_cast<clock::duration>(std::chrono::nanoseconds(ns)));
}

bool send_frame(int fd, std::string_view payload) {
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::string frame(reinterpret_cast<const char*>(&size), sizeof size);
  frame.append(payload);
  std::size_t done = 0;
  while (done < frame.size()) {
    // MSG_NOSIGNAL: a child that died is a failure to report, not a SIGPIPE for the parent.
    const auto n = ::send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

namespace {

// Reads exactly n bytes before the deadline.
bool read_exactly(int fd, char* to, std::size_t n, clock::time_point deadline, std::string& error) {
  std::size_t done = 0;
  while (done < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    if (left <= 0) {
      error = "timed out";
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) {
      error = strerrorname_np(errno);
      return false;
    }
    if (ready <= 0) continue;
    const auto got = ::read(fd, to + done, n - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      error = strerrorname_np(errno);
      return false;
    }
    if (got == 0) {
      error = "EOF";
      return false;
    }
    done += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace

std::optional<std::string> receive_frame(int fd, clock::time_point deadline, std::string& error) {
  std::uint32_t size = 0;
  if (!read_exactly(fd, reinterpret_cast<char*>(&size), sizeof size, deadline, error)) return std::nullopt;
  if (size > max_frame) {
    error = "frame of " + std::to_string(size) + " bytes";
    return std::nullopt;
  }
  std::string payload(size, '\0');
  if (!read_exactly(fd, payload.data(), size, deadline, error)) return std::nullopt;
  return payload;
}

}  // namespace simul::load
