// worker: the event-loop thread, phase switches and cross-thread snapshots.
#include "client/worker.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>
#include <exception>

namespace simul::load {

namespace {
constexpr auto nothrow = asio::experimental::as_tuple(asio::use_awaitable);
}

session_base::session_base(worker& w) : w_(w) {
  it_ = w_.sessions_.insert(w_.sessions_.end(), this);
}

session_base::~session_base() { w_.sessions_.erase(it_); }

void session_base::abort(const char* reason) {
  if (aborted_) return;
  aborted_ = true;
  abort_reason_ = reason;
  on_abort();
}

worker::worker(std::size_t index, std::size_t count, run_context& run)
    : run_(run), index_(index), count_(count) {
  if (run.opts.scenario == scenario_kind::chat) stats_.chat_sent_per_room.assign(run.opts.rooms, 0);
  stats_.connected_per_target.assign(run.targets.size(), 0);
}

worker::~worker() {
  if (thread_.joinable()) {
    ctx_.stop();
    thread_.join();
  }
}

void worker::start(std::function<void(worker&)> init) {
  guard_.emplace(ctx_.get_executor());
  asio::post(ctx_, [this, init = std::move(init)] { init(*this); });
  thread_ = std::thread([this] {
    for (;;) {
      try {
        ctx_.run();
        break;
      } catch (const std::exception& e) {
        // A handler threw: record it and keep the loop (and the other sessions) running.
        std::fprintf(stderr, "simul-load: worker %zu: %s\n", index_, e.what());
        stats_.io_errors.add("internal error");
      }
    }
    done_.set_value();
  });
}

void worker::go(clock::time_point start, clock::time_point deadline) {
  std::promise<void> switched;
  asio::post(ctx_, [&] {
    phase_ = run_phase::running;
    go_time_ = start;
    deadline_ = deadline;
    abort_sessions(true, "setup timeout");
    go_timer_.cancel();
    slot_timer_.cancel();
    switched.set_value();
  });
  switched.get_future().wait();
}

void worker::end_early(clock::time_point deadline) {
  asio::post(ctx_, [this, deadline] { deadline_ = std::min(deadline_, deadline); });
}

snapshot worker::collect(bool take_interval) {
  std::promise<snapshot> result;
  asio::post(ctx_, [&] { result.set_value(take_snapshot(stats_, take_interval)); });
  return result.get_future().get();
}

void worker::stop() {
  asio::post(ctx_, [this] {
    phase_ = run_phase::stopping;
    abort_sessions(false, nullptr);
    go_timer_.cancel();
    stop_timer_.cancel();
    slot_timer_.cancel();
    guard_.reset();
  });
}

void worker::join(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return;
  if (done_.get_future().wait_for(grace) != std::future_status::ready) {
    std::fprintf(stderr, "simul-load: worker %zu did not finish in time; stopping it\n", index_);
    ctx_.stop();
  }
  thread_.join();
}

void worker::abort_sessions(bool only_unready, const char* reason) {
  // on_abort() only closes and cancels, so the list is not modified while we walk it.
  for (auto* s : sessions_) {
    if (!only_unready || !s->ready()) s->abort(reason);
  }
}

asio::awaitable<bool> worker::wait_for_go() {
  while (phase_ == run_phase::setup) co_await go_timer_.async_wait(nothrow);
  co_return phase_ == run_phase::running;
}

asio::awaitable<void> worker::wait_for_stop() {
  while (phase_ != run_phase::stopping) co_await stop_timer_.async_wait(nothrow);
}

asio::awaitable<void> worker::acquire_connect_slot() {
  while (pending_connects_ >= max_pending_connects && phase_ == run_phase::setup) {
    co_await slot_timer_.async_wait(nothrow);
  }
  ++pending_connects_;
}

void worker::release_connect_slot() {
  --pending_connects_;
  slot_timer_.cancel_one();
}

void worker::setup_finished(bool ok) {
  if (ok) run_.setup_ok.fetch_add(1, std::memory_order_relaxed);
  run_.setup_finished.fetch_add(1, std::memory_order_release);
}

void worker::spawn(asio::awaitable<void> body) {
  asio::co_spawn(ctx_, std::move(body), [this](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "simul-load: session failed: %s\n", ex.what());
    } catch (...) {
      std::fprintf(stderr, "simul-load: session failed with an unknown exception\n");
    }
    stats_.io_errors.add("internal error");
  });
}

}  // namespace simul::load
