// The bytes simul-load sends to an echo server: a per-connection pseudo-random body with the
// message's sequence number in its first bytes, so a stale, short or corrupted echo is caught.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace simul::load {

/// Not thread-safe; one per connection.
class echo_message {
 public:
  echo_message(std::size_t size, std::uint64_t seed) : bytes_(size) {
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& b : bytes_) {
      x ^= x >> 33;
      x *= 0xff51afd7ed558ccdull;
      x ^= x >> 29;
      b = static_cast<char>(x);
    }
  }

  std::size_t size() const noexcept { return bytes_.size(); }

  /// Message `seq`: the body with seq's little-endian bytes at the front. Valid until next stamp.
  const char* stamp(std::uint64_t seq) noexcept {
    for (std::size_t i = 0; i < header(); ++i) bytes_[i] = static_cast<char>(seq >> (8 * i));
    return bytes_.data();
  }

  /// True if `echoed` (size() bytes) is exactly message `seq`.
  bool matches(std::uint64_t seq, const char* echoed) const noexcept {
    for (std::size_t i = 0; i < header(); ++i) {
      if (echoed[i] != static_cast<char>(seq >> (8 * i))) return false;
    }
    return std::memcmp(echoed + header(), bytes_.data() + header(), bytes_.size() - header()) == 0;
  }

 private:
  std::size_t header() const noexcept { return bytes_.size() < 8 ? bytes_.size() : 8; }

  std::vector<char> bytes_;
};

}  // namespace simul::load
