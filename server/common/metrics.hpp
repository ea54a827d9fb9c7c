// The metrics listener's HTTP/1.0 handling, shared by both models: request parsing, the
// Prometheus text exposition (format 0.0.4), /healthz and /readyz. No I/O here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "server/common/models.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// Largest request head the metrics listener reads before answering 431.
inline constexpr std::size_t max_http_request_bytes = 8192;

/// How long a metrics client may take to send its request; then it is closed unanswered.
inline constexpr std::chrono::seconds metrics_request_timeout{10};

/// Whether `received` holds a complete request head (ends in a blank line).
bool http_request_complete(std::string_view received) noexcept;

/// The full HTTP/1.0 response (status line, headers, body) to a request head.
/// `draining` makes /readyz answer 503. Safe to call from any thread.
std::string http_response(std::string_view request, const stats& st, bool draining, model_kind model);

/// What the metrics listener answers to the bytes it read: http_response() for a complete
/// request head, 431 for one that passed max_http_request_bytes without ending.
std::string http_reply(std::string_view received, const stats& st, bool draining, model_kind model);

/// What a metrics listener answers, for a server that computes the answers itself (the
/// supervisor of worker processes): the /metrics body, and whether /readyz is 200 ("ready\n")
/// or 503 with `not_ready` as the body.
struct http_answers {
  std::string_view metrics;
  bool ready = true;
  std::string_view not_ready = "draining\n";
};

/// The path of a GET or HEAD request ("/metrics"), without its query; empty for anything else.
std::string_view http_target(std::string_view request) noexcept;

/// The full HTTP/1.0 response to a request head, from `answers`.
std::string http_response(std::string_view request, const http_answers& answers);

/// Prometheus text for all counters plus process RSS, open fds and threads (from /proc/self).
std::string render_metrics(const stats& st, bool draining, model_kind model);

/// The "# HELP" and "# TYPE" lines that open a metric family.
void metric_family(std::ostream& out, std::string_view name, std::string_view type, std::string_view help);

/// Prometheus text for the standard process_* metrics of this process (from /proc/self).
std::string render_process_metrics();

/// Logs the periodic one-line stats summary at info. `last_in`/`last_out` carry the byte
/// totals between calls (start them at 0); rates are per second over `interval`.
void log_stats_line(const stats& st, std::uint64_t& last_in, std::uint64_t& last_out,
                    std::chrono::milliseconds interval);

}  // namespace simul::server
