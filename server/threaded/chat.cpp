// The threaded model's chat sessions: a reader and a writer thread per connection around the
// core chat hub. Same replies, limits, reasons and counters as the async model (async_chat.cpp).
#include "server/threaded/chat.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <exception>

#include <spdlog/spdlog.h>

#include "core/chat_liveness.hpp"
#include "core/errc.hpp"
#include "core/flood_gate.hpp"
#include "core/sendq.hpp"
#include "server/common/chat_policy.hpp"
#include "server/common/lifecycle.hpp"
#include "server/threaded/server.hpp"
#include "server/threaded/socket.hpp"
#include "server/threaded/spawner.hpp"

namespace simul::server {

namespace {
using clock = std::chrono::steady_clock;
constexpr std::size_t read_buffer_bytes = 4096;  // on the reader's stack
}  // namespace

struct threaded_chat::session {
  session(threaded_conn& c, const config& cfg, core::client_id i, clock::time_point now)
      : conn(c),
        id(i),
        gate(cfg.limits),
        live(cfg.timeouts, now),
        queue(cfg.limits.sendq_hard_bytes, cfg.limits.sendq_soft_bytes,
              cfg.limits.sendq_soft_duration) {}

  threaded_conn& conn;
  const core::client_id id;
  // The reader thread's alone.
  core::flood_gate gate;
  core::liveness live;
  // Guarded by mu.
  std::mutex mu;
  std::condition_variable wake;  // the writer sleeps on it
  core::sendq queue;
  bool closing = false;      // no more input; flush the queue, then close
  bool killed = false;       // close now; the queue was dropped
  bool writing = false;      // the writer is in sendmsg() or waits for room, with views into the queue
  bool writer_done = false;
  std::string last_words;    // written best-effort by the writer when killed

  bool is_killed() {
    std::lock_guard lock(mu);
    return killed;
  }
  // The reader goes on until killed or closing; a line it already holds for a flood token is
  // still handled when closing (as the async reader does).
  bool keep_reading(bool line_held) {
    std::lock_guard lock(mu);
    return !killed && (!closing || line_held);
  }
};

threaded_chat::threaded_chat(const config& cfg, stats& st, thread_spawner& threads, int drain_fd)
    : stats_(st), threads_(threads), drain_fd_(drain_fd), hub_(make_hub_config(cfg)) {}

threaded_chat::~threaded_chat() = default;

void threaded_chat::serve(threaded_conn& conn) {
  session s(conn, *conn.cfg, next_id_.fetch_add(1, std::memory_order_relaxed), clock::now());
  pthread_t writer_thread{};
  if (auto ec = threads_.start([this, &s] { writer(s); }, &writer_thread)) {
    refuse(conn, ec);
    return;
  }
  stats_.of(service::chat).connections_total.add();
  set_no_delay(conn.fd);
  {
    std::lock_guard hub(hub_mu_);
    sessions_.emplace(s.id, &s);
    hub_.connect(s.id, conn.address);
    if (draining_) {  // accepted just before the drain began: told at once
      deliver(hub_.make_error_and_close(s.id, close_message(disconnect_reason::shutdown)));
      close_after_flush(s, disconnect_reason::shutdown);
    }
  }

  std::exception_ptr failure;
  try {
    reader(s);
  } catch (...) {
    failure = std::current_exception();
    std::lock_guard lock(s.mu);
    s.killed = true;
    decide_locked(s, disconnect_reason::error);
    ::shutdown(conn.fd, SHUT_RDWR);
    s.wake.notify_one();
  }
  pthread_join(writer_thread, nullptr);  // the writer uses `s`: it ends before `s` does

  {
    std::lock_guard hub(hub_mu_);
    {
      std::lock_guard lock(s.mu);
      decide_locked(s, disconnect_reason::client);  // the client went away (EOF), unless decided before
    }
    sessions_.erase(s.id);
    deliver(hub_.disconnect(s.id, quit_message(conn.reason())));  // a no-op if QUIT or a kill already removed it
  }
  if (failure) std::rethrow_exception(failure);
}

void threaded_chat::refuse(threaded_conn& conn, const std::error_code& why) {
  stats_.of(service::chat).rejected_total.add();
  conn.decide(stats_, disconnect_reason::rejected);
  send_now(conn.fd, refusal_line(service::chat, out_of_threads));
  std::lock_guard hub(hub_mu_);
  std::uint64_t held = 0;
  if (refuse_log_.allow(held))
    log_event("connection_refused",
              "chat: cannot start a writer thread: {error} ({held_back} more suppressed); refusing the client")
        .with("service", "chat")
        .json_only()
        .with("error", why.message())
        .with("held_back", held)
        .with("peer", conn.address)
        .with("reason", out_of_threads)
        .json_only()
        .warn();
}

void threaded_chat::deliver(core::hub_output out) {
  simul::server::deliver(hub_, std::move(out), stats_, [&](core::client_id to, const core::shared_line& line, clock::time_point now) {
    auto it = sessions_.find(to);
    if (it == sessions_.end()) return push_result::skipped;
    auto& r = *it->second;
    std::unique_lock lock(r.mu);
    if (r.killed) return push_result::skipped;
    // A waiting writer implies an empty queue: only the first line of a batch wakes it.
    const bool was_empty = r.queue.empty();
    if (r.queue.push(line, now) || r.queue.check(now)) {
      stop_locked(r, disconnect_reason::sendq);
      return push_result::over_limit;
    }
    lock.unlock();  // notified unlocked, so the writer does not wake into a held mutex;
    if (was_empty) r.wake.notify_one();  // hub_mu_ keeps the session alive meanwhile
    return push_result::queued;
  }, [&](core::client_id id) {
    if (auto it = sessions_.find(id); it != sessions_.end()) close_after_flush(*it->second, disconnect_reason::killed);
  });
}

void threaded_chat::decide_locked(session& s, disconnect_reason why) { s.conn.decide(stats_, why); }

void threaded_chat::close_after_flush(session& s, disconnect_reason why) {
  // Only after the last lines are queued: a writer woken earlier would find the queue empty
  // and finish without them.
  std::lock_guard lock(s.mu);
  decide_locked(s, why);
  s.closing = true;
  s.wake.notify_one();
}

void threaded_chat::stop(session& s, disconnect_reason why) {
  // The client gets ERROR with the reason and room peers see its QUIT; its queue is dropped.
  {
    std::lock_guard lock(s.mu);
    if (s.killed) return;
    stop_locked(s, why);
  }
  deliver(hub_.disconnect(s.id, close_message(why)));
}

void threaded_chat::stop_locked(session& s, disconnect_reason why) {
  s.killed = true;
  decide_locked(s, why);
  auto words = last_words(why);
  if (s.writing) {
    // The writer is inside send(), maybe stuck on a client that does not read: cut it off.
    // The last words are best-effort, as after the async model's cancelled write. The writer
    // drops the queue when send() returns (its views point into it until then).
    send_now(s.conn.fd, words);
    ::shutdown(s.conn.fd, SHUT_RDWR);
  } else {
    s.queue.clear();
    s.last_words = std::move(words);   // the writer sends them, then closes its side
    ::shutdown(s.conn.fd, SHUT_RD);    // wakes the reader, which sees `killed`
  }
  s.wake.notify_one();
}

void threaded_chat::check_liveness(session& s) {
  auto decision = s.live.poll(clock::now());
  if (decision.what == core::liveness::action::send_ping) {
    std::lock_guard hub(hub_mu_);
    deliver(ping_output(hub_, s.id));
  } else if (decision.what == core::liveness::action::close) {
    auto why = liveness_reason(decision.reason);
    std::lock_guard hub(hub_mu_);
    deliver(hub_.make_error_and_close(s.id, close_message(why)));
    close_after_flush(s, why);
  }
}

void threaded_chat::reader(session& s) {
  using step = core::flood_gate::status;
  auto& st = stats_.of(service::chat);
  const int fd = s.conn.fd;
  const auto max_backlog = s.conn.cfg->limits.flood_max_backlog_bytes;
  char buf[read_buffer_bytes];
  bool watch_drain = true;

  // Reads what is available without waiting (up to `limit` buffered). False on EOF or error.
  auto pull = [&](std::size_t limit) -> bool {
    do {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        st.bytes_in_total.add(static_cast<std::size_t>(n));
        s.conn.bytes_in += static_cast<std::size_t>(n);
        s.gate.feed(std::string_view(buf, static_cast<std::size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0) {
        std::lock_guard lock(s.mu);
        if (!s.killed && !s.conn.hard_closed.load()) decide_locked(s, disconnect_reason::error);
      }
      return false;
    } while (s.gate.buffered() <= limit);
    return true;
  };
  auto handle = [&](std::string_view line, std::error_code framing_error) {
    auto now = clock::now();
    stats_.lines_in_total.add();
    s.live.on_activity(now);
    std::lock_guard hub(hub_mu_);
    auto out = framing_error ? hub_.on_line_too_long(s.id) : hub_.on_line(s.id, line);
    if (out.registered_now) s.live.on_registered(now);
    const bool close = out.close;  // QUIT: the ERROR goes out, then the close
    deliver(std::move(out));
    if (close) close_after_flush(s, disconnect_reason::client);
  };

  // The gate decides; this loop only reads and waits.
  bool open = true;
  while (open && s.keep_reading(s.gate.throttled())) {
    auto next = s.gate.next(clock::now());
    if (next.what == step::line) {
      handle(next.line, next.error);
      continue;
    }
    if (next.what == step::excess_flood) {
      std::lock_guard hub(hub_mu_);
      stop(s, disconnect_reason::flood);
      continue;
    }
    if (next.what == step::wait) {
      // Flooding: input keeps being taken in meanwhile, for the gate to measure the backlog.
      // The wait ends early only on a hang-up or a kill.
      pollfd p{fd, POLLRDHUP, 0};
      ::poll(&p, 1, poll_timeout_ms(clock::now() + next.wait));
      if (!s.is_killed()) open = pull(max_backlog);
      continue;
    }
    if (clock::now() >= s.live.next_deadline()) {  // registration deadline, PING, Ping timeout
      check_liveness(s);
      continue;
    }
    pollfd fds[2] = {{fd, POLLIN, 0}, {watch_drain ? drain_fd_ : -1, POLLIN, 0}};
    if (::poll(fds, 2, poll_timeout_ms(s.live.next_deadline())) < 0 && errno != EINTR) break;
    if (fds[1].revents) watch_drain = false;  // the drain marked this session closing
    if (fds[0].revents) open = pull(max_backlog);
  }

  {
    std::lock_guard lock(s.mu);
    if (s.killed) return;
    if (!s.closing) {
      // The client went away (EOF or error): nothing more to send it.
      s.killed = true;
      if (!s.writing) s.queue.clear();
      s.wake.notify_one();
      return;
    }
  }
  // Closing: give the writer time to flush, reading (and dropping) input until the client
  // closes, so that closing the socket does not reset the last lines away.
  const auto until = clock::now() + chat_flush_deadline;
  while (!s.is_killed() && clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, poll_timeout_ms(until));
    if (r == 0) break;
    if (r < 0 && errno != EINTR) break;
    if (r > 0 && !pull(read_buffer_bytes)) break;
    s.gate.discard();  // dropped, unread
  }
  std::lock_guard lock(s.mu);
  if (!s.writer_done) {
    s.killed = true;  // it would not take its last lines in time
    ::shutdown(fd, SHUT_RDWR);
    s.wake.notify_one();
  }
}

void threaded_chat::writer(session& s) {
  auto& st = stats_.of(service::chat);
  const int fd = s.conn.fd;
  std::array<std::string_view, chat_write_batch_lines> views;
  std::array<iovec, chat_write_batch_lines> iov;
  std::unique_lock lock(s.mu);
  for (;;) {
    s.wake.wait(lock, [&] { return s.killed || s.closing || !s.queue.empty(); });
    if (s.killed) break;
    if (s.queue.empty()) break;  // closing, and everything is flushed
    auto n = s.queue.peek(views, chat_write_batch_bytes);
    for (std::size_t i = 0; i < n; ++i) iov[i] = {const_cast<char*>(views[i].data()), views[i].size()};
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = n;
    s.writing = true;
    // A closing client's flush has its own deadline (the reader's).
    const auto soft_check = s.closing ? clock::time_point::max() : s.queue.next_check(clock::now());
    lock.unlock();
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    int err = errno;
    bool waited = false;
    if (w < 0 && (err == EAGAIN || err == EWOULDBLOCK)) {
      // The client is not taking its lines: this thread, and no other, waits for it.
      // Senders meanwhile push to the queue (its lines stay put), and its limits decide when
      // to give up: the hard one at a push, the soft one at a push or at the end of this wait
      // (a kill's shutdown() ends it early).
      pollfd p{fd, POLLOUT, 0};
      (void)::poll(&p, 1, poll_timeout_ms(soft_check));
      w = 0;
      waited = true;
    }
    lock.lock();
    s.writing = false;
    if (w > 0) {
      st.bytes_out_total.add(static_cast<std::size_t>(w));
      s.conn.bytes_out += static_cast<std::size_t>(w);
    }
    if (s.killed) {
      s.queue.clear();  // the killer left it to us
      break;
    }
    if (w < 0) {
      if (err == EINTR) continue;
      if (!s.conn.hard_closed.load()) decide_locked(s, disconnect_reason::error);
      s.killed = true;
      s.queue.clear();
      ::shutdown(fd, SHUT_RDWR);  // the reader wakes and ends too
      break;
    }
    s.queue.consume(static_cast<std::size_t>(w), clock::now());
    if (waited && !s.closing && s.queue.check(clock::now())) {
      // Above sendq_soft_bytes for sendq_soft_seconds, and no line came to notice it. The
      // session's lock is let go to take hub_mu_ first; only this thread drains the queue, so
      // it is still over, but the reader may have closed or killed the session meanwhile.
      lock.unlock();
      std::lock_guard hub(hub_mu_);
      lock.lock();
      if (!s.killed && !s.closing) {
        stop_locked(s, disconnect_reason::sendq);
        lock.unlock();
        deliver(hub_.disconnect(s.id, close_message(disconnect_reason::sendq)));
        lock.lock();
      }
    }
  }
  auto words = std::move(s.last_words);
  lock.unlock();
  if (!words.empty()) send_now(fd, words);
  lock.lock();
  s.writer_done = true;
  lock.unlock();
  // Everything is handed to the kernel: close our side, and end the reader's wait too (a
  // closing reader waits for this, as the async reader's flush wait ends with its writer).
  ::shutdown(fd, SHUT_RDWR);
}

std::uint64_t threaded_chat::queued_bytes() {
  std::lock_guard hub(hub_mu_);
  std::uint64_t n = 0;
  for (auto& [id, s] : sessions_) {
    std::lock_guard lock(s->mu);
    n += s->queue.bytes();
  }
  return n;
}

void threaded_chat::reconfigure(const config& cfg) {
  std::lock_guard hub(hub_mu_);
  reconfigure_hub(hub_, cfg);
}

void threaded_chat::drain() {
  std::lock_guard hub(hub_mu_);
  if (draining_) return;
  draining_ = true;
  // One shared "ERROR :Server shutting down" line for everyone; writers flush and close.
  deliver(hub_.shutdown(close_message(disconnect_reason::shutdown)));
  for (auto& [id, s] : sessions_) close_after_flush(*s, disconnect_reason::shutdown);
}

}  // namespace simul::server
