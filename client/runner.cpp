// runner: the phases of a run and the main thread's once-a-second bookkeeping.
#include "client/runner.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>
#include <thread>

#include "client/process_group.hpp"
#include "client/report.hpp"
#include "client/scenario.hpp"
#include "client/shard.hpp"
#include "client/spread.hpp"

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

asio::ip::tcp::endpoint resolve(const target_address& t) {
  std::error_code ec;
  auto address = asio::ip::make_address(t.host, ec);
  if (!ec) return {address, t.port};
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(asio::ip::tcp::v4(), t.host, std::to_string(t.port), ec);
  if (ec || results.empty()) throw usage_error("cannot resolve host " + t.host + ": " + ec.message());
  return *results.begin();
}

bool is_loopback(const asio::ip::tcp::endpoint& e) { return e.address().is_loopback(); }

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

// The main thread's view of the shard: snapshots, the time series and the progress line.
// Each series point covers the interval since the previous one. Points fall on whole seconds
// counted from the start of their phase, plus one at each phase boundary (go, deadline) and one
// last point from the final statistics, so the points' messages, errors and latency counts add up
// exactly to the run's totals, and a point never mixes two phases.
class monitor {
 public:
  monitor(run_result& r, shard& sh, clock::time_point epoch, const rate_schedule& schedule,
          std::optional<proc_sampler>& sampler)
      : r_(r), shard_(sh), epoch_(epoch), schedule_(schedule), sampler_(sampler),
        live_(!r.opts.quiet && (r.opts.progress || ::isatty(STDERR_FILENO))), next_tick_(epoch + 1s),
        last_tick_(epoch) {}

  snapshot collect(bool take_interval) { return shard_.collect(take_interval); }

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

  /// The last point: whatever the shard counted after the last tick, from their final stats.
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
    p.t = since(epoch_, now);
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
    if (go_ && p.phase == "run" && r_.opts.rate > 0) p.offered_rate = schedule_.rate_at(since(*go_, now));
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
  shard& shard_;
  clock::time_point epoch_;
  const rate_schedule& schedule_;
  std::optional<proc_sampler>& sampler_;
  bool live_;
  clock::time_point next_tick_;
  clock::time_point last_tick_;
  counters prev_;
  std::uint64_t prev_errors_ = 0;
  std::optional<clock::time_point> go_;
};

// Splits the run over processes and source addresses as the limits require (spread.hpp).
spread_plan plan(const options& opts, run_result& r, const std::vector<asio::ip::tcp::endpoint>& targets) {
  spread_input in;
  in.sockets = opts.scenario == scenario_kind::churn ? opts.max_in_flight : opts.target_connections();
  in.fd_limit = r.pre.fd_soft > 0 ? r.pre.fd_soft : RLIM_INFINITY;
  in.threads = opts.threads;
  in.forced_processes = opts.processes;
  in.sources = opts.sources;
  in.targets = targets.size();
  in.loopback = std::all_of(targets.begin(), targets.end(), is_loopback);
  in.ephemeral_ports = r.pre.ephemeral_ports();
  std::string error;
  auto p = plan_spread(in, error);
  if (!p) throw usage_error(error);
  r.pre.warnings.insert(r.pre.warnings.end(), p->warnings.begin(), p->warnings.end());
  r.processes = p->processes;
  r.threads_per_process = p->threads;
  r.sources = p->sources;
  r.auto_sources = p->auto_sources;
  return std::move(*p);
}

}  // namespace

run_result run_load(const options& opts) {
  run_result r;
  r.opts = opts;
  r.kernel = kernel_name();
  r.started_at = utc_now();
  r.target_connections = opts.target_connections();
  r.pre = preflight(opts);

  std::vector<asio::ip::tcp::endpoint> targets;
  for (const auto& t : opts.targets) {
    targets.push_back(resolve(t));
    r.targets.push_back(targets.back().address().to_string() + ":" + std::to_string(targets.back().port()));
  }
  r.target = r.targets.front();
  const spread_plan spread = plan(opts, r, targets);
  for (const auto& w : r.pre.warnings) std::fprintf(stderr, "simul-load: warning: %s\n", w.c_str());
  const std::string run_tag = make_run_tag();

  // Children are forked before this process starts any thread (the sampler and the signal
  // handlers are the parent's alone).
  std::unique_ptr<shard> sh;
  if (spread.processes > 1) {
    if (opts.tls) make_client_tls_context(opts.ca_file, opts.insecure);  // a bad --ca-file fails here, once
    sh = make_process_group(opts, targets, spread, run_tag);
  } else {
    options local = opts;
    local.sources = spread.sources.front();
    sh = make_local_shard(local, targets, {0, 1}, run_tag);
  }

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
  const rate_schedule schedule = opts.schedule();
  const auto epoch = clock::now();
  sh->start(epoch);
  monitor mon(r, *sh, epoch, schedule, sampler);

  // Setup: every connection has succeeded or failed, or the ramp plus one timeout has passed.
  // Without --connect-rate, allow for at least 5,000 connects a second.
  if (r.target_connections > 0) {
    double limit = opts.connect_timeout_s + 1.0;
    limit += static_cast<double>(r.target_connections) / (opts.connect_rate > 0 ? opts.connect_rate : 5000.0);
    if (opts.scenario == scenario_kind::chat) limit += 5.0;  // registration and JOIN replies
    const auto setup_deadline = epoch + seconds(limit);
    while (mon.collect(false).setup_finished < r.target_connections && clock::now() < setup_deadline &&
           !interrupted) {
      mon.wait(std::min(setup_deadline, clock::now() + sh->setup_poll()), "setup");
    }
  }

  mon.boundary("setup");
  const auto go_time = clock::now();
  mon.started(go_time);
  r.setup_s = since(epoch, go_time);
  r.connected = mon.collect(false).setup_ok;
  // Nothing connected: nothing to measure, so skip straight to the end.
  const bool measure = (r.target_connections == 0 || r.connected > 0) && !interrupted;
  auto deadline = measure ? go_time + seconds(opts.duration_s) : go_time;
  sh->go(go_time, deadline);

  while (clock::now() < deadline && !interrupted) mon.wait(std::min(deadline, clock::now() + 50ms), "run");
  if (interrupted && measure) {  // report what ran so far, after the usual drain
    deadline = std::min(deadline, clock::now());
    sh->end_early(deadline);
  }
  mon.boundary("run");
  snapshot at_end = mon.collect(false);
  r.held = at_end.c.connections_up;
  if (sampler && r.server->baseline) r.server->held = sampler->sample(since(epoch, clock::now()));

  const auto drain_deadline = deadline + drain_grace;
  while (measure && !drained(opts.scenario, mon.collect(false)) && clock::now() < drain_deadline) {
    mon.wait(std::min(drain_deadline, clock::now() + sh->setup_poll()), "drain");
  }
  r.run_s = since(go_time, deadline);

  // Closing takes time too: 16,667 sockets took a loaded machine over 2 s.
  const auto per_process = (r.target_connections + r.processes - 1) / r.processes;
  shard_totals totals = sh->finish(2s + std::chrono::milliseconds(per_process / 5));
  r.process_failures = sh->failures();
  mon.finish(totals.last, "drain");
  const snapshot& last = totals.last;
  r.totals = last.c;
  r.connect_errors = last.connect_errors;
  r.io_errors = last.io_errors;
  r.latency = totals.latency;
  r.handshakes = totals.handshakes;
  r.cross_target = totals.cross_target;
  r.connected_per_target = last.connected_per_target;
  r.connected_per_target.resize(targets.size());
  if (opts.scenario == scenario_kind::chat) {
    r.chat_expected = expected_deliveries(last.chat_sent_per_room, last.room_members);
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
