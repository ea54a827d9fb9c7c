// IRC masks: wildcard matching ('*' any run, '?' one byte; ASCII case-insensitive) and the
// normalisation of ban masks to nick!user@host form. Pure functions.
#pragma once

#include <string>
#include <string_view>

namespace simul::core {

/// True when `text` matches `mask`, ignoring ASCII case. Linear-time (no backtracking blow-up).
bool mask_match(std::string_view mask, std::string_view text) noexcept;

/// A ban mask in full nick!user@host form: "bob" → "bob!*@*", "*@h" → "*!*@h",
/// "u@h" → "*!u@h", "n!u" → "n!u@*". Clipped to `max_len` bytes.
std::string normalize_mask(std::string_view mask, std::size_t max_len = 128);

}  // namespace simul::core
