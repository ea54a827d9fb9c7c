// The async model's chat sessions: a reader and a writer coroutine per connection around the
// core chat hub. Loop thread only.
#include "server/async/chat.hpp"

#include <algorithm>
#include <array>
#include <variant>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>

#include "server/common/chat_policy.hpp"
#include "server/async/tls_stream.hpp"

namespace simul::server {

chat_session::chat_session(const config& cfg, const asio::any_io_executor& ex, core::client_id i)
    : id(i),
      queue(cfg.limits.sendq_hard_bytes, cfg.limits.sendq_soft_bytes, cfg.limits.sendq_soft_duration),
      gate(cfg.limits),
      live(cfg.timeouts, clock::now()),
      wake(ex),
      pause(ex) {}

void chat_session::close_after_flush(disconnect_reason why) {
  if (closing_ || stopped()) return;
  closing_ = true;
  decide(why);
  stop_reading.emit(asio::cancellation_type::terminal);
  wake.cancel();
}

void chat_session::stop_with_error(disconnect_reason why) {
  if (stopped()) return;
  last_words = simul::server::last_words(why);
  stop(why);
}

void chat_session::on_stop(disconnect_reason) {
  queue.clear();
  cancel_stream();
  wake.cancel();
  pause.cancel();
}

namespace {
// What a chat network node tells a client it cannot serve now (not joined, or Redis slow).
constexpr std::string_view network_unavailable = "Chat network unavailable, try again later";
}  // namespace

async_chat::async_chat(const config& cfg, stats& st) : cfg_(cfg), stats_(st) { hub_.emplace(make_hub_config(cfg)); }

async_chat::~async_chat() = default;

void async_chat::join(chat_network& net) {
  net_ = &net;
  hub_.reset();
  stats_.cluster.enabled.store(true, std::memory_order_relaxed);
}

template <session_stream Stream>
asio::awaitable<void> async_chat::serve(chat_client<Stream>& s, std::span<char> scratch) {
  using namespace asio::experimental::awaitable_operators;
  asio::error_code ec;
  s.stream.set_option(asio::ip::tcp::no_delay(true), ec);
  s.stream.non_blocking(true, ec);
  auto remote = s.stream.remote_endpoint(ec);
  std::string host = ec ? std::string("unknown") : remote.address().to_string();
  bool in_chat = true;
  if (!net_) {
    sessions_.emplace(s.id, &s);
    hub_->connect(s.id, std::move(host));
  } else if (s.id != 0 && net_->connect(s.id, host)) {
    sessions_.emplace(s.id, &s);
  } else {
    // A network node that is not joined (or cannot publish) serves no new chat client.
    in_chat = false;
    stats_.cluster.refused_total.add();
    s.last_words = core::format_message("", "ERROR", {network_unavailable}, {cfg_.limits.max_line_bytes, true});
    s.stop(disconnect_reason::rejected);
  }

  co_await (reader(s, scratch) && writer(s));

  if (!in_chat) co_return;
  sessions_.erase(s.id);
  if (s.flush_queued) std::erase(flush_list_, &s);  // the list holds pointers: none may outlive it
  // A no-op if QUIT or a kill already removed it.
  if (net_)
    net_->disconnect(s.id, quit_message(s.reason()));
  else
    deliver(hub_->disconnect(s.id, quit_message(s.reason())));
}
template asio::awaitable<void> async_chat::serve(chat_client<tcp_stream>&, std::span<char>);
template asio::awaitable<void> async_chat::serve(chat_client<tls_stream>&, std::span<char>);

void async_chat::deliver(core::hub_output out) {
  simul::server::deliver(hub(), std::move(out), stats_, [&](core::client_id to, const core::shared_line& line, clock::time_point now) {
    auto it = sessions_.find(to);
    if (it == sessions_.end() || it->second->stopped()) return push_result::skipped;
    auto& r = *it->second;
    // Only an idle writer waits for lines, and its queue is empty: a busy one is not woken
    // for each line (it would only find the client's socket still full).
    const bool was_empty = r.queue.empty();
    if (r.queue.push(line, now) || r.queue.check(now)) {
      r.stop_with_error(disconnect_reason::sendq);
      // A network node does not change its mirror itself: the session's end publishes its QUIT.
      return net_ ? push_result::skipped : push_result::over_limit;
    }
    if (was_empty) wake_writer(r);
    return push_result::queued;
  }, [&](core::client_id id) {
    if (auto it = sessions_.find(id); it != sessions_.end()) it->second->close_after_flush(disconnect_reason::killed);
  });
}

void async_chat::wake_writer(chat_session& s) {
  if (!s.writer_idle) {
    s.wake.cancel();
    return;
  }
  // The writer sleeps until its liveness deadline. Waking it costs a timer cancelled and re-armed
  // and a coroutine resumed per delivery: the largest user-space cost of a fan-out (perf,
  // docs/BENCHMARKS.md). Instead its first batch is written by one pass over every such writer,
  // after everything the current handler delivers, and its timer stays armed.
  if (!s.flush_queued) {
    s.flush_queued = true;
    flush_list_.push_back(&s);
  }
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(s.wake.get_executor(), [this] { flush(); });
  }
}

void async_chat::flush() {
  flush_posted_ = false;
  flushing_.swap(flush_list_);
  for (auto* session : flushing_) {
    auto& s = *session;
    s.flush_queued = false;
    if (s.stopped() || !s.writer_idle || s.queue.empty()) continue;  // its writer has it
    asio::error_code ec;
    write_batch(s, ec);
    if (ec == asio::error::would_block) {
      s.wake.cancel();  // a full socket: the writer waits for room (and retries these bytes first)
      continue;
    }
    if (ec) {
      s.stop(disconnect_reason::error);
      continue;
    }
    if (!s.queue.empty()) s.wake.cancel();  // more than a batch, or a partial write: the writer goes on
  }
  flushing_.clear();
}

std::size_t async_chat::write_batch(chat_session& s, asio::error_code& ec) {
  // On the loop thread's stack, not in a session's frame: 2 KiB an idle client does not hold.
  std::array<std::string_view, chat_write_batch_lines> views;
  std::array<asio::const_buffer, chat_write_batch_lines> buffers;
  auto n = s.queue.peek(views, chat_write_batch_bytes);
  for (std::size_t i = 0; i < n; ++i) buffers[i] = asio::buffer(views[i]);
  auto written = s.write_lines(std::span<const asio::const_buffer>(buffers.data(), n), ec);
  if (ec) return 0;
  auto& st = stats_.of(service::chat);
  st.bytes_out_total.add(written);
  s.bytes_out += written;
  s.queue.consume(written, clock::now());
  return written;
}

void async_chat::kill(chat_session& s, disconnect_reason why) {
  if (s.stopped()) return;
  s.stop_with_error(why);
  if (!net_) deliver(hub_->disconnect(s.id, close_message(why)));  // a node: the session's end publishes it
}

void async_chat::tell(chat_session& s, std::string line) {
  core::hub_output out;
  out.deliveries.push_back(core::delivery{core::make_shared_line(std::move(line)), {s.id}});
  deliver(std::move(out));
}

void async_chat::acted(chat_session& s, const core::hub_output& out, clock::time_point now) {
  if (out.registered_now) {
    s.live.on_registered(now);
    // Its deadline moved from registration to the first PING, maybe earlier than the one an
    // idle writer sleeps until (deliveries no longer wake it to re-arm: wake_writer).
    if (s.writer_idle && s.live.next_deadline() < s.wake.expiry()) s.wake.cancel();
  }
  if (out.close) s.close_after_flush(disconnect_reason::client);  // QUIT: the ERROR goes out, then the close
}

void async_chat::apply(core::client_id actor, core::hub_output out) {
  if (auto it = sessions_.find(actor); it != sessions_.end()) {
    acted(*it->second, out, clock::now());
  }
  deliver(std::move(out));
}

void async_chat::reset(std::string_view why) {
  auto line = core::format_message("", "ERROR", {why}, {cfg_.limits.max_line_bytes, true});
  for (auto& [id, s] : sessions_) {
    if (s->closing() || s->stopped()) continue;
    tell(*s, line);
    s->close_after_flush(disconnect_reason::killed);
  }
}

void async_chat::on_deadline(chat_session& s) {
  // Safe to call early: each check acts only once its time is up. A closing client has no
  // deadlines here: its flush has its own (the reader's).
  if (s.closing()) return;
  const auto now = clock::now();
  if (s.queue.check(now)) {
    // Above sendq_soft_bytes for sendq_soft_seconds, and no line came to notice it.
    kill(s, disconnect_reason::sendq);
    return;
  }
  auto decision = s.live.poll(now);
  if (decision.what == core::liveness::action::send_ping) {
    deliver(ping_output(hub(), s.id));
  } else if (decision.what == core::liveness::action::close) {
    auto why = liveness_reason(decision.reason);
    s.close_after_flush(why);
    if (net_)
      tell(s, last_words(why));  // the session's end publishes its QUIT
    else
      deliver(hub_->make_error_and_close(s.id, close_message(why)));
  }
}

template <session_stream Stream>
asio::awaitable<void> async_chat::reader(chat_client<Stream>& s, std::span<char> scratch) {
  using namespace asio::experimental::awaitable_operators;
  using step = core::flood_gate::status;
  using wait = asio::socket_base::wait_type;
  auto& st = stats_.of(service::chat);

  // Reads what is available without waiting. False on EOF or error.
  auto pull = [&]() -> bool {
    asio::error_code ec;
    std::size_t n = s.stream.read_some(asio::buffer(scratch.data(), scratch.size()), ec);
    if (ec == asio::error::would_block) return true;
    if (ec) {
      if (ec != asio::error::eof) s.decide(disconnect_reason::error);
      return false;
    }
    st.bytes_in_total.add(n);
    s.bytes_in += n;
    s.gate.feed(std::string_view(scratch.data(), n));
    return true;
  };
  auto handle = [&](std::string_view line, std::error_code framing_error) {
    auto now = clock::now();
    stats_.lines_in_total.add();
    s.live.on_activity(now);
    if (net_) {
      // Applied, and answered, when it comes back from the network's log (apply()).
      if (!net_->line(s.id, line, static_cast<bool>(framing_error))) {
        stats_.cluster.refused_total.add();
        auto& h = hub();
        auto nick = h.nick(s.id);
        tell(s, core::format_message(h.config().server_name, "NOTICE", {nick.empty() ? "*" : nick, network_unavailable},
                                     {cfg_.limits.max_line_bytes, true}));
      }
      return;
    }
    auto out = framing_error ? hub_->on_line_too_long(s.id) : hub_->on_line(s.id, line);
    acted(s, out, now);
    deliver(std::move(out));
  };

  // The gate decides; this loop only reads and waits. A line already held for a flood token
  // when the server decides to close is still handled once its token comes.
  bool open = true;
  while (open && !s.stopped() && (!s.closing() || s.gate.throttled())) {
    auto next = s.gate.next(clock::now());
    if (next.what == step::line) {
      handle(next.line, next.error);
    } else if (next.what == step::excess_flood) {
      kill(s, disconnect_reason::flood);
    } else if (next.what == step::wait) {
      // Flooding: input keeps being taken in meanwhile, for the gate to measure the backlog.
      s.pause.expires_after(next.wait);
      co_await s.pause.async_wait(nothrow);
      if (!s.stopped()) open = pull();
    } else {
      auto [ec] = co_await s.stream.async_wait(wait::wait_read,
                                               asio::bind_cancellation_slot(s.stop_reading.slot(), nothrow));
      if (ec || s.closing() || s.stopped()) break;
      open = pull();
    }
  }

  if (!s.closing()) {
    // The client went away (EOF or error), or was cut off: nothing more to send it.
    s.stop(disconnect_reason::client);
    co_return;
  }
  // Closing: give the writer time to flush, reading (and dropping) input until the client
  // closes, so that closing the socket does not reset the last lines away. The writer may
  // have finished already (it writes without waiting when the client keeps up).
  const auto until = clock::now() + chat_flush_deadline;
  while (!s.stopped() && !s.writer_done && clock::now() < until) {
    s.pause.expires_at(until);
    auto r = co_await (s.stream.async_wait(wait::wait_read, nothrow) || s.pause.async_wait(nothrow));
    if (r.index() == 1 || std::get<0>(std::get<0>(r))) break;
    if (!pull()) break;
    s.gate.discard();  // dropped, unread
  }
  if (!s.writer_done) s.stop(disconnect_reason::client);  // it would not take its last lines in time
}

template <session_stream Stream>
asio::awaitable<void> async_chat::writer(chat_client<Stream>& s) {
  using namespace asio::experimental::awaitable_operators;
  // The connection's deadlines, all on the `wake` timer: the SendQ soft limit and liveness.
  auto next_deadline = [&] {
    if (s.closing()) return clock::time_point::max();
    return std::min(s.queue.next_check(clock::now()), s.live.next_deadline());
  };

  while (!s.stopped()) {
    if (!s.queue.empty()) {
      // Written without waiting (the stream is non-blocking); a full socket is waited for below.
      asio::error_code ec;
      write_batch(s, ec);
      if (ec == asio::error::would_block) {
        // The client is not taking its lines. Wait until it does, or until a deadline: this
        // is how the soft SendQ limit fires when no further line comes to be queued.
        s.wake.expires_at(next_deadline());
        s.busy = true;
        auto r = co_await (s.stream.async_wait(asio::socket_base::wait_write, nothrow) || s.wake.async_wait(nothrow));
        s.busy = false;
        if (s.stopped()) break;
        if (r.index() == 0 && std::get<0>(std::get<0>(r))) {
          s.stop(disconnect_reason::error);  // an error (a stop decided before keeps its reason)
          break;
        }
        if (r.index() == 1) on_deadline(s);
        continue;
      }
      if (ec) {
        s.stop(disconnect_reason::error);
        break;
      }
      // Fairness between clients: at most one batch per turn, as a completed async write.
      if (!s.queue.empty()) co_await asio::post(s.stream.get_executor(), asio::use_awaitable);
      continue;
    }
    if (s.closing()) break;  // flushed
    // Sleep until the liveness deadline (registration, PING) comes, or a delivery wakes us;
    // meanwhile flush() may write lines for us (wake_writer).
    s.wake.expires_at(s.live.next_deadline());
    s.writer_idle = true;
    co_await s.wake.async_wait(nothrow);
    s.writer_idle = false;
    if (s.stopped()) break;
    on_deadline(s);
  }
  asio::error_code ec;
  if (s.stopped() && !s.last_words.empty()) s.stream.write_some(asio::buffer(s.last_words), ec);
  s.stream.shutdown(asio::socket_base::shutdown_send, ec);
  s.writer_done = true;
  s.pause.cancel();
}

void async_chat::reconfigure(const config& cfg) { reconfigure_hub(hub(), cfg); }

std::uint64_t async_chat::queued_bytes() const noexcept {
  std::uint64_t n = 0;
  for (const auto& [id, s] : sessions_) n += s->queue.bytes();
  return n;
}

void async_chat::drain() {
  if (draining_) return;
  draining_ = true;
  for (auto& [id, s] : sessions_) s->close_after_flush(disconnect_reason::shutdown);
  // One shared "ERROR :Server shutting down" line for everyone; writers flush and close.
  if (!net_) {
    deliver(hub_->shutdown(close_message(disconnect_reason::shutdown)));
    return;
  }
  // A node leaves the network (its users QUIT for the others); the mirror stays as it is.
  net_->leave();
  core::delivery d{core::make_shared_line(last_words(disconnect_reason::shutdown)), {}};
  for (const auto& [id, s] : sessions_) d.to.push_back(id);
  std::sort(d.to.begin(), d.to.end());
  core::hub_output out;
  if (!d.to.empty()) out.deliveries.push_back(std::move(d));
  deliver(std::move(out));
}

}  // namespace simul::server
