// Implementation of the integration test helpers (not a test file: no _test suffix).
#include "tests/server/test_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "server/common/logging.hpp"

namespace simul::test {

client irc(std::uint16_t port, const std::string& nick) {
  client c(port);
  c.send("NICK " + nick + "\r\nUSER " + nick + " 0 * :" + nick + "\r\n");
  REQUIRE(c.wait_for(" 422 ").has_value());
  return c;
}

void join(client& c, const std::string& room) {
  c.send("JOIN " + room + "\r\n");
  REQUIRE(c.wait_for(" 366 ").has_value());
}

server::config test_config(model_kind m) {
  server::config cfg;
  cfg.model = m;
  cfg.echo.port = cfg.chat.port = cfg.metrics.port = 0;
  cfg.log.level = "warn";
  cfg.log.stats_interval = 0ms;
  cfg.drain_time = 5s;
  return cfg;
}

namespace {

// In-process servers do not go through main(), which installs the logger: the tests' level
// (test_config's) is applied here, once, before the first server's threads start.
void apply_test_logging() {
  static std::once_flag once;
  std::call_once(once, [] { server::setup_logging(test_config(model_kind::async).log); });
}

}  // namespace

running_server::running_server(const server::config& cfg) {
  apply_test_logging();
  srv_ = server::make_server(cfg);
  thread_ = std::thread([this] { srv_->run(false); });
}

running_server::~running_server() { stop(); }

void running_server::stop() {
  if (!thread_.joinable()) return;
  srv_->request_shutdown();
  thread_.join();
}

namespace {

using steady = std::chrono::steady_clock;

int remaining_ms(steady::time_point until) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

bool wait_fd(int fd, short events, steady::time_point until) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, remaining_ms(until));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

client::client(std::uint16_t port, const char* host, const char* source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, host, &sa.sin_addr);
  if (source) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) throw std::runtime_error("bind source");
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("connect: ") + std::strerror(e));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

client& client::operator=(client&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
    pending_ = std::move(o.pending_);
  }
  return *this;
}

client::~client() {
  if (fd_ >= 0) ::close(fd_);
}

void client::send(std::string_view bytes) {
  auto until = steady::now() + 30s;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLOUT, until)) throw std::runtime_error("send: timed out");
    } else {
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
  }
}

std::size_t client::try_send(std::string_view bytes) {
  ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::size_t client::fill(std::string_view chunk, std::size_t limit, std::chrono::milliseconds settle) {
  std::size_t sent = 0;
  while (sent < limit) {
    ssize_t n = ::send(fd_, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      // While the peer reads, room frees up within a few milliseconds; none for `settle` means
      // it has stopped.
      if (!wait_fd(fd_, POLLOUT, steady::now() + settle)) break;
    } else {
      throw std::runtime_error(std::string("fill: ") + std::strerror(errno));
    }
  }
  return sent;
}

std::string client::recv_exact(std::size_t n, std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  std::string out = std::move(pending_);
  pending_.clear();
  char buf[65536];
  while (out.size() < n) {
    ssize_t r = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r > 0) {
      out.append(buf, static_cast<std::size_t>(r));
    } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLIN, until)) break;
    } else {
      break;
    }
  }
  if (out.size() > n) pending_ = out.substr(n), out.resize(n);
  return out;
}

std::optional<std::string> client::recv_line(std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  char buf[4096];
  for (;;) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r > 0) {
      pending_.append(buf, static_cast<std::size_t>(r));
    } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLIN, until)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
}

std::optional<std::string> client::wait_for(std::string_view needle, std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  while (auto line = recv_line(std::chrono::milliseconds(remaining_ms(until)))) {
    if (line->find(needle) != std::string::npos) return line;
  }
  return std::nullopt;
}

bool client::wait_closed(std::chrono::milliseconds deadline) {
  auto until = steady::now() + deadline;
  char buf[65536];
  for (;;) {
    ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
    if (r == 0) return true;
    if (r < 0 && errno == ECONNRESET) return true;
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd_, POLLIN, until)) return false;
    } else if (r < 0) {
      return true;
    }
  }
}

void client::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

std::string http_get(std::uint16_t port, const std::string& path) {
  try {
    client c(port);
    c.send("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n");
    std::string out;
    while (auto line = c.recv_line(5s)) out += *line + "\n";
    return out;
  } catch (const std::exception&) {
    return "";
  }
}

double metric(const std::string& body, const std::string& sample) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(sample + " ", 0) == 0) return std::stod(line.substr(sample.size() + 1));
  }
  return -1;
}

double scrape(std::uint16_t port, const std::string& sample) { return metric(http_get(port, "/metrics"), sample); }

server_process::server_process(const std::vector<std::string>& args) {
  static std::atomic<int> seq{0};
  log_path_ = "/tmp/simul-test-" + std::to_string(::getpid()) + "-" + std::to_string(seq++) + ".log";
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    std::vector<char*> argv;
    std::string bin = SIMUL_SERVER_BIN;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
}

server_process::~server_process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ::unlink(log_path_.c_str());
}

void server_process::signal(int sig) { ::kill(pid_, sig); }

std::optional<int> server_process::wait(std::chrono::milliseconds deadline) {
  if (status_) return status_;
  auto until = steady::now() + deadline;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (steady::now() > until) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

std::string server_process::stderr_text() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool server_process::wait_ready(std::chrono::milliseconds deadline) {
  static const std::regex ports(R"(echo=(\d+) chat=(\d+) metrics=(\d+))");
  return eventually(
      [&] {
        std::smatch m;
        auto text = stderr_text();
        if (!std::regex_search(text, m, ports)) return false;
        echo_port = static_cast<std::uint16_t>(std::stoi(m[1]));
        chat_port = static_cast<std::uint16_t>(std::stoi(m[2]));
        metrics_port = static_cast<std::uint16_t>(std::stoi(m[3]));
        return true;
      },
      deadline);
}

std::string temp_file(const std::string& text, const std::string& suffix) {
  static std::atomic<int> seq{0};
  std::string path = "/tmp/simul-test-" + std::to_string(::getpid()) + "-f" + std::to_string(seq++) + suffix;
  std::ofstream(path) << text;
  return path;
}

}  // namespace simul::test
