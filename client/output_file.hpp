// Report files: checked before a run (so a typo in a path costs nothing), written atomically after.
#pragma once

#include <string>

namespace simul::load {

/// Whether `path` can be written as write_file_atomically() will write it: its directory exists
/// and takes a new file, and the path is not a directory. Returns an empty string or the reason
/// ("/nope/x.json: No such file or directory"). Creates and removes a probe file next to it.
std::string check_writable(const std::string& path);

/// Writes `content` to `path` through a temporary file renamed into place, so a reader never sees
/// half a file. Returns an empty string or the error.
std::string write_file_atomically(const std::string& path, const std::string& content);

}  // namespace simul::load
