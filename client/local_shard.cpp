// local_shard: a run's connections on this process's worker threads.
#include <cstddef>

#include "client/scenario.hpp"
#include "client/shard.hpp"
#include "client/worker.hpp"

namespace simul::load {

namespace {

std::unique_ptr<scenario> make_scenario(scenario_kind kind) {
  switch (kind) {
    case scenario_kind::echo: return make_echo_scenario();
    case scenario_kind::idle: return make_idle_scenario();
    case scenario_kind::churn: return make_churn_scenario();
    case scenario_kind::chat: return make_chat_scenario();
  }
  return nullptr;
}

class local_shard final : public shard {
 public:
  local_shard(const options& opts, std::vector<asio::ip::tcp::endpoint> targets, shard_share share,
              const std::string& run_tag)
      : ctx_(opts, std::move(targets), share), scenario_(make_scenario(opts.scenario)) {
    ctx_.run_tag = run_tag;
  }

  void start(clock::time_point epoch) override {
    ctx_.epoch = epoch;
    for (unsigned i = 0; i < ctx_.opts.threads; ++i)
      workers_.push_back(std::make_unique<worker>(i, ctx_.opts.threads, ctx_));
    for (auto& w : workers_) w->start([this](worker& self) { scenario_->start(self); });
  }

  snapshot collect(bool take_interval) override {
    snapshot total;
    for (auto& w : workers_) total.merge(w->collect(take_interval));
    add_setup(total);
    return total;
  }

  clock::duration setup_poll() const override { return std::chrono::milliseconds(5); }

  void go(clock::time_point start, clock::time_point deadline) override {
    for (auto& w : workers_) w->go(start, deadline);
  }

  void end_early(clock::time_point deadline) override {
    for (auto& w : workers_) w->end_early(deadline);
  }

  shard_totals finish(std::chrono::milliseconds grace) override {
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->join(grace);
    shard_totals t;
    for (auto& w : workers_) {
      t.last.merge(take_snapshot(w->final_stats(), true));
      t.latency.merge(w->final_stats().latency);
      t.handshakes.merge(w->final_stats().handshakes);
      t.cross_target.merge(w->final_stats().cross_target);
    }
    add_setup(t.last);
    return t;
  }

 private:
  // The counters the workers share through the run context, added once per process.
  void add_setup(snapshot& s) const {
    s.setup_finished += ctx_.setup_finished.load(std::memory_order_acquire);
    s.setup_ok += ctx_.setup_ok.load(std::memory_order_relaxed);
    if (ctx_.room_members) {
      s.room_members.resize(ctx_.opts.rooms);
      for (std::size_t r = 0; r < ctx_.opts.rooms; ++r)
        s.room_members[r] += ctx_.room_members[r].load(std::memory_order_relaxed);
    }
  }

  run_context ctx_;
  std::unique_ptr<scenario> scenario_;
  std::vector<std::unique_ptr<worker>> workers_;  // declared after ctx_: destroyed (joined) before it
};

}  // namespace

std::unique_ptr<shard> make_local_shard(const options& opts, std::vector<asio::ip::tcp::endpoint> targets,
                                        shard_share share, const std::string& run_tag) {
  return std::make_unique<local_shard>(opts, std::move(targets), share, run_tag);
}

}  // namespace simul::load
