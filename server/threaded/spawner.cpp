// Connection threads with a bounded stack, counted and awaited.
#include "server/threaded/spawner.hpp"

#include <unistd.h>

#include <chrono>
#include <exception>
#include <memory>

#include <spdlog/spdlog.h>

namespace simul::server {

namespace {
struct job {
  thread_spawner* owner;
  std::function<void()> fn;
};
}  // namespace

thread_spawner::thread_spawner(std::size_t stack_bytes, counter& gauge) noexcept : gauge_(gauge) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  stack_bytes_ = (stack_bytes + page - 1) / page * page;
}

std::error_code thread_spawner::start(std::function<void()> fn, pthread_t* joinable) {
  std::unique_ptr<job> j;
  try {
    j = std::make_unique<job>(job{this, std::move(fn)});
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  {
    // Counted before the thread exists, so wait_idle() can never miss it.
    std::lock_guard lock(mu_);
    ++live_;
    gauge_.add();
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes_);
  pthread_attr_setdetachstate(&attr, joinable ? PTHREAD_CREATE_JOINABLE : PTHREAD_CREATE_DETACHED);
  pthread_t tid;
  int err = pthread_create(&tid, &attr, &thread_spawner::trampoline, j.get());
  pthread_attr_destroy(&attr);
  if (err != 0) {
    finished();
    return {err, std::generic_category()};
  }
  j.release();  // the thread owns it now
  if (joinable) *joinable = tid;
  return {};
}

void* thread_spawner::trampoline(void* arg) {
  thread_spawner* owner = nullptr;
  {
    std::unique_ptr<job> j(static_cast<job*>(arg));
    owner = j->owner;
    try {
      j->fn();
    } catch (const std::exception& e) {
      spdlog::error("connection thread ended by exception: {}", e.what());
    } catch (...) {
      spdlog::error("connection thread ended by an unknown exception");
    }
  }  // the function and what it captured are gone before the owner hears we are done
  owner->finished();
  return nullptr;
}

void thread_spawner::finished() noexcept {
  // Notified under the lock: once wait_idle() returns, no finished thread touches *this again.
  std::lock_guard lock(mu_);
  --live_;
  gauge_.sub();
  if (live_ == 0) idle_.notify_all();
}

void thread_spawner::wait_idle() {
  std::unique_lock lock(mu_);
  while (!idle_.wait_for(lock, std::chrono::seconds(5), [&] { return live_ == 0; }))
    spdlog::warn("still waiting for {} connection threads to finish", live_);
}

std::size_t thread_spawner::live() const {
  std::lock_guard lock(mu_);
  return live_;
}

}  // namespace simul::server
