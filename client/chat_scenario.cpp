// chat: --users IRC clients; user i registers (NICK/USER, waits for 001, answers PING), joins
// #room<i % rooms>, and once every user is in, sends PRIVMSGs to its room at --rate. Every
// receiver checks each delivery (loss, duplicates, per-sender order) and records its latency.
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <array>
#include <cmath>

#include "client/chat_protocol.hpp"
#include "client/connection.hpp"
#include "client/ramp.hpp"
#include "client/scenario.hpp"
#include "core/line_framer.hpp"

namespace simul::load {

namespace {

constexpr std::size_t max_outbox = 4 << 20;  // the server stopped reading: give up, say so

// Error replies that stop a user from registering or joining (RFC 2812). Others during setup,
// like 422 ERR_NOMOTD, are part of a normal welcome.
bool fatal_in_setup(std::string_view numeric) {
  static constexpr std::string_view fatal[] = {"403", "405", "431", "432", "433", "436", "437", "451",
                                               "461", "462", "464", "465", "471", "473", "474", "475",
                                               "476", "477"};
  for (auto f : fatal) {
    if (numeric == f) return true;
  }
  return false;
}

// One IRC user; lives in its session coroutine's frame, worker thread only. Three coroutines share
// it: reader (registration, PING, deliveries), sender (paced PRIVMSGs) and writer (the only one
// that writes to the socket, draining the outbox).
class chat_user {
 public:
  chat_user(worker& w, std::size_t id)
      : w_(w), conn_(w, id), id_(static_cast<std::uint32_t>(id)), room_(id % w.run().opts.rooms),
        nick_(w.run().run_tag + std::to_string(id)), wake_(w.context(), clock::time_point::max()),
        timer_(w.context()), framer_(4096) {}

  connection& conn() noexcept { return conn_; }

  asio::awaitable<void> run() {
    using namespace asio::experimental::awaitable_operators;
    if (!co_await conn_.establish(true)) co_return;
    queue("NICK " + nick_ + "\r\nUSER " + nick_ + " 0 * :simul-load\r\n");
    co_await (writer() && reader() && sender());
  }

 private:
  bool joined() const noexcept { return state_ == state::joined; }

  void queue(const std::string& text) {
    outbox_ += text;
    wake_.cancel();
  }

  // Ends the session: the other two coroutines wake up and finish.
  void close(std::string_view cause) {
    if (closed_) return;
    closed_ = true;
    if (!cause.empty()) {
      if (joined()) conn_.fail(cause);
      else conn_.setup_failed(cause);
    }
    std::error_code ignored;
    conn_.socket().close(ignored);
    wake_.cancel();
    timer_.cancel();
  }

  asio::awaitable<void> writer() {
    std::string sending;
    while (!closed_) {
      if (outbox_.empty()) {
        co_await wake_.async_wait(nothrow);
        continue;
      }
      sending.swap(outbox_);
      outbox_.clear();
      auto [ec, n] = co_await asio::async_write(conn_.socket(), asio::buffer(sending), nothrow);
      if (ec) close(cause_name(ec));
    }
  }

  asio::awaitable<void> reader() {
    std::array<char, 4096> buf;
    while (!closed_) {
      auto [ec, n] = co_await conn_.socket().async_read_some(asio::buffer(buf), nothrow);
      if (ec) {
        close(cause_name(ec));
        break;
      }
      w_.stats().c.bytes_received += n;
      framer_.feed(std::string_view(buf.data(), n));
      while (auto f = framer_.next()) {
        if (f->error) continue;  // a line longer than we accept is nothing we sent
        handle(f->line);
        if (closed_) break;
      }
    }
    close({});
  }

  void handle(std::string_view text) {
    auto line = parse_irc_line(text);
    if (!line) return;
    const auto& cmd = line->command;
    if (cmd == "PING") {
      queue("PONG :" + std::string(line->last()) + "\r\n");
    } else if (cmd == "PRIVMSG") {
      if (joined()) delivery(*line);
    } else if (cmd == "001" && state_ == state::registering) {
      state_ = state::joining;
      queue("JOIN #room" + std::to_string(room_) + "\r\n");
    } else if ((cmd == "JOIN" && nick_of(line->prefix) == nick_) || (cmd == "366" && state_ == state::joining)) {
      if (state_ == state::joining) on_joined();
    } else if (cmd == "ERROR") {
      close("IRC ERROR: " + std::string(line->last().substr(0, 40)));
    } else if (cmd.size() == 3 && (cmd[0] == '4' || cmd[0] == '5') && cmd != "422") {
      // Before the join, a refused nick or channel means this user cannot take part; after it, an
      // error reply (e.g. 404 cannot send to channel) is counted and the session goes on.
      if (!joined()) {
        if (fatal_in_setup(cmd)) close("IRC " + std::string(cmd));
      } else {
        w_.stats().io_errors.add("IRC " + std::string(cmd));
      }
    }
  }

  void on_joined() {
    if (w_.phase() != run_phase::setup) return;  // too late: the go handler aborts this user
    state_ = state::joined;
    w_.run().room_members[room_].fetch_add(1, std::memory_order_relaxed);
    conn_.setup_complete();
    timer_.cancel();  // the sender waits for this
  }

  void delivery(const irc_line& line) {
    auto& st = w_.stats();
    auto p = parse_payload(line.param(1));
    if (!p || p->tag != w_.run().run_tag) {
      ++st.c.chat_foreign;
      return;
    }
    if (p->sender == id_) st.io_errors.add("own message echoed");
    else if (p->sender % w_.run().opts.rooms != room_) st.io_errors.add("misdelivered");
    ++st.c.msgs_received;
    switch (checker_.on_message(p->sender, p->seq)) {
      case delivery_checker::verdict::duplicate: ++st.c.chat_duplicates; return;
      case delivery_checker::verdict::reordered: ++st.c.chat_reordered; break;
      case delivery_checker::verdict::in_order: break;
    }
    ++st.c.chat_distinct;
    const auto now = steady_ns(clock::now());
    const auto latency = now > p->sent_ns ? now - p->sent_ns : 0;
    st.record_latency(latency);
    // Through another server: what a cluster adds to a delivery.
    const auto& run = w_.run();
    if (run.targets.size() > 1 && run.target_of(p->sender) != run.target_of(id_)) st.cross_target.record(latency);
  }

  asio::awaitable<void> sender() {
    while (!joined() && !closed_) co_await timer_.async_wait(nothrow);
    if (closed_ || !co_await w_.wait_for_go()) co_return;
    const auto& o = w_.run().opts;
    auto& st = w_.stats();
    const double phase = std::fmod(static_cast<double>(id_) * 0.6180339887498949, 1.0);
    const std::string head = "PRIVMSG #room" + std::to_string(room_) + " :";
    for (std::uint64_t seq = 0;; ++seq) {
      const auto at = after(w_.go_time(), w_.run().schedule.time_of(static_cast<double>(seq) + phase));
      if (at >= w_.deadline() || closed_) break;
      if (clock::now() < at) {
        timer_.expires_at(at);
        co_await timer_.async_wait(nothrow);
        if (closed_) break;
      }
      if (outbox_.size() > max_outbox) {
        close("client send queue full");
        break;
      }
      std::string line = head + format_payload(w_.run().run_tag, id_, seq, steady_ns(at), o.size) + "\r\n";
      st.c.bytes_sent += line.size();
      ++st.c.msgs_sent;
      ++st.chat_sent_per_room[room_];
      queue(line);
    }
  }

  enum class state { registering, joining, joined };

  worker& w_;
  connection conn_;
  std::uint32_t id_;
  std::size_t room_;
  std::string nick_;
  asio::steady_timer wake_;   // writer: outbox not empty / closed
  asio::steady_timer timer_;  // sender: joined / pacing / closed
  core::line_framer framer_;
  delivery_checker checker_;
  std::string outbox_;
  state state_ = state::registering;
  bool closed_ = false;
};

asio::awaitable<void> chat_session(worker& w, std::size_t id) {
  chat_user user(w, id);
  co_await user.run();
}

class chat_scenario final : public scenario {
 public:
  void start(worker& w) override { w.spawn(ramp(w, w.run().opts.users, chat_session)); }
};

}  // namespace

std::uint64_t expected_deliveries(const std::vector<std::uint64_t>& sent_per_room,
                                  const std::vector<std::uint64_t>& room_members) {
  std::uint64_t expected = 0;
  for (std::size_t r = 0; r < sent_per_room.size() && r < room_members.size(); ++r) {
    if (room_members[r] > 1) expected += sent_per_room[r] * (room_members[r] - 1);
  }
  return expected;
}

bool drained(scenario_kind kind, const snapshot& total) {
  // chat: every message must reach every other member of its room.
  if (kind == scenario_kind::chat) {
    return total.c.chat_distinct >= expected_deliveries(total.chat_sent_per_room, total.room_members);
  }
  return total.c.outstanding <= 0;
}

std::unique_ptr<scenario> make_chat_scenario() { return std::make_unique<chat_scenario>(); }

}  // namespace simul::load
