// Human-readable output of simul-load: the live progress line, the final wrk-style report, and the
// verdict (thresholds and the target connection count decide the exit code).
#pragma once

#include <cstdint>
#include <string>

#include "client/result.hpp"

namespace simul::load {

/// "45.2us", "1.20ms", "2.50s" for a latency in nanoseconds.
std::string format_latency(std::uint64_t ns);
/// "1,234,567".
std::string format_count(std::uint64_t n);
/// "12.3 MiB".
std::string format_bytes(double bytes);

/// One progress line: "[  3s] run   conns 100/100  msgs/s 132,456  p99 210us  errors 0".
std::string progress_line(const series_point& p, std::size_t target);

/// Sets r.exit_code and r.failures: 3 when the target connections were not reached (naming the
/// causes, e.g. "0/100 connected: ECONNREFUSED x100"), else 1 when --max-errors or --max-p99 is
/// exceeded, else 0.
void judge(run_result& r);

/// The final report, wrk style, for stdout.
std::string text_report(const run_result& r);

}  // namespace simul::load
