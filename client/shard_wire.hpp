// The messages between simul-load and its child processes: a frame is a 4-byte length and a
// payload of fixed-width numbers and length-prefixed strings. Both ends are the same binary on
// the same machine (forked), so numbers go in native byte order.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/shard.hpp"

namespace simul::load {

/// Builds a payload.
class wire_out {
 public:
  wire_out& u64(std::uint64_t v);
  wire_out& f64(double v);
  wire_out& str(std::string_view s);
  wire_out& u64s(const std::vector<std::uint64_t>& v);
  const std::string& data() const noexcept { return buf_; }

 private:
  std::string buf_;
};

/// Reads a payload; after a read past the end every value is 0 and ok() is false.
class wire_in {
 public:
  explicit wire_in(std::string_view data) : data_(data) {}
  std::uint64_t u64();
  double f64();
  std::string str();
  std::vector<std::uint64_t> u64s();
  bool ok() const noexcept { return ok_; }

 private:
  bool take(void* to, std::size_t n);
  std::string_view data_;
  bool ok_ = true;
};

void put(wire_out& out, const snapshot& s);
void put(wire_out& out, const core::histogram& h);
void put(wire_out& out, const shard_totals& t);
snapshot get_snapshot(wire_in& in);
core::histogram get_histogram(wire_in& in);
shard_totals get_totals(wire_in& in);

/// A time point of the steady clock as nanoseconds, and back (the clock is CLOCK_MONOTONIC,
/// shared by every process of the machine).
std::uint64_t to_wire(clock::time_point t);
clock::time_point time_from_wire(std::uint64_t ns);

/// Writes one frame (blocking; the peer is always reading). False if the peer is gone.
bool send_frame(int fd, std::string_view payload);
/// Reads one frame, waiting until `deadline` at most. nullopt with `error` set ("EOF",
/// "timed out", an errno name) when none came.
std::optional<std::string> receive_frame(int fd, clock::time_point deadline, std::string& error);

}  // namespace simul::load
