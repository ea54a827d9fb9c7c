// The --json report: run metadata, configuration, results, latency percentiles, errors by cause,
// the per-second time series and the server samples. Field names are documented in docs/LOAD.md.
#pragma once

#include <string>

#include "client/result.hpp"

namespace simul::load {

/// The whole report as one JSON document.
std::string json_report(const run_result& r);

/// Writes json_report(r) to `path` (atomically: a temporary file renamed into place).
/// Returns an empty string or the error.
std::string write_json_report(const run_result& r, const std::string& path);

}  // namespace simul::load
