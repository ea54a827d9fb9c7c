// Usage-error messages that say what was meant: an unknown subcommand or option is named, the
// closest valid spelling is suggested ("did you mean '--connections'?"), and an option given to the
// wrong subcommand (or before the subcommand) is recognised as such. Pure functions over a plain
// description of the command line, so they are tested without CLI11.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace simul::load {

/// The shape of a command line: global options, and per subcommand its options. Option names are
/// spelled as typed ("--rate", "-h").
struct cli_shape {
  struct option_name {
    std::string name;
    bool takes_value = false;
  };
  struct subcommand {
    std::string name;
    std::vector<option_name> options;
  };
  std::string program;                 // "simul-load"
  std::vector<option_name> global;     // before the subcommand: --help, --version
  std::vector<subcommand> subcommands;
};

/// The candidate closest to `word` (ignoring leading dashes): a unique candidate that `word` is a
/// prefix of, or else the nearest by edit distance if it is near enough to be a typo (1 edit for
/// words up to 3 characters, 2 up to 8, 3 beyond). Empty if nothing is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// Levenshtein distance, with an adjacent transposition counting as one edit.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// A precise message for the first argument that does not fit `shape` (an unknown subcommand or
/// option, an option of another subcommand, a stray argument, a missing subcommand), or nullopt
/// when every argument is where it belongs (then the error is about a value, and the parser's own
/// message stands). `args` excludes argv[0]. The message has no "error:" prefix and no newline.
std::optional<std::string> diagnose(const cli_shape& shape, const std::vector<std::string>& args);

}  // namespace simul::load
