// process_group: forking the children, the parent's side of the conversation and the child's.
#include "client/process_group.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "client/shard_wire.hpp"

namespace simul::load {

namespace {

using namespace std::chrono_literals;

enum class command : std::uint64_t { start = 1, collect, go, end_early, stop };

// A child answers within this: it only asks its own threads for a copy of their counters, but a
// thread may be busy connecting (connect() searches for a free port in the kernel) on a machine
// whose cores are all taken.
constexpr auto answer_timeout = 30s;
// The parent asks at least once a second while a run lasts; silence this long means it is stuck
// (its death is caught by PR_SET_PDEATHSIG at once).
constexpr auto parent_silence = 90s;

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("killed by signal ") + (name ? std::string("SIG") + name : std::to_string(WTERMSIG(status)));
  }
  return "ended (status " + std::to_string(status) + ")";
}

// The child's side: serve the parent's commands until it says stop.
int serve_parent(int fd, const options& opts, std::vector<asio::ip::tcp::endpoint> targets, shard_share share,
                 const std::string& run_tag) {
  auto sh = make_local_shard(opts, std::move(targets), share, run_tag);
  for (;;) {
    std::string error;
    auto frame = receive_frame(fd, clock::now() + parent_silence, error);
    if (!frame) return 1;  // the parent is gone or stuck: our sockets close as we exit
    wire_in in(*frame);
    wire_out reply;
    switch (static_cast<command>(in.u64())) {
      case command::start:
        sh->start(time_from_wire(in.u64()));
        break;
      case command::collect:
        put(reply, sh->collect(in.u64() != 0));
        break;
      case command::go: {
        const auto start = time_from_wire(in.u64());
        sh->go(start, time_from_wire(in.u64()));
        break;
      }
      case command::end_early:
        sh->end_early(time_from_wire(in.u64()));
        continue;  // no answer
      case command::stop:
        put(reply, sh->finish(std::chrono::milliseconds(in.u64())));
        send_frame(fd, reply.data());
        return 0;
      default:
        return 1;
    }
    if (!send_frame(fd, reply.data())) return 1;
  }
}

class process_group final : public shard {
 public:
  process_group(std::size_t total, std::size_t threads) : total_(total), threads_(threads) {}

  ~process_group() override {
    for (auto& c : children_) {
      if (c.pid > 0) {
        ::kill(c.pid, SIGKILL);
        reap(c, /*wait=*/true);
      }
      if (c.fd >= 0) ::close(c.fd);
    }
  }

  // Forks the children one by one; the destructor cleans up after a failure half-way.
  void spawn(const options& opts, const std::vector<asio::ip::tcp::endpoint>& targets, const spread_plan& plan,
             const std::string& run_tag) {
    const pid_t parent = ::getpid();
    const std::size_t n = plan.processes;
    for (std::size_t k = 0; k < n; ++k) {
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
      std::fflush(nullptr);  // or the child would print the parent's buffered output again
      const pid_t pid = ::fork();
      if (pid < 0) {
        const int e = errno;
        ::close(sv[0]);
        ::close(sv[1]);
        throw std::runtime_error(std::string("fork: ") + std::strerror(e));
      }
      if (pid == 0) {
        ::close(sv[0]);
        for (auto& c : children_) ::close(c.fd);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) std::_Exit(1);  // the parent died before prctl
        std::signal(SIGINT, SIG_IGN);  // Ctrl-C is the parent's: it ends the run for every child
        std::signal(SIGTERM, SIG_DFL);
        options mine = opts;
        mine.threads = plan.threads;
        mine.sources = plan.sources[k];
        int rc = 1;
        try {
          rc = serve_parent(sv[1], mine, targets, {k, n}, run_tag);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "simul-load: process %zu: %s\n", k + 1, e.what());
        }
        std::fflush(stderr);
        std::_Exit(rc);  // no atexit handlers or destructors of the parent's copy
      }
      ::close(sv[1]);
      child c;
      c.pid = pid;
      c.fd = sv[0];
      c.share = (total_ + n - 1 - k) / n;
      children_.push_back(std::move(c));
    }
  }

  void start(clock::time_point epoch) override {
    for (auto& c : children_) ask(c, wire_out().u64(static_cast<std::uint64_t>(command::start)).u64(to_wire(epoch)));
    const auto deadline = clock::now() + answer_timeout;
    for (auto& c : children_) answer(c, deadline, "starting");
  }

  snapshot collect(bool take_interval) override {
    for (auto& c : children_) ask(c, wire_out().u64(static_cast<std::uint64_t>(command::collect)).u64(take_interval));
    snapshot total;
    const auto deadline = clock::now() + answer_timeout;  // for all of them: a hung child costs it once
    for (auto& c : children_) {
      if (auto a = answer(c, deadline, "reporting")) {
        wire_in in(*a);
        auto s = get_snapshot(in);
        if (in.ok()) c.last = std::move(s);
        else fail(c, "sent a malformed report");
      }
      total.merge(c.last);
      c.last.interval.reset();  // counted once; a failed child's last report stays in the totals
    }
    return total;
  }

  clock::duration setup_poll() const override { return 25ms; }

  void go(clock::time_point start, clock::time_point deadline) override {
    for (auto& c : children_)
      ask(c, wire_out().u64(static_cast<std::uint64_t>(command::go)).u64(to_wire(start)).u64(to_wire(deadline)));
    const auto answered_by = clock::now() + answer_timeout;
    for (auto& c : children_) answer(c, answered_by, "starting the measured phase");
  }

  void end_early(clock::time_point deadline) override {
    for (auto& c : children_) ask(c, wire_out().u64(static_cast<std::uint64_t>(command::end_early)).u64(to_wire(deadline)));
  }

  shard_totals finish(std::chrono::milliseconds grace) override {
    for (auto& c : children_)
      ask(c, wire_out().u64(static_cast<std::uint64_t>(command::stop)).u64(static_cast<std::uint64_t>(grace.count())));
    // Each child joins its threads one after the other, each with the grace period.
    const auto deadline = clock::now() + grace * threads_ + answer_timeout;
    shard_totals t;
    for (auto& c : children_) {
      if (auto a = answer(c, deadline, "finishing")) {
        wire_in in(*a);
        auto totals = get_totals(in);
        if (in.ok()) {
          c.last = std::move(totals.last);
          t.latency.merge(totals.latency);
          t.handshakes.merge(totals.handshakes);
          t.cross_target.merge(totals.cross_target);
        } else {
          fail(c, "sent a malformed final report");
        }
      }
      t.last.merge(c.last);
    }
    // A child exits right after its final report.
    const auto reap_deadline = clock::now() + 2s;
    for (auto& c : children_) {
      while (c.pid > 0 && !reap(c, false) && clock::now() < reap_deadline) std::this_thread::sleep_for(5ms);
      if (c.pid > 0) fail(c, "did not exit after its final report");
    }
    return t;
  }

  std::vector<std::string> failures() const override {
    std::vector<std::string> out;
    for (const auto& c : children_) {
      if (!c.failure.empty()) out.push_back(c.failure);
    }
    return out;
  }

 private:
  struct child {
    pid_t pid = -1;         // -1 once reaped
    int fd = -1;
    std::size_t share = 0;  // connections in its share
    bool failed = false;
    int status = 0;         // from waitpid, once reaped
    std::string failure;
    snapshot last;          // its latest report
  };

  std::size_t number(const child& c) const { return static_cast<std::size_t>(&c - children_.data()) + 1; }

  // True once the child has been reaped (waiting for it if `wait`).
  bool reap(child& c, bool wait) {
    if (c.pid <= 0) return true;
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, wait ? 0 : WNOHANG);
    if (r == c.pid || (r < 0 && errno == ECHILD)) {
      c.status = status;
      c.pid = -1;
      return true;
    }
    return false;
  }

  void ask(child& c, const wire_out& message) {
    if (c.failed) return;
    if (!send_frame(c.fd, message.data())) fail(c, "stopped listening");
  }

  std::optional<std::string> answer(child& c, clock::time_point deadline, const char* doing) {
    if (c.failed) return std::nullopt;
    std::string error;
    auto frame = receive_frame(c.fd, deadline, error);
    if (!frame) fail(c, error == "EOF" ? std::string("ended while ") + doing
                                       : std::string("no answer while ") + doing + " (" + error + ")");
    return frame;
  }

  // Records the failure, makes sure the child is gone, and settles its share: connections it had
  // not set up failed, connections it held are lost.
  void fail(child& c, const std::string& what) {
    if (c.failed) return;
    c.failed = true;
    const pid_t pid = c.pid;
    if (c.pid > 0 && !reap(c, false)) {
      ::kill(c.pid, SIGKILL);
      reap(c, true);
    }
    c.failure = "process " + std::to_string(number(c)) + "/" + std::to_string(children_.size()) + " (pid " +
                std::to_string(pid) + ") " + what + ": " + describe_status(c.status);
    std::fprintf(stderr, "simul-load: %s\n", c.failure.c_str());
    auto& s = c.last;
    if (s.setup_finished < c.share) {
      const auto unfinished = c.share - s.setup_finished;
      s.c.connects_failed += unfinished;
      s.connect_errors.add("process failed", unfinished);
      s.setup_finished = c.share;
    }
    if (s.c.connections_up > 0) {
      s.c.connections_lost += static_cast<std::uint64_t>(s.c.connections_up);
      s.io_errors.add("process failed", static_cast<std::uint64_t>(s.c.connections_up));
      s.c.connections_up = 0;
    }
    s.c.outstanding = 0;
  }

  std::size_t total_;
  std::size_t threads_;
  std::vector<child> children_;
};

}  // namespace

std::unique_ptr<shard> make_process_group(const options& opts, const std::vector<asio::ip::tcp::endpoint>& targets,
                                          const spread_plan& plan, const std::string& run_tag) {
  auto group = std::make_unique<process_group>(opts.target_connections(), plan.threads);
  group->spawn(opts, targets, plan, run_tag);
  return group;
}

}  // namespace simul::load
