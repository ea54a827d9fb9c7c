// churn: at --rate per second overall, connect, exchange one --size message, close. Open loop:
// each transaction's latency counts from its intended start, so a slow server cannot hide.
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <vector>

#include "client/connection.hpp"
#include "client/echo_message.hpp"
#include "client/scenario.hpp"

namespace simul::load {

namespace {

// Aborting the launcher (end of run) cancels its pacing timer.
class churn_launcher final : public session_base {
 public:
  explicit churn_launcher(worker& w) : session_base(w), timer_(w.context()) { ready_ = true; }
  void on_abort() override { timer_.cancel(); }
  asio::steady_timer& timer() noexcept { return timer_; }

 private:
  asio::steady_timer timer_;
};

asio::awaitable<void> transaction(worker& w, std::uint64_t id, clock::time_point intended) {
  auto& st = w.stats();
  connection conn(w, id);
  bool completed = false;
  if (co_await conn.establish(false)) {
    const std::size_t size = w.run().opts.size;
    echo_message msg(size, id);
    std::vector<char> in(size);
    auto [wec, wn] = co_await asio::async_write(conn.socket(), asio::buffer(msg.stamp(id), size), nothrow);
    if (wec) {
      conn.fail(wec);
    } else {
      ++st.c.msgs_sent;
      st.c.bytes_sent += wn;
      auto [rec, rn] = co_await asio::async_read(conn.socket(), asio::buffer(in), nothrow);
      st.c.bytes_received += rn;
      if (rec) {
        conn.fail(rec == asio::error::eof && rn > 0 ? std::string("short echo") : cause_name(rec));
      } else if (!msg.matches(id, in.data())) {
        conn.fail("garbled echo");
      } else {
        ++st.c.msgs_received;
        st.record_latency(steady_ns(clock::now()) - steady_ns(intended));
        completed = true;
      }
    }
  }
  // Cut off by the end of the run (after the drain grace): the server never finished it.
  if (!completed && conn.aborted() && !conn.abort_reason()) st.io_errors.add("unfinished at end");
  --st.c.outstanding;
}

asio::awaitable<void> launch(worker& w) {
  churn_launcher self(w);
  if (!co_await w.wait_for_go()) co_return;
  const auto& o = w.run().opts;
  auto& st = w.stats();
  // Each worker of each process takes every id_stride-th slot of one global schedule at --rate.
  const std::size_t cap = std::max<std::size_t>(1, o.max_in_flight / w.id_stride());
  for (std::uint64_t k = w.first_id();; k += w.id_stride()) {
    const auto at = after(w.go_time(), w.run().schedule.time_of(static_cast<double>(k)));
    if (at >= w.deadline() || self.aborted()) break;
    if (clock::now() < at) {
      self.timer().expires_at(at);
      co_await self.timer().async_wait(nothrow);
      if (self.aborted()) break;
    }
    if (st.c.outstanding >= static_cast<std::int64_t>(cap)) {
      st.io_errors.add("in-flight limit");  // the server is too slow for this rate: say so
      continue;
    }
    ++st.c.outstanding;
    w.spawn(transaction(w, k, at));
  }
}

class churn_scenario final : public scenario {
 public:
  void start(worker& w) override { w.spawn(launch(w)); }
};

}  // namespace

std::unique_ptr<scenario> make_churn_scenario() { return std::make_unique<churn_scenario>(); }

}  // namespace simul::load
