// histogram_file: the latency distribution as HdrHistogram percentiles or CSV.
#include "client/histogram_file.hpp"

#include <cmath>
#include <cstdio>
#include <vector>

#include "client/output_file.hpp"

namespace simul::load {

namespace {

struct step {
  double percentile;  // 0..100
  std::uint64_t value_ns;
  std::uint64_t rank;  // values at or below, by the percentile's definition
};

// HdrHistogram's PercentileIterator with 5 ticks per half distance: the step halves each time
// the remaining distance to 100% halves, so the tail gets as many lines as the body. It stops once
// a step resolves less than one recorded value, then adds the 100% line (the max).
std::vector<step> percentile_steps(const core::histogram& h) {
  std::vector<step> out;
  const auto n = static_cast<double>(h.count());
  if (h.count() == 0) return out;
  constexpr double ticks_per_half = 5;
  double p = 0;
  for (int guard = 0; guard < 10'000; ++guard) {
    const auto rank = static_cast<std::uint64_t>(std::max(1.0, std::ceil(p / 100 * n)));
    if (rank >= h.count()) break;
    out.push_back({p, h.percentile(p), rank});
    const double halvings = std::floor(std::log2(100.0 / (100.0 - p)));
    p += 100.0 / (ticks_per_half * std::pow(2.0, halvings + 1));
  }
  out.push_back({100.0, h.max(), h.count()});
  return out;
}

}  // namespace

std::string histogram_hgrm(const core::histogram& h) {
  std::string out = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n";
  char buf[160];
  for (const auto& s : percentile_steps(h)) {
    const double ms = static_cast<double>(s.value_ns) / 1e6;
    const double q = s.percentile / 100;
    if (q < 1) {
      std::snprintf(buf, sizeof buf, "%12.3f %14.12f %10llu %14.2f\n", ms, q, static_cast<unsigned long long>(s.rank),
                    1 / (1 - q));
    } else {
      std::snprintf(buf, sizeof buf, "%12.3f %14.12f %10llu\n", ms, q, static_cast<unsigned long long>(s.rank));
    }
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "#[Mean    = %12.3f, StdDeviation   = %12s]\n", h.mean() / 1e6, "n/a");
  out += buf;
  std::snprintf(buf, sizeof buf, "#[Max     = %12.3f, Total count    = %12llu]\n", static_cast<double>(h.max()) / 1e6,
                static_cast<unsigned long long>(h.count()));
  out += buf;
  return out;
}

std::string histogram_csv(const core::histogram& h) {
  std::string out = "low_us,high_us,count,cumulative,percentile\n";
  const auto total = h.count();
  std::uint64_t seen = 0;
  char buf[128];
  for (std::size_t i = 0; i < core::histogram::bucket_count && seen < total; ++i) {
    const auto n = h.count_in(i);
    if (n == 0) continue;
    seen += n;
    const auto low = core::histogram::bucket_low(i);
    const auto high = low + core::histogram::bucket_width(i);
    std::snprintf(buf, sizeof buf, "%.3f,%.3f,%llu,%llu,%.6f\n", static_cast<double>(low) / 1e3,
                  static_cast<double>(high) / 1e3, static_cast<unsigned long long>(n),
                  static_cast<unsigned long long>(seen), 100.0 * static_cast<double>(seen) / static_cast<double>(total));
    out += buf;
  }
  return out;
}

std::string write_histogram(const core::histogram& h, const std::string& path) {
  const bool hgrm = path.size() >= 5 && path.compare(path.size() - 5, 5, ".hgrm") == 0;
  return write_file_atomically(path, hgrm ? histogram_hgrm(h) : histogram_csv(h));
}

}  // namespace simul::load
