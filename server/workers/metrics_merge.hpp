// One Prometheus exposition out of several: the supervisor's own metrics and each worker's,
// every worker sample labelled worker="i". Pure text; no I/O.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace simul::server {

/// A worker's index (1..N) and its /metrics body (Prometheus text format 0.0.4).
using worker_metrics = std::pair<unsigned, std::string>;

/// `own` followed by every worker's samples, grouped by metric family: each family once, with
/// its HELP and TYPE lines (the first seen), then the supervisor's samples as they are (no
/// worker label), then each worker's with `worker="i"` as its first label. Families keep the
/// order in which they first appear; comments other than HELP and TYPE are dropped.
std::string merge_metrics(std::string_view own, const std::vector<worker_metrics>& workers);

/// A sample line with `label` (e.g. worker="2") added as its first label:
/// `a{b="c"} 1` -> `a{worker="2",b="c"} 1`, `a 1` -> `a{worker="2"} 1`.
std::string add_label(std::string_view sample, std::string_view label);

}  // namespace simul::server
