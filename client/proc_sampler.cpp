// proc_sampler: /proc/PID/status, /proc/PID/stat and /proc/PID/fd readers.
#include "client/proc_sampler.hpp"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace simul::load {

namespace {

std::uint64_t count_fds(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = ::opendir(path.c_str());
  if (!dir) return 0;
  std::uint64_t n = 0;
  while (auto* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

}  // namespace

std::optional<proc_sample> proc_sampler::sample(double t) {
  const std::string base = "/proc/" + std::to_string(pid_);
  proc_sample s;
  s.t = t;
  std::ifstream status(base + "/status");
  if (!status) return std::nullopt;
  bool have_rss = false;
  for (std::string line; std::getline(status, line);) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "VmRSS:") {
      in >> s.rss_bytes;
      s.rss_bytes *= 1024;  // reported in kB
      have_rss = true;
    } else if (key == "Threads:") {
      in >> s.threads;
    }
  }
  if (!have_rss) return std::nullopt;  // a zombie has no memory to report

  std::ifstream stat(base + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && in >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    s.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  s.fds = count_fds(pid_);
  if (previous_ && s.t > previous_->t) {
    s.cpu_percent = 100.0 * (s.cpu_seconds - previous_->cpu_seconds) / (s.t - previous_->t);
  }
  previous_ = s;
  return s;
}

std::string proc_sampler::command_line() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/cmdline");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (auto& c : text) {
    if (c == '\0') c = ' ';
  }
  return text;
}

}  // namespace simul::load
