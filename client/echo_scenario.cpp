// echo: round trips of --size bytes, verified byte for byte. Closed loop (send, await the echo,
// repeat) or open loop at --rate per connection, with latency from the intended send time.
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <cmath>
#include <vector>

#include "client/connection.hpp"
#include "client/echo_message.hpp"
#include "client/ramp.hpp"
#include "client/scenario.hpp"

namespace simul::load {

namespace {

// Names a failed read of an echo: an orderly close part-way through a message is a short echo.
std::string read_failure(const std::error_code& ec, std::size_t got) {
  if (ec == asio::error::eof && got > 0) return "short echo";
  return cause_name(ec);
}

// Send, await the echo, repeat until the deadline. Latency is the round trip itself: in a closed
// loop nothing waits behind a slow reply, so there is no omission to correct for.
asio::awaitable<void> closed_loop(connection& conn) {
  auto& w = conn.owner();
  auto& st = w.stats();
  const std::size_t size = w.run().opts.size;
  const auto deadline = w.deadline();
  echo_message msg(size, conn.id());
  std::vector<char> in(size);
  auto& sock = conn.socket();
  for (std::uint64_t seq = 0;; ++seq) {
    const auto sent_at = clock::now();
    if (sent_at >= deadline || conn.finished()) break;
    ++st.c.outstanding;
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(msg.stamp(seq), size), nothrow);
    if (wec) {
      --st.c.outstanding;
      conn.fail(wec);
      break;
    }
    ++st.c.msgs_sent;
    st.c.bytes_sent += wn;
    auto [rec, rn] = co_await asio::async_read(sock, asio::buffer(in), nothrow);
    --st.c.outstanding;
    st.c.bytes_received += rn;
    if (rec) {
      conn.fail(read_failure(rec, rn));
      break;
    }
    if (!msg.matches(seq, in.data())) {
      conn.fail("garbled echo");  // the stream is out of step now: this connection is done
      break;
    }
    ++st.c.msgs_received;
    st.record_latency(steady_ns(clock::now()) - steady_ns(sent_at));
  }
}

struct open_loop_state {
  echo_message msg;
  clock::time_point first;  // intended time of message 0
  clock::duration period;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool writer_done = false;
  bool stop = false;

  clock::time_point intended(std::uint64_t seq) const { return first + period * static_cast<std::int64_t>(seq); }
};

// Sends message k at its intended time (at once if behind: the backlog shows up as latency).
asio::awaitable<void> open_writer(connection& conn, open_loop_state& s) {
  auto& w = conn.owner();
  auto& st = w.stats();
  asio::steady_timer timer(w.context());
  for (std::uint64_t seq = 0;; ++seq) {
    const auto at = s.intended(seq);
    if (at >= w.deadline() || s.stop || conn.finished()) break;
    if (clock::now() < at) {
      timer.expires_at(at);
      co_await timer.async_wait(nothrow);
      if (s.stop || conn.finished()) break;
    }
    ++st.c.outstanding;
    ++s.sent;
    auto [ec, n] = co_await asio::async_write(conn.socket(), asio::buffer(s.msg.stamp(seq), s.msg.size()), nothrow);
    if (ec) {
      conn.fail(ec);
      s.stop = true;
      break;
    }
    ++st.c.msgs_sent;
    st.c.bytes_sent += n;
  }
  s.writer_done = true;
  // Every echo is in: wake the reader, which would otherwise wait for bytes that never come.
  std::error_code ignored;
  if (s.received == s.sent) conn.socket().cancel(ignored);
}

// Reads echoes in order; message k's latency counts from k's intended send time.
asio::awaitable<void> open_reader(connection& conn, open_loop_state& s) {
  auto& st = conn.owner().stats();
  std::vector<char> in(s.msg.size());
  while (!(s.writer_done && s.received == s.sent) && !s.stop) {
    auto [ec, n] = co_await asio::async_read(conn.socket(), asio::buffer(in), nothrow);
    st.c.bytes_received += n;
    if (ec) {
      if (!(s.writer_done && s.received == s.sent)) conn.fail(read_failure(ec, n));
      break;
    }
    if (!s.msg.matches(s.received, in.data())) {
      conn.fail("garbled echo");
      break;
    }
    const auto latency = steady_ns(clock::now()) - steady_ns(s.intended(s.received));
    ++s.received;
    --st.c.outstanding;
    ++st.c.msgs_received;
    st.record_latency(latency);
  }
  s.stop = true;
  std::error_code ignored;
  if (!s.writer_done) conn.socket().close(ignored);  // wakes a writer blocked by a full socket
}

asio::awaitable<void> open_loop(connection& conn) {
  using namespace asio::experimental::awaitable_operators;
  auto& w = conn.owner();
  const double rate = w.run().opts.rate;
  const auto period = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / rate));
  // Spread the connections' first sends over one period instead of firing them all together.
  const double phase = std::fmod(static_cast<double>(conn.id()) * 0.6180339887498949, 1.0);
  open_loop_state s{echo_message(w.run().opts.size, conn.id()),
                    w.go_time() + std::chrono::duration_cast<clock::duration>(period * phase), period};
  co_await (open_writer(conn, s) && open_reader(conn, s));
  w.stats().c.outstanding -= static_cast<std::int64_t>(s.sent - s.received);  // echoes never seen
}

asio::awaitable<void> echo_session(worker& w, std::size_t id) {
  connection conn(w, id);
  if (!co_await conn.establish(true)) co_return;
  conn.setup_complete();
  if (!co_await w.wait_for_go()) co_return;
  if (w.run().opts.rate > 0) {
    co_await open_loop(conn);
  } else {
    co_await closed_loop(conn);
  }
  if (!conn.failed()) co_await w.wait_for_stop();
}

class echo_scenario final : public scenario {
 public:
  void start(worker& w) override { w.spawn(ramp(w, w.run().opts.connections, echo_session)); }
};

}  // namespace

std::unique_ptr<scenario> make_echo_scenario() { return std::make_unique<echo_scenario>(); }

}  // namespace simul::load
