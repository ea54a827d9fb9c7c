// Error codes for everything core/ rejects: one code per limit and per kind of bad input.
// core/ never throws for bad input; it returns these as std::error_code.
#pragma once

#include <system_error>

namespace simul::core {

enum class errc {
  ok = 0,
  // framing
  line_too_long = 1,      // a line longer than max_line_bytes (including CRLF)
  // IRC message parsing
  empty_message = 10,     // nothing but spaces
  bad_prefix,             // ':' with no name after it
  bad_command,            // command is neither letters nor three digits
  too_many_params,        // more than 15 parameters
  forbidden_byte,         // NUL (or a bare CR) inside a line
  // policies
  sendq_exceeded = 30,    // output queue over the hard limit, or over the soft limit too long
  registration_timeout = 32,  // no NICK/USER in time
  ping_timeout,           // no PONG in time
};

/// The category of simul::core::errc; its name is "simul".
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace simul::core

template <>
struct std::is_error_code_enum<simul::core::errc> : std::true_type {};
