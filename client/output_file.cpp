// output_file: checking and writing report files.
#include "client/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace simul::load {

namespace {

std::string temp_of(const std::string& path) { return path + ".tmp"; }

}  // namespace

std::string check_writable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return path + ": " + std::strerror(EISDIR);
  // The probe is the very temporary file the report goes through: if it can be created, so can
  // the report (barring a full disk).
  const std::string tmp = temp_of(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return {};
  }
  if (errno == EEXIST) {  // a leftover from an interrupted run: writable if it can be opened
    fd = ::open(tmp.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::close(fd);
      return {};
    }
  }
  return path + ": " + std::strerror(errno);
}

std::string write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = temp_of(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write " + tmp + ": " + std::strerror(errno);
    out << content;
    out.close();
    if (!out) return "cannot write " + tmp + ": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    std::remove(tmp.c_str());
    return err;
  }
  return {};
}

}  // namespace simul::load
