// Runs one simul-load scenario from start to verdict: preflight, worker threads, the setup phase
// (connection ramp), the measured phase, the drain, the per-second progress and time series.
#pragma once

#include <stdexcept>

#include "client/options.hpp"
#include "client/result.hpp"

namespace simul::load {

/// A problem with the arguments found only when running (e.g. a host that does not resolve).
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs the whole scenario on the calling (main) thread plus opts.threads workers, printing the
/// live progress line to stderr when it is a terminal (and not --quiet). Bounded in time:
/// setup ≤ ramp + connect timeout (+ registration), then --duration, then a short drain.
/// The result's exit_code is not yet judged (see judge()).
run_result run_load(const options& opts);

}  // namespace simul::load
