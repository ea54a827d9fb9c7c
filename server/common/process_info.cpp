// Reading this process's figures from /proc.
#include "server/common/process_info.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace simul::server {

namespace {

std::uint64_t count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return 0;
  std::uint64_t n = 0;
  while (readdir(dir)) ++n;
  closedir(dir);
  return n >= 3 ? n - 3 : 0;  // ".", ".." and the directory's own fd
}

// The boot time in seconds since the epoch ("btime" in /proc/stat).
std::uint64_t boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  std::uint64_t value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

}  // namespace

std::uint64_t process_max_fds() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return rl.rlim_cur;
}

std::size_t process_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

process_info read_process_info() {
  process_info p;
  p.max_fds = process_max_fds();
  p.open_fds = count_open_fds();
  // /proc/self/stat: "pid (comm) state ..." — comm may hold spaces, so fields count from the
  // last ')'. After it: 3 state ... 14 utime 15 stime ... 20 num_threads 22 starttime 23 vsize 24 rss.
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return p;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto page = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  std::uint64_t utime = 0, stime = 0, start = 0;
  for (int i = 3; fields >> f; ++i) {
    switch (i) {
      case 14: utime = std::stoull(f); break;
      case 15: stime = std::stoull(f); break;
      case 20: p.threads = std::stoull(f); break;
      case 22: start = std::stoull(f); break;
      case 23: p.virtual_bytes = std::stoull(f); break;
      case 24: p.resident_bytes = std::stoull(f) * page; break;
      default: break;
    }
    if (i == 24) break;
  }
  p.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  p.start_time_seconds = static_cast<double>(boot_time()) + static_cast<double>(start) / ticks;
  return p;
}

}  // namespace simul::server
