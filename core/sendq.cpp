// sendq: a FIFO of shared lines with hard and soft byte limits (soft: for a limited time only).
#include "core/sendq.hpp"

#include "core/errc.hpp"

namespace simul::core {

sendq::sendq(std::size_t hard_bytes, std::size_t soft_bytes, std::chrono::milliseconds soft_duration) noexcept
    : hard_(hard_bytes), soft_(soft_bytes), soft_duration_(soft_duration) {}

std::error_code sendq::push(shared_line line, clock::time_point now) {
  if (!line || line->empty()) return {};
  if (hard_ > 0 && bytes_ + line->size() > hard_) return errc::sendq_exceeded;
  bytes_ += line->size();
  lines_.push_back(std::move(line));
  update_soft(now);
  return {};
}

std::error_code sendq::check(clock::time_point now) const noexcept {
  if (above_soft_ && now - above_soft_since_ >= soft_duration_) return errc::sendq_exceeded;
  return {};
}

sendq::clock::time_point sendq::next_check(clock::time_point now) const noexcept {
  if (soft_ == 0) return clock::time_point::max();
  if (above_soft_) return above_soft_since_ + soft_duration_;
  if (soft_duration_.count() == 0) return clock::time_point::max();
  return now + soft_duration_;
}

std::size_t sendq::peek(std::span<std::string_view> out, std::size_t max_bytes) const noexcept {
  std::size_t n = 0, total = 0;
  for (std::size_t i = head_; i < lines_.size() && n < out.size(); ++i) {
    std::string_view v = *lines_[i];
    if (i == head_) v.remove_prefix(offset_);
    if (n > 0 && total + v.size() > max_bytes) break;
    out[n++] = v;
    total += v.size();
  }
  return n;
}

std::string_view sendq::front() const noexcept {
  if (head_ == lines_.size()) return {};
  return std::string_view(*lines_[head_]).substr(offset_);
}

void sendq::consume(std::size_t n, clock::time_point now) noexcept {
  if (n > bytes_) n = bytes_;
  bytes_ -= n;
  while (n > 0 && head_ < lines_.size()) {
    const std::size_t left = lines_[head_]->size() - offset_;
    if (n < left) {
      offset_ += n;
      n = 0;
      break;
    }
    n -= left;
    offset_ = 0;
    lines_[head_++].reset();  // release the buffer as soon as this client is done with it
  }
  if (head_ == lines_.size()) {
    // Drained: an idle connection keeps no heap memory.
    std::vector<shared_line>().swap(lines_);
    head_ = 0;
  } else if (head_ >= 64 && head_ * 2 >= lines_.size()) {
    lines_.erase(lines_.begin(), lines_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  update_soft(now);
}

void sendq::clear() noexcept {
  std::vector<shared_line>().swap(lines_);
  head_ = offset_ = bytes_ = 0;
  above_soft_ = false;
}

void sendq::update_soft(clock::time_point now) noexcept {
  if (soft_ > 0 && bytes_ > soft_) {
    if (!above_soft_) {
      above_soft_ = true;
      above_soft_since_ = now;
    }
  } else {
    above_soft_ = false;  // must stay above continuously: dipping below restarts the clock
  }
}

}  // namespace simul::core
