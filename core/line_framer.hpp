// Splits a byte stream into lines ending in LF (a CR before it is dropped), with a length limit.
// Sans-IO: the caller feeds whatever bytes it read, in any split, and pulls complete lines.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace simul::core {

/// One result of line_framer::next(): a line (without CR/LF), or an error for a line that was
/// too long and has been discarded.
struct framed_line {
  std::string_view line;  // valid until the next feed() or next()
  std::error_code error;  // errc::line_too_long, or empty
};

/// Not thread-safe; one per connection.
class line_framer {
 public:
  /// max_line_bytes counts the line terminator (IRC: 512 including CRLF).
  explicit line_framer(std::size_t max_line_bytes) : max_(max_line_bytes) {}

  /// Appends received bytes. Memory stays bounded: an overlong line is discarded as it arrives.
  void feed(std::string_view bytes);

  /// The next complete line, or an overlong-line error, or nullopt when more bytes are needed.
  /// An overlong line is reported once, when its terminator arrives or when it passes the limit.
  std::optional<framed_line> next();

  /// Bytes held that are not yet returned as lines.
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

  std::size_t max_line_bytes() const noexcept { return max_; }

 private:
  void compact();

  std::size_t max_;
  std::string buf_;
  std::size_t pos_ = 0;         // start of the unconsumed part of buf_
  bool discarding_ = false;     // inside an overlong line: drop bytes up to the next LF
};

}  // namespace simul::core
