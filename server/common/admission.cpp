// Admission control: connection counts and their limits.
#include "server/common/admission.hpp"

namespace simul::server {

std::string_view admission::admit(std::string_view address) {
  if (open_ >= max_total_) return "too many connections";
  if (max_per_ip_ > 0) {
    auto it = per_ip_.find(address);
    if (it == per_ip_.end()) {
      per_ip_.emplace(std::string(address), 1);
    } else if (it->second >= max_per_ip_) {
      return "too many connections from your address";
    } else {
      ++it->second;
    }
  }
  ++open_;
  return {};
}

void admission::release(std::string_view address) {
  if (open_ > 0) --open_;
  // Looked up even with the per-address limit off: a reload may have turned it off meanwhile.
  if (auto it = per_ip_.find(address); it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
}

std::uint32_t admission::open_from(std::string_view address) const {
  auto it = per_ip_.find(address);
  return it == per_ip_.end() ? 0 : it->second;
}

}  // namespace simul::server
