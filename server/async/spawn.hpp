// Starting a coroutine on an io_context the way every coroutine of the server is started.
#pragma once

#include <exception>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <spdlog/spdlog.h>

namespace simul::server {

/// co_spawns `task` on `io`; an exception that escapes it is logged with `what` (never a
/// silent `detached`). Call on the loop's thread.
inline void spawn_logged(asio::io_context& io, asio::awaitable<void> task, const char* what) {
  asio::co_spawn(io, std::move(task), [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("{} ended by exception: {}", what, ex.what());
    }
  });
}

}  // namespace simul::server
