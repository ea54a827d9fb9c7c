// Messages for simul::core::errc.
#include "core/errc.hpp"

#include <string>

namespace simul::core {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "simul"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::ok: return "ok";
      case errc::line_too_long: return "line too long";
      case errc::empty_message: return "empty message";
      case errc::bad_prefix: return "malformed prefix";
      case errc::bad_command: return "malformed command";
      case errc::too_many_params: return "too many parameters";
      case errc::forbidden_byte: return "forbidden byte in line";
      case errc::sendq_exceeded: return "SendQ exceeded";
      case errc::registration_timeout: return "registration timeout";
      case errc::ping_timeout: return "ping timeout";
    }
    return "unknown simul error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace simul::core
