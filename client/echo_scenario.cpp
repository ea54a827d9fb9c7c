// echo: round trips of --size bytes, verified byte for byte. Closed loop (send, await the echo,
// repeat) or open loop at --rate per connection, with latency from the intended send time.
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <cmath>
#include <tuple>
#include <vector>

#include "client/connection.hpp"
#include "client/echo_message.hpp"
#include "client/ramp.hpp"
#include "client/scenario.hpp"

namespace simul::load {

namespace {

// Still waiting for these echoes when the run ended (deadline plus the drain grace).
constexpr std::string_view unanswered = "no echo by the end";

// Names a failed read of an echo: an orderly close part-way through a message is a short echo.
std::string read_failure(const std::error_code& ec, std::size_t got) {
  if (ec == asio::error::eof && got > 0) return "short echo";
  return cause_name(ec);
}

// Reads at least `size` bytes into `in` (more arrive only if the server sends extra bytes).
asio::awaitable<std::tuple<std::error_code, std::size_t>> read_echo(stream& sock,
                                                                    std::vector<char>& in, std::size_t size) {
  std::size_t got = 0;
  while (got < size) {
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(in.data() + got, in.size() - got), nothrow);
    got += n;
    if (ec) co_return std::tuple{ec, got};
  }
  co_return std::tuple{std::error_code{}, got};
}

struct exchange {
  std::error_code write_error;
  std::error_code read_error;
  std::size_t sent = 0;
  std::size_t got = 0;
};

// A non-blocking call that would block transferred nothing; that is not an error.
void clear_would_block(std::error_code& ec) {
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
}

// Writes what fits now, without blocking: the whole message (the usual case for a small one),
// part of it, or an error. Writing directly spares a trip through the scheduler.
exchange send_now(stream& sock, const char* data, std::size_t size) {
  exchange x;
  x.sent = sock.write_some(asio::buffer(data, size), x.write_error);
  clear_would_block(x.write_error);
  return x;
}

// The rest of a message that did not fit is written while its echo is read: a server that stops
// reading while its own writes are blocked (backpressure) would otherwise wait for us as we wait
// for it.
asio::awaitable<void> finish_round_trip(stream& sock, const char* data, std::size_t size,
                                        std::vector<char>& in, exchange& x) {
  using namespace asio::experimental::awaitable_operators;
  auto [wec, wn, r] = co_await (asio::async_write(sock, asio::buffer(data + x.sent, size - x.sent), nothrow) &&
                                 read_echo(sock, in, size));
  x.write_error = wec;
  x.sent += wn;
  std::tie(x.read_error, x.got) = r;
}

// Send, await the echo, repeat until the deadline. Latency is the round trip itself: in a closed
// loop nothing waits behind a slow reply, so there is no omission to correct for.
asio::awaitable<void> closed_loop(connection& conn) {
  auto& w = conn.owner();
  auto& st = w.stats();
  const std::size_t size = w.run().opts.size;
  echo_message msg(size, conn.id());
  std::vector<char> in(size + 512);  // room for more than one message: extra bytes are an error
  auto& sock = conn.socket();
  std::error_code ec;
  sock.non_blocking(true, ec);  // send_now writes to the socket directly: it must never block
  if (ec) {
    conn.fail(ec);
    co_return;
  }
  for (std::uint64_t seq = 0;; ++seq) {
    const auto sent_at = clock::now();
    if (sent_at >= w.deadline() || conn.finished()) break;
    ++st.c.outstanding;
    const char* data = msg.stamp(seq);
    exchange x = send_now(sock, data, size);
    if (!x.write_error && x.sent < size) {
      co_await finish_round_trip(sock, data, size, in, x);
    } else if (!x.write_error) {
      // Yield once, then read. Right after the send the echo is still on its way, and Asio 1.22
      // starts every async read with a speculative recv, which would fail with EAGAIN: one wasted
      // syscall per message, a third of all of them. After the yield the other connections'
      // completions have run, the echo has usually arrived, and one recv takes it. (Waiting with
      // async_wait(wait_read) instead costs an epoll_ctl per message: no cheaper.) Measured with
      // bench/loadgen-speed: recv calls per message 2.0 -> 1.01, 48k -> 110k msgs/s.
      co_await asio::post(asio::use_awaitable);
      x.got = sock.read_some(asio::buffer(in), x.read_error);
      clear_would_block(x.read_error);
      while (x.got < size && !x.read_error) {
        auto [rec, n] = co_await sock.async_read_some(asio::buffer(in.data() + x.got, in.size() - x.got), nothrow);
        x.got += n;
        x.read_error = rec;
      }
    }
    --st.c.outstanding;
    st.c.bytes_sent += x.sent;
    st.c.bytes_received += x.got;
    if (x.write_error) {
      if (!conn.finished()) conn.fail(x.write_error);
      break;
    }
    ++st.c.msgs_sent;
    if (x.read_error) {
      if (conn.finished()) st.io_errors.add(unanswered);
      else conn.fail(read_failure(x.read_error, x.got));
      break;
    }
    const std::size_t got = x.got;
    if (got != size || !msg.matches(seq, in.data())) {
      conn.fail("garbled echo");  // the stream is out of step now: this connection is done
      break;
    }
    ++st.c.msgs_received;
    st.record_latency(steady_ns(clock::now()) - steady_ns(sent_at));
  }
}

struct open_loop_state {
  echo_message msg;
  const rate_schedule& schedule;
  double phase;               // message k is due at schedule.time_of(k + phase) after the go
  clock::time_point go{};
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  bool writer_done = false;
  bool stop = false;

  clock::time_point intended(std::uint64_t seq) const {
    return after(go, schedule.time_of(static_cast<double>(seq) + phase));
  }
};

// Sends message k at its intended time (at once if behind: the backlog shows up as latency).
asio::awaitable<void> open_writer(connection& conn, open_loop_state& s) {
  auto& w = conn.owner();
  auto& st = w.stats();
  asio::steady_timer timer(w.context());
  if (!co_await w.wait_for_go()) s.stop = true;
  s.go = w.go_time();
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
  // Spread the connections' first sends over one period instead of firing them all together.
  const double phase = std::fmod(static_cast<double>(conn.id()) * 0.6180339887498949, 1.0);
  open_loop_state s{echo_message(w.run().opts.size, conn.id()), w.run().schedule, phase};
  co_await (open_writer(conn, s) && open_reader(conn, s));
  const auto missing = s.sent - s.received;
  w.stats().c.outstanding -= static_cast<std::int64_t>(missing);
  if (conn.finished()) w.stats().io_errors.add(unanswered, missing);
}

asio::awaitable<void> echo_session(worker& w, std::size_t id) {
  connection conn(w, id);
  if (!co_await conn.establish(true)) co_return;
  conn.setup_complete();
  if (w.run().opts.rate > 0) {
    co_await open_loop(conn);  // waits for the go itself, with its coroutines already in place
  } else {
    if (!co_await w.wait_for_go()) co_return;
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
