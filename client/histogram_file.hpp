// --histogram FILE: the whole latency distribution, for plotting. Two formats, by the file name:
// "*.hgrm" is HdrHistogram's percentile distribution (what wrk2 --u_latency and HdrHistogram's
// outputPercentileDistribution print, and what its plotter reads); anything else is CSV with
// every non-empty bucket of the histogram and its count.
#pragma once

#include <string>

#include "core/histogram.hpp"

namespace simul::load {

/// HdrHistogram-style percentile distribution, values in milliseconds: "Value Percentile
/// TotalCount 1/(1-Percentile)" lines at percentiles 0, 50, 75, 87.5, ... (5 steps per halving of
/// the remaining distance, as HdrHistogram iterates), a final 100% line, and the Mean/Max footer.
/// TotalCount is the rank of the percentile's value (ceil(p * count)).
std::string histogram_hgrm(const core::histogram& h);

/// The whole histogram as CSV, for plotting: a header, then one row per non-empty bucket in
/// rising order, "low_us,high_us,count,cumulative,percentile": the bucket's range [low, high) in
/// microseconds, its count, the count up to and including it, and that as a percentage of all.
/// The counts sum to h.count(); the last row's cumulative is h.count() and its percentile 100.
std::string histogram_csv(const core::histogram& h);

/// Writes the format the path's extension selects. Returns an empty string or the error.
std::string write_histogram(const core::histogram& h, const std::string& path);

}  // namespace simul::load
