// line_framer: LF/CRLF framing with a hard length limit.
#include "core/line_framer.hpp"

#include "core/errc.hpp"

namespace simul::core {

void line_framer::compact() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    // An idle connection should not keep a large buffer alive.
    if (buf_.capacity() > 2 * max_) std::string().swap(buf_);
  } else if (pos_ > 0) {
    buf_.erase(0, pos_);
  }
  pos_ = 0;
}

void line_framer::feed(std::string_view bytes) {
  compact();
  if (!discarding_) {
    buf_.append(bytes);
    return;
  }
  // Still inside an overlong line: everything up to and including the next LF is dropped.
  auto nl = bytes.find('\n');
  if (nl == std::string_view::npos) return;
  discarding_ = false;
  buf_.append(bytes.substr(nl + 1));
}

std::optional<framed_line> line_framer::next() {
  std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  auto nl = rest.find('\n');
  if (nl == std::string_view::npos) {
    if (rest.size() >= max_) {
      // No terminator within the limit: drop what we have and skip to the next LF.
      discarding_ = true;
      pos_ = buf_.size();
      return framed_line{{}, make_error_code(errc::line_too_long)};
    }
    return std::nullopt;
  }
  pos_ += nl + 1;
  if (nl + 1 > max_) return framed_line{{}, make_error_code(errc::line_too_long)};
  auto line = rest.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return framed_line{line, {}};
}

}  // namespace simul::core
