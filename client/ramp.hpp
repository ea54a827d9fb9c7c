// The connection ramp of the setup phase: starts a worker's share of the connections at
// --connect-rate (overall), each with a connect slot, until all are started or setup ends.
#pragma once

#include <asio/awaitable.hpp>

#include <cstddef>
#include <functional>

#include "client/worker.hpp"

namespace simul::load {

/// Builds the coroutine of one connection: (worker, connection id, holds a connect slot).
using session_factory = std::function<asio::awaitable<void>(worker&, std::size_t)>;

/// Runs on the worker thread. Connection ids below `total` from worker::first_id() in steps of
/// worker::id_stride() belong to this worker; id starts at epoch + id / rate (at once when rate is 0, limited by connect slots).
/// The session owns the slot it was given and releases it once connected (connection::establish).
/// Ids not started when setup ends count as connect failures ("setup timeout (not started)").
asio::awaitable<void> ramp(worker& w, std::size_t total, session_factory make_session);

}  // namespace simul::load
