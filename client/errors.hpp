// Errors grouped by cause: errno names (ECONNREFUSED, ETIMEDOUT, ...) or a short description
// ("garbled echo", "IRC 433"). A small map, touched only when something goes wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>

namespace simul::load {

/// Counts per cause. Not thread-safe: one per worker thread, merged at the end.
class error_counts {
 public:
  void add(std::string_view cause, std::uint64_t n = 1);
  void merge(const error_counts& other);
  std::uint64_t total() const noexcept { return total_; }
  bool empty() const noexcept { return total_ == 0; }
  const std::map<std::string, std::uint64_t, std::less<>>& by_cause() const noexcept { return by_cause_; }
  /// "ECONNREFUSED x100, ETIMEDOUT x3": most frequent first, at most `limit` causes.
  std::string summary(std::size_t limit = 6) const;

 private:
  std::map<std::string, std::uint64_t, std::less<>> by_cause_;
  std::uint64_t total_ = 0;
};

/// The name of an error's cause: the errno symbol for system errors ("ECONNRESET"), "EOF" for an
/// orderly close by the peer, otherwise the error's message.
std::string cause_name(const std::error_code& ec);

}  // namespace simul::load
