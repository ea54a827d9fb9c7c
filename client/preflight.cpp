// preflight: fd limit, ephemeral ports, source addresses.
#include "client/preflight.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace simul::load {

namespace {

// Binds a throwaway socket to the address without taking a port; 0 or the errno.
int try_bind(ipv4 address) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return errno;
  int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(address);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

}  // namespace

preflight_report preflight(const options& o) {
  preflight_report r;

  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    if (lim.rlim_cur < lim.rlim_max) {
      rlimit raised = lim;
      raised.rlim_cur = lim.rlim_max;
      if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
    }
    r.fd_soft = lim.rlim_cur;
    r.fd_hard = lim.rlim_max;
  }

  std::size_t sources = 1;
  if (!o.sources.empty()) {
    std::vector<std::string> bad;
    std::size_t usable = 0;
    for (auto a : o.sources) {
      if (int e = try_bind(a); e != 0) {
        if (bad.size() < 5) bad.push_back(format_ipv4(a) + " (" + strerrorname_np(e) + ")");
      } else {
        ++usable;
      }
    }
    if (!bad.empty()) {
      std::string list;
      for (const auto& b : bad) list += (list.empty() ? "" : ", ") + b;
      r.warnings.push_back("cannot bind " + std::to_string(o.sources.size() - usable) + " of " +
                           std::to_string(o.sources.size()) + " source addresses: " + list);
    }
    sources = usable;
  }
  r.usable_sources = sources;

  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  if (!(range >> r.port_low >> r.port_high) || r.port_high < r.port_low) r.port_low = r.port_high = 0;
  return r;
}

}  // namespace simul::load
