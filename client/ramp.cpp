// ramp: paced connection start-up.
#include "client/ramp.hpp"

#include <asio/steady_timer.hpp>

#include "client/connection.hpp"

namespace simul::load {

namespace {

// The launcher registers as a session so that the setup deadline (or the end of the run) aborts
// a ramp that is still waiting.
class launcher final : public session_base {
 public:
  explicit launcher(worker& w) : session_base(w), timer_(w.context()) {}
  void on_abort() override { timer_.cancel(); }
  asio::steady_timer& timer() noexcept { return timer_; }

 private:
  asio::steady_timer timer_;
};

}  // namespace

asio::awaitable<void> ramp(worker& w, std::size_t total, session_factory make_session) {
  launcher self(w);
  const double rate = w.run().opts.connect_rate;
  const auto epoch = w.run().epoch;
  for (std::size_t id = w.first_id(); id < total; id += w.id_stride()) {
    if (rate > 0) {
      auto at = epoch + std::chrono::duration_cast<clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(id) / rate));
      if (clock::now() < at) {
        self.timer().expires_at(at);
        co_await self.timer().async_wait(nothrow);
      }
    }
    bool slot = false;
    if (!self.aborted() && w.phase() == run_phase::setup) {
      co_await w.acquire_connect_slot();
      slot = true;
    }
    if (self.aborted() || w.phase() != run_phase::setup) {
      if (slot) w.release_connect_slot();
      std::size_t left = 0;
      for (std::size_t rest = id; rest < total; rest += w.id_stride()) ++left;
      if (w.phase() != run_phase::stopping) {
        w.stats().c.connects_failed += left;
        w.stats().connect_errors.add("setup timeout (not started)", left);
      }
      for (std::size_t i = 0; i < left; ++i) w.setup_finished(false);
      co_return;
    }
    w.spawn(make_session(w, id));
  }
}

}  // namespace simul::load
