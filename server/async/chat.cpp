// The async model's chat sessions: a reader and a writer coroutine per connection around the
// core chat hub. Loop thread only.
#include "server/async/chat.hpp"

#include <algorithm>
#include <array>
#include <variant>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "core/chat_liveness.hpp"
#include "core/errc.hpp"
#include "core/flood_gate.hpp"
#include "core/sendq.hpp"
#include "server/async/connection.hpp"
#include "server/common/chat_support.hpp"

namespace simul::server {

namespace {
constexpr auto flush_deadline = std::chrono::seconds(5);  // for a closing client to take its last lines
constexpr std::size_t max_write_batch = 64 * 1024;         // bytes per write: fairness between clients
using tcp = asio::ip::tcp;
}  // namespace

struct chat_session {
  chat_session(tcp::socket& sock, conn_entry& e, const config& cfg, core::client_id i, clock::time_point now)
      : socket(sock),
        entry(e),
        id(i),
        queue(cfg.limits.sendq_hard_bytes, cfg.limits.sendq_soft_bytes,
              std::chrono::seconds(cfg.limits.sendq_soft_seconds)),
        gate(cfg.limits),
        live(cfg.timeouts, now),
        wake(sock.get_executor()),
        pause(sock.get_executor()) {}

  tcp::socket& socket;
  conn_entry& entry;
  core::client_id id;
  core::sendq queue;
  core::flood_gate gate;
  core::liveness live;
  asio::steady_timer wake;               // the writer's deadlines; a delivery to an idle writer cancels it
  asio::steady_timer pause;              // the reader's flood throttle and flush deadline
  asio::cancellation_signal stop_reading;  // ends the reader's wait for input
  bool closing = false;                  // no more input; flush the queue, then close
  bool killed = false;                   // close now; the queue was dropped
  bool writer_done = false;
  std::string last_words;                // written best-effort when killed
};

async_chat::async_chat(const config& cfg, stats& st) : cfg_(cfg), stats_(st), hub_(make_hub_config(cfg)) {}

async_chat::~async_chat() = default;

asio::awaitable<void> async_chat::serve(tcp::socket& socket, conn_entry& entry, std::span<char> scratch) {
  using namespace asio::experimental::awaitable_operators;
  asio::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);
  auto remote = socket.remote_endpoint(ec);
  chat_session s(socket, entry, cfg_, next_id_++, clock::now());
  entry.session = &s;
  sessions_.emplace(s.id, &s);
  hub_.connect(s.id, ec ? std::string("unknown") : remote.address().to_string());

  co_await (reader(s, scratch) && writer(s));

  sessions_.erase(s.id);
  auto why = s.entry.reason == disconnect_reason::client ? std::string_view("Client closed connection")
             : s.entry.reason == disconnect_reason::error ? std::string_view("Connection error")
                                                          : close_message(s.entry.reason);
  deliver(hub_.disconnect(s.id, why), nullptr);  // a no-op if QUIT or a kill already removed it
}

void async_chat::deliver(core::hub_output out, chat_session*) {
  // A worklist, not recursion: a client over its SendQ is removed, and its QUIT is delivered too.
  std::vector<core::hub_output> work;
  work.push_back(std::move(out));
  const auto now = clock::now();
  while (!work.empty()) {
    auto o = std::move(work.back());
    work.pop_back();
    for (auto& d : o.deliveries) {
      for (auto to : d.to) {
        auto it = sessions_.find(to);
        if (it == sessions_.end() || it->second->killed) continue;
        auto& r = *it->second;
        // Only an idle writer waits for lines, and its queue is empty: a busy one is not woken
        // for each line (it would only find the client's socket still full).
        const bool was_empty = r.queue.empty();
        if (r.queue.push(d.line, now) || r.queue.check(now)) {
          r.killed = true;
          r.entry.reason = disconnect_reason::sendq;
          r.queue.clear();
          r.last_words = "ERROR :" + std::string(close_message(disconnect_reason::sendq)) + "\r\n";
          asio::error_code ec;
          r.socket.cancel(ec);
          r.wake.cancel();
          work.push_back(hub_.disconnect(r.id, close_message(disconnect_reason::sendq)));
          continue;
        }
        stats_.lines_out_total.add();
        if (was_empty) r.wake.cancel();
      }
    }
  }
  update_chat_gauges(hub_, stats_);
}

void async_chat::kill(chat_session& s, disconnect_reason why) {
  // The client gets ERROR with the reason and room peers see its QUIT; its queue is dropped.
  if (s.killed) return;
  s.killed = true;
  s.entry.reason = why;
  s.queue.clear();
  s.last_words = "ERROR :" + std::string(close_message(why)) + "\r\n";
  asio::error_code ec;
  s.socket.cancel(ec);
  s.wake.cancel();
  s.pause.cancel();
  deliver(hub_.disconnect(s.id, close_message(why)), nullptr);
}

asio::awaitable<void> async_chat::reader(chat_session& s, std::span<char> scratch) {
  using namespace asio::experimental::awaitable_operators;
  using step = core::flood_gate::status;
  auto& st = stats_.of(service::chat);

  // Reads what is available without waiting. False on EOF or error.
  auto pull = [&]() -> bool {
    asio::error_code ec;
    std::size_t n = s.socket.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
    if (ec == asio::error::would_block) return true;
    if (ec) {
      if (ec != asio::error::eof && !s.killed) s.entry.reason = disconnect_reason::error;
      return false;
    }
    st.bytes_in_total.add(n);
    s.gate.feed(std::string_view(scratch.data(), n));
    return true;
  };
  auto handle = [&](std::string_view line, std::error_code framing_error) {
    auto now = clock::now();
    stats_.lines_in_total.add();
    s.live.on_activity(now);
    auto out = framing_error ? hub_.on_line_too_long(s.id) : hub_.on_line(s.id, line);
    if (out.registered_now) s.live.on_registered(now);
    if (out.close) {
      s.closing = true;
      s.wake.cancel();
    }
    deliver(std::move(out), &s);
  };

  // The gate decides; this loop only reads and waits. A line already held for a flood token
  // when the server decides to close is still handled once its token comes.
  bool open = true;
  while (open && !s.killed && (!s.closing || s.gate.throttled())) {
    auto next = s.gate.next(clock::now());
    if (next.what == step::line) {
      handle(next.line, next.error);
    } else if (next.what == step::excess_flood) {
      kill(s, disconnect_reason::flood);
    } else if (next.what == step::wait) {
      // Flooding: input keeps being taken in meanwhile, for the gate to measure the backlog.
      s.pause.expires_after(next.wait);
      co_await s.pause.async_wait(nothrow);
      if (!s.killed) open = pull();
    } else {
      auto [ec] = co_await s.socket.async_wait(tcp::socket::wait_read,
                                               asio::bind_cancellation_slot(s.stop_reading.slot(), nothrow));
      if (ec || s.closing || s.killed) break;
      open = pull();
    }
  }

  if (!s.closing && !s.killed) {
    // The client went away (EOF or error): nothing more to send it.
    s.killed = true;
    s.queue.clear();
    s.wake.cancel();
    co_return;
  }
  // Closing: give the writer time to flush, reading (and dropping) input until the client
  // closes, so that closing the socket does not reset the last lines away. The writer may
  // have finished already (it writes without waiting when the client keeps up).
  const auto until = clock::now() + flush_deadline;
  while (!s.killed && !s.writer_done && clock::now() < until) {
    s.pause.expires_at(until);
    auto r = co_await (s.socket.async_wait(tcp::socket::wait_read, nothrow) || s.pause.async_wait(nothrow));
    if (r.index() == 1 || std::get<0>(std::get<0>(r))) break;
    if (!pull()) break;
    s.gate.discard();  // dropped, unread
  }
  if (!s.writer_done) {
    s.killed = true;  // it would not take its last lines in time
    asio::error_code ec;
    s.socket.cancel(ec);
    s.wake.cancel();
  }
}

asio::awaitable<void> async_chat::writer(chat_session& s) {
  using namespace asio::experimental::awaitable_operators;
  auto& st = stats_.of(service::chat);
  std::array<std::string_view, 64> views;
  std::array<asio::const_buffer, 64> buffers;

  // The connection's deadlines, all on the `wake` timer: the SendQ soft limit and liveness
  // (registration, PING, Ping timeout). Safe to call early: each acts only once its time is up.
  // A closing client has neither: its flush has its own deadline (the reader's).
  auto next_deadline = [&] {
    if (s.closing) return clock::time_point::max();
    return std::min(s.queue.next_check(clock::now()), s.live.next_deadline());
  };
  auto on_deadline = [&] {
    if (s.closing) return;
    const auto now = clock::now();
    if (s.queue.check(now)) {
      // Above sendq_soft_bytes for sendq_soft_seconds, and no line came to notice it.
      kill(s, disconnect_reason::sendq);
      return;
    }
    auto decision = s.live.poll(now);
    if (decision.what == core::liveness::action::send_ping) {
      core::hub_output ping;
      ping.deliveries.push_back(core::delivery{hub_.make_ping(), {s.id}});
      deliver(std::move(ping), &s);
    } else if (decision.what == core::liveness::action::close) {
      auto why = decision.reason == core::errc::registration_timeout ? disconnect_reason::registration
                                                                      : disconnect_reason::ping;
      s.entry.reason = why;
      s.closing = true;
      s.stop_reading.emit(asio::cancellation_type::terminal);
      deliver(hub_.make_error_and_close(s.id, close_message(why)), &s);
    }
  };
  auto write_failed = [&] {
    if (!s.killed && !s.entry.closing) s.entry.reason = disconnect_reason::error;
    s.killed = true;
  };

  while (!s.killed) {
    if (!s.queue.empty()) {
      // Written without waiting (the socket is non-blocking); a full socket is waited for below.
      auto n = s.queue.peek(views, max_write_batch);
      for (std::size_t i = 0; i < n; ++i) buffers[i] = asio::buffer(views[i]);
      asio::error_code ec;
      auto written = s.socket.write_some(std::span(buffers.data(), n), ec);
      if (ec == asio::error::would_block) {
        // The client is not taking its lines. Wait until it does, or until a deadline: this
        // is how the soft SendQ limit fires when no further line comes to be queued.
        s.wake.expires_at(next_deadline());
        s.entry.busy = true;
        auto r = co_await (s.socket.async_wait(tcp::socket::wait_write, nothrow) || s.wake.async_wait(nothrow));
        s.entry.busy = false;
        if (s.killed) break;
        if (r.index() == 0 && std::get<0>(std::get<0>(r))) {
          write_failed();  // cancelled by the drain's deadline, or an error
          break;
        }
        if (r.index() == 1) on_deadline();
        continue;
      }
      if (ec) {
        write_failed();
        break;
      }
      st.bytes_out_total.add(written);
      s.queue.consume(written, clock::now());
      // Fairness between clients: at most one batch per turn, as a completed async write.
      if (!s.queue.empty()) co_await asio::post(s.socket.get_executor(), asio::use_awaitable);
      continue;
    }
    if (s.closing) break;  // flushed
    // Sleep until a delivery wakes us or the liveness deadline (registration, PING) comes.
    s.wake.expires_at(s.live.next_deadline());
    co_await s.wake.async_wait(nothrow);
    if (s.killed) break;
    on_deadline();
  }
  asio::error_code ec;
  if (s.killed && !s.last_words.empty()) s.socket.write_some(asio::buffer(s.last_words), ec);
  s.socket.shutdown(tcp::socket::shutdown_send, ec);
  s.writer_done = true;
  s.pause.cancel();
}

asio::awaitable<void> async_chat::drain() {
  if (draining_) co_return;
  draining_ = true;
  for (auto& [id, s] : sessions_) {
    s->closing = true;
    s->entry.reason = disconnect_reason::shutdown;
    s->stop_reading.emit(asio::cancellation_type::terminal);
  }
  // One shared "ERROR :Server shutting down" line for everyone; writers flush and close.
  deliver(hub_.shutdown(close_message(disconnect_reason::shutdown)), nullptr);
  co_return;
}

}  // namespace simul::server
