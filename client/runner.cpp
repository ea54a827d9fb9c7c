// runner: the phases of a run and the main thread's once-a-second bookkeeping.
#include "client/runner.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>
#include <thread>

#include "client/report.hpp"
#include "client/scenario.hpp"
#include "client/worker.hpp"

namespace simul::load {

namespace {

using namespace std::chrono_literals;

constexpr auto drain_grace = 2s;  // after the deadline, for replies and deliveries in flight

// Ctrl-C ends the run early but still prints the report; a second one kills as usual.
std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
  interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

clock::duration seconds(double s) {
  return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
}

double since(clock::time_point from, clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

asio::ip::tcp::endpoint resolve(const options& o) {
  std::error_code ec;
  auto address = asio::ip::make_address(o.host, ec);
  if (!ec) return {address, o.port};
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(asio::ip::tcp::v4(), o.host, std::to_string(o.port), ec);
  if (ec || results.empty()) throw usage_error("cannot resolve --host " + o.host + ": " + ec.message());
  return *results.begin();
}

std::string kernel_name() {
  utsname u{};
  if (::uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.version + " " + u.machine;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Two characters, a letter first (nicks cannot start with a digit): tells this run's messages and
// nicks apart from another run's on the same server.
std::string make_run_tag() {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
  static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  return {letters[rd() % 26], alnum[rd() % 36]};
}

std::unique_ptr<scenario> make_scenario(scenario_kind kind) {
  switch (kind) {
    case scenario_kind::echo: return make_echo_scenario();
    case scenario_kind::idle: return make_idle_scenario();
    case scenario_kind::churn: return make_churn_scenario();
    case scenario_kind::chat: return make_chat_scenario();
  }
  return nullptr;
}

// The main thread's view of the workers: snapshots, the time series and the progress line.
// Each series point covers the interval since the previous one. Points fall on whole seconds
// counted from the start of their phase, plus one at each phase boundary (go, deadline) and one
// last point from the final statistics, so the points' messages, errors and latency counts add up
// exactly to the run's totals, and a point never mixes two phases.
class monitor {
 public:
  monitor(run_result& r, std::vector<std::unique_ptr<worker>>& workers, run_context& ctx,
          std::optional<proc_sampler>& sampler)
      : r_(r), workers_(workers), ctx_(ctx), sampler_(sampler),
        live_(!r.opts.quiet && (r.opts.progress || ::isatty(STDERR_FILENO))), next_tick_(ctx.epoch + 1s),
        last_tick_(ctx.epoch) {}

  snapshot collect(bool take_interval) {
    snapshot total;
    for (auto& w : workers_) total.merge(w->collect(take_interval));
    return total;
  }

  /// Sleeps until `until` or the next second's tick, whichever is first; does the tick if due.
  void wait(clock::time_point until, const char* phase) {
    std::this_thread::sleep_until(std::min(until, next_tick_));
    if (clock::now() >= next_tick_) tick(phase);
  }

  /// Ends the current phase's last interval now (unless a tick just did) and counts the next
  /// phase's seconds from here.
  void boundary(const char* phase) {
    if (clock::now() - last_tick_ >= 1ms) tick(phase, /*whole_second=*/false);
    next_tick_ = last_tick_ + 1s;
  }

  /// The measured phase started at `go`: run-phase points carry the offered rate from here on.
  void started(clock::time_point go) { go_ = go; }

  /// The last point: whatever the workers counted after the last tick, from their final stats.
  /// Not shown live: the connections are closed by then, and the report follows at once.
  void finish(snapshot final_totals, const char* phase) {
    record(final_totals, clock::now(), phase, /*sample_server=*/false, /*show=*/false);
  }

 private:
  // A boundary's sliver of a second (the few milliseconds between the last whole-second tick and
  // the deadline) goes into the series but is not worth a progress line of its own: shown, it
  // repeated the previous line's time with a rate measured over milliseconds.
  static constexpr auto min_live_interval = 250ms;

  void tick(const char* phase, bool whole_second = true) {
    const auto now = clock::now();
    record(collect(true), now, phase, true, whole_second || now - last_tick_ >= min_live_interval);
  }

  void record(const snapshot& s, clock::time_point now, const char* phase, bool sample_server, bool show) {
    series_point p;
    p.t = since(ctx_.epoch, now);
    p.interval_s = since(last_tick_, now);
    p.phase = phase;
    p.requested = s.c.connects_started;
    p.failed = s.c.connects_failed;
    p.up = s.c.connections_up;
    p.msgs = s.c.msgs_received - prev_.msgs_received;
    p.msgs_per_s = p.interval_s > 0 ? static_cast<double>(p.msgs) / p.interval_s : 0;
    const std::uint64_t errors = s.connect_errors.total() + s.io_errors.total();
    p.errors = errors - prev_errors_;
    p.latency_count = s.interval.count();
    p.p50_ns = s.interval.percentile(50);
    p.p99_ns = s.interval.percentile(99);
    p.max_ns = s.interval.max();
    if (go_ && p.phase == "run" && r_.opts.rate > 0) p.offered_rate = ctx_.schedule.rate_at(since(*go_, now));
    r_.series.push_back(p);
    if (sampler_ && sample_server) {
      if (auto sample = sampler_->sample(p.t)) r_.server->samples.push_back(*sample);
    }
    if (live_ && show) std::fprintf(stderr, "%s\n", progress_line(p, r_.target_connections).c_str());
    prev_ = s.c;
    prev_errors_ = errors;
    last_tick_ = now;
    while (next_tick_ <= now) next_tick_ += 1s;
  }

  run_result& r_;
  std::vector<std::unique_ptr<worker>>& workers_;
  run_context& ctx_;
  std::optional<proc_sampler>& sampler_;
  bool live_;
  clock::time_point next_tick_;
  clock::time_point last_tick_;
  counters prev_;
  std::uint64_t prev_errors_ = 0;
  std::optional<clock::time_point> go_;
};

}  // namespace

run_result run_load(const options& opts) {
  run_result r;
  r.opts = opts;
  r.kernel = kernel_name();
  r.started_at = utc_now();
  r.target_connections = opts.target_connections();
  r.pre = preflight(opts);
  for (const auto& w : r.pre.warnings) std::fprintf(stderr, "simul-load: warning: %s\n", w.c_str());

  run_context ctx(opts, resolve(opts));
  ctx.run_tag = make_run_tag();
  r.target = ctx.target.address().to_string() + ":" + std::to_string(ctx.target.port());

  std::optional<proc_sampler> sampler;
  if (opts.server_pid > 0) {
    sampler.emplace(opts.server_pid);
    r.server.emplace();
    r.server->pid = opts.server_pid;
    r.server->command_line = sampler->command_line();
    r.server->baseline = sampler->sample(0);
    if (!r.server->baseline)
      std::fprintf(stderr, "simul-load: warning: cannot read /proc/%d: server not sampled\n", opts.server_pid);
  }

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto sc = make_scenario(opts.scenario);
  std::vector<std::unique_ptr<worker>> workers;
  ctx.epoch = clock::now();
  for (unsigned i = 0; i < opts.threads; ++i) workers.push_back(std::make_unique<worker>(i, opts.threads, ctx));
  for (auto& w : workers) w->start([&sc](worker& self) { sc->start(self); });
  monitor mon(r, workers, ctx, sampler);

  // Setup: every connection has succeeded or failed, or the ramp plus one timeout has passed.
  if (r.target_connections > 0) {
    double limit = opts.connect_timeout_s + 1.0;
    if (opts.connect_rate > 0) limit += static_cast<double>(r.target_connections) / opts.connect_rate;
    if (opts.scenario == scenario_kind::chat) limit += 5.0;  // registration and JOIN replies
    const auto setup_deadline = ctx.epoch + seconds(limit);
    while (ctx.setup_finished.load(std::memory_order_acquire) < r.target_connections &&
           clock::now() < setup_deadline && !interrupted) {
      mon.wait(std::min(setup_deadline, clock::now() + 5ms), "setup");
    }
  }

  mon.boundary("setup");
  const auto go_time = clock::now();
  mon.started(go_time);
  r.setup_s = since(ctx.epoch, go_time);
  r.connected = ctx.setup_ok.load();
  // Nothing connected: nothing to measure, so skip straight to the end.
  const bool measure = (r.target_connections == 0 || r.connected > 0) && !interrupted;
  auto deadline = measure ? go_time + seconds(opts.duration_s) : go_time;
  for (auto& w : workers) w->go(go_time, deadline);

  while (clock::now() < deadline && !interrupted) mon.wait(std::min(deadline, clock::now() + 50ms), "run");
  if (interrupted && measure) {  // report what ran so far, after the usual drain
    deadline = std::min(deadline, clock::now());
    for (auto& w : workers) w->end_early(deadline);
  }
  mon.boundary("run");
  snapshot at_end = mon.collect(false);
  r.held = at_end.c.connections_up;
  if (sampler && r.server->baseline) r.server->held = sampler->sample(since(ctx.epoch, clock::now()));

  const auto drain_deadline = deadline + drain_grace;
  while (measure && !sc->drained(mon.collect(false), ctx) && clock::now() < drain_deadline) {
    mon.wait(std::min(drain_deadline, clock::now() + 5ms), "drain");
  }
  r.run_s = since(go_time, deadline);

  for (auto& w : workers) w->stop();
  for (auto& w : workers) w->join(2s);

  snapshot final_totals;
  for (auto& w : workers) final_totals.merge(take_snapshot(w->final_stats(), true));
  mon.finish(std::move(final_totals), "drain");
  std::vector<std::uint64_t> sent_per_room;
  for (auto& w : workers) {
    const auto& st = w->final_stats();
    r.totals += st.c;
    r.connect_errors.merge(st.connect_errors);
    r.io_errors.merge(st.io_errors);
    r.latency.merge(st.latency);
    r.handshakes.merge(st.handshakes);
    sent_per_room.resize(st.chat_sent_per_room.size());
    for (std::size_t i = 0; i < st.chat_sent_per_room.size(); ++i) sent_per_room[i] += st.chat_sent_per_room[i];
  }
  if (opts.scenario == scenario_kind::chat) {
    r.chat_expected = expected_deliveries(sent_per_room, ctx);
    const auto got = r.totals.chat_distinct;
    r.chat_lost = r.chat_expected > got ? r.chat_expected - got : 0;
    r.chat_unexpected = got > r.chat_expected ? got - r.chat_expected : 0;
    // Every one of these is a broken promise of the server: count them as errors.
    r.io_errors.add("lost message", r.chat_lost);
    r.io_errors.add("duplicate delivery", r.totals.chat_duplicates);
    r.io_errors.add("reordered delivery", r.totals.chat_reordered);
    r.io_errors.add("unexpected delivery", r.chat_unexpected);
  }
  return r;
}

}  // namespace simul::load
