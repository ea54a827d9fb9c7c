// Starts the threaded model's connection threads: a fixed stack size (threaded.stack_kib) so the
// memory a connection may use is known, a count of live threads (the `threads` gauge), and a
// way to wait until every one of them has finished.
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <system_error>

#include "server/common/stats.hpp"

namespace simul::server {

class thread_spawner {
 public:
  /// Threads get `stack_bytes` of stack (rounded up to whole pages); `gauge` follows the number
  /// of live threads started here.
  thread_spawner(std::size_t stack_bytes, counter& gauge) noexcept;
  thread_spawner(const thread_spawner&) = delete;
  thread_spawner& operator=(const thread_spawner&) = delete;

  /// Runs `fn` on a new thread, detached, or joinable when `joinable` is given (the caller must
  /// then pthread_join it). An exception escaping `fn` is logged, never fatal. Returns the error
  /// when no thread could be made (EAGAIN: out of threads or memory); `fn` is then not run.
  /// Thread-safe.
  std::error_code start(std::function<void()> fn, pthread_t* joinable = nullptr);

  /// Blocks until every thread started here has finished `fn`. Thread-safe.
  void wait_idle();

  std::size_t live() const;

 private:
  static void* trampoline(void* arg);
  void finished() noexcept;

  std::size_t stack_bytes_;
  counter& gauge_;
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::size_t live_ = 0;  // guarded by mu_
};

}  // namespace simul::server
