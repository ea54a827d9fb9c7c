// json_report: the machine-readable report (schema "simul-load/1").
#include "client/json_report.hpp"

#include <cstdio>

#include "client/json_writer.hpp"
#include "client/output_file.hpp"

namespace simul::load {

namespace {

void errors_object(json_writer& j, const error_counts& e) {
  j.begin_object();
  for (const auto& [cause, n] : e.by_cause()) j.member(cause, n);
  j.end_object();
}

void sample_object(json_writer& j, const proc_sample& s) {
  j.begin_object()
      .member("t", s.t)
      .member("rss_bytes", s.rss_bytes)
      .member("threads", s.threads)
      .member("fds", s.fds)
      .member("cpu_seconds", s.cpu_seconds)
      .member("cpu_percent", s.cpu_percent)
      .end_object();
}

void metadata(json_writer& j, const run_result& r) {
  const auto& o = r.opts;
  j.key("meta").begin_object();
  j.member("tool", "simul-load").member("version", SIMUL_VERSION).member("git_sha", SIMUL_GIT_SHA);
  j.member("started_at", r.started_at).member("scenario", scenario_name(o.scenario));
  j.key("args").begin_array();
  for (const auto& a : o.args) j.value(a);
  j.end_array();
  j.member("kernel", r.kernel);
  j.key("fd_limit").begin_object().member("soft", r.pre.fd_soft).member("hard", r.pre.fd_hard).end_object();
  j.key("ephemeral_ports").begin_object().member("low", r.pre.port_low).member("high", r.pre.port_high).end_object();
  j.member("threads", r.processes > 1 ? r.threads_per_process * r.processes : o.threads);
  j.key("processes").begin_object().member("count", r.processes).member("threads_each", r.threads_per_process);
  j.key("sources").begin_array();
  for (const auto& s : r.sources) {
    j.begin_array();
    for (auto a : s) j.value(format_ipv4(a));
    j.end_array();
  }
  j.end_array();
  j.member("automatic_sources", r.auto_sources);
  j.key("failures").begin_array();
  for (const auto& f : r.process_failures) j.value(f);
  j.end_array().end_object();
  j.key("target").begin_object().member("host", o.host).member("port", static_cast<unsigned>(o.port));
  j.member("address", r.target).member("model", o.target_model.empty() ? "unknown" : o.target_model).end_object();
  j.key("warnings").begin_array();
  for (const auto& w : r.pre.warnings) j.value(w);
  j.end_array();
  j.end_object();
}

void config(json_writer& j, const options& o) {
  j.key("config").begin_object();
  j.member("duration_s", o.duration_s).member("connect_rate", o.connect_rate);
  j.member("connect_timeout_s", o.connect_timeout_s);
  j.member("connections", static_cast<std::uint64_t>(o.target_connections()));
  j.member("size", static_cast<std::uint64_t>(o.size)).member("rate", o.rate);
  j.member("open_loop", o.scenario == scenario_kind::echo ? o.rate > 0 : o.scenario != scenario_kind::idle);
  j.member("ramp_s", o.ramp_s);
  j.key("stages").begin_array();
  for (const auto& st : o.stages) j.begin_object().member("duration_s", st.duration_s).member("rate", st.target).end_object();
  j.end_array();
  if (o.scenario == scenario_kind::churn) j.member("max_in_flight", static_cast<std::uint64_t>(o.max_in_flight));
  if (o.scenario == scenario_kind::chat) {
    j.member("users", static_cast<std::uint64_t>(o.users)).member("rooms", static_cast<std::uint64_t>(o.rooms));
  }
  j.key("source").begin_array();
  for (auto a : o.sources) j.value(format_ipv4(a));
  j.end_array();
  j.member("processes", o.processes);
  j.key("max_errors");
  if (o.max_errors) j.value(*o.max_errors); else j.null();
  j.key("max_p99_ms");
  if (o.max_p99_ms) j.value(*o.max_p99_ms); else j.null();
  j.end_object();
}

void latency(json_writer& j, const core::histogram& h, const char* key = "latency_us") {
  j.key(key).begin_object();
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  j.member("count", h.count()).member("min", us(h.min())).member("mean", h.mean() / 1e3);
  j.member("p50", us(h.percentile(50))).member("p90", us(h.percentile(90))).member("p99", us(h.percentile(99)));
  j.member("p99_9", us(h.percentile(99.9))).member("p99_99", us(h.percentile(99.99))).member("max", us(h.max()));
  j.end_object();
}

void results(json_writer& j, const run_result& r) {
  const auto& c = r.totals;
  j.key("results").begin_object();
  j.key("connections").begin_object();
  j.member("target", static_cast<std::uint64_t>(r.target_connections));
  j.member("connected", static_cast<std::uint64_t>(r.connected)).member("held_at_end", r.held);
  j.member("attempts", c.connects_started).member("tcp_connected", c.connects_ok);
  j.member("failed", c.connects_failed).member("lost", c.connections_lost);
  j.member("setup_s", r.setup_s);
  j.key("per_target").begin_array();
  for (std::size_t i = 0; i < r.targets.size(); ++i) {
    j.begin_object().member("target", r.targets[i]);
    j.member("connected", i < r.connected_per_target.size() ? r.connected_per_target[i] : 0).end_object();
  }
  j.end_array().end_object();
  j.member("duration_s", r.run_s);
  j.member("messages_sent", c.msgs_sent).member("messages_received", c.msgs_received);
  j.member("bytes_sent", c.bytes_sent).member("bytes_received", c.bytes_received);
  j.member("msgs_per_s", r.msgs_per_s());
  if (r.opts.scenario == scenario_kind::chat) {
    j.key("chat").begin_object();
    j.member("sent", c.msgs_sent).member("expected_deliveries", r.chat_expected);
    j.member("delivered", c.chat_distinct).member("lost", r.chat_lost);
    j.member("duplicated", c.chat_duplicates).member("reordered", c.chat_reordered);
    j.member("unexpected", r.chat_unexpected).member("foreign", c.chat_foreign);
    if (r.targets.size() > 1) latency(j, r.cross_target, "cross_target_latency_us");
    j.end_object();
  }
  j.end_object();
}

void series(json_writer& j, const run_result& r) {
  j.key("timeseries").begin_array();
  for (const auto& p : r.series) {
    j.begin_object().member("t", p.t).member("interval_s", p.interval_s).member("phase", p.phase);
    j.member("connections_requested", p.requested).member("connections_failed", p.failed);
    j.member("connections_up", p.up).member("connections_target", static_cast<std::uint64_t>(r.target_connections));
    j.member("messages", p.msgs).member("msgs_per_s", p.msgs_per_s).member("errors", p.errors);
    j.member("latency_count", p.latency_count);
    j.key("offered_rate");
    if (p.offered_rate) j.value(*p.offered_rate); else j.null();
    j.key("p50_us");
    if (p.latency_count) j.value(static_cast<double>(p.p50_ns) / 1e3); else j.null();
    j.key("p99_us");
    if (p.latency_count) j.value(static_cast<double>(p.p99_ns) / 1e3); else j.null();
    j.key("max_us");
    if (p.latency_count) j.value(static_cast<double>(p.max_ns) / 1e3); else j.null();
    j.end_object();
  }
  j.end_array();
}

void server(json_writer& j, const run_result& r) {
  j.key("server");
  if (!r.server) {
    j.null();
    return;
  }
  const auto& s = *r.server;
  j.begin_object().member("pid", s.pid).member("command_line", s.command_line);
  j.key("baseline");
  if (s.baseline) sample_object(j, *s.baseline); else j.null();
  j.key("held");
  if (s.held) sample_object(j, *s.held); else j.null();
  j.key("per_connection");
  if (s.baseline && s.held && r.held > 0) {
    const double n = static_cast<double>(r.held);
    j.begin_object();
    j.member("connections", r.held);
    j.member("rss_bytes", (static_cast<double>(s.held->rss_bytes) - static_cast<double>(s.baseline->rss_bytes)) / n);
    j.member("threads", (static_cast<double>(s.held->threads) - static_cast<double>(s.baseline->threads)) / n);
    j.member("fds", (static_cast<double>(s.held->fds) - static_cast<double>(s.baseline->fds)) / n);
    j.end_object();
  } else {
    j.null();
  }
  j.key("samples").begin_array();
  for (const auto& p : s.samples) sample_object(j, p);
  j.end_array();
  j.end_object();
}

}  // namespace

std::string json_report(const run_result& r) {
  json_writer j;
  j.begin_object();
  j.member("schema", "simul-load/1");
  metadata(j, r);
  config(j, r.opts);
  results(j, r);
  latency(j, r.latency);
  if (r.opts.tls) {
    j.key("tls").begin_object();
    j.member("handshakes", r.handshakes.count()).member("handshakes_per_s", r.handshakes_per_s());
    latency(j, r.handshakes, "handshake_latency_us");
    j.end_object();
  }
  j.key("errors").begin_object();
  j.member("total", r.errors_total());
  j.key("connect");
  errors_object(j, r.connect_errors);
  j.key("run");
  errors_object(j, r.io_errors);
  error_counts all = r.connect_errors;
  all.merge(r.io_errors);
  j.key("by_cause");
  errors_object(j, all);
  j.end_object();
  j.key("verdict").begin_object().member("exit_code", r.exit_code);
  j.key("failures").begin_array();
  for (const auto& f : r.failures) j.value(f);
  j.end_array().end_object();
  series(j, r);
  server(j, r);
  j.end_object();
  return j.str();
}

std::string write_json_report(const run_result& r, const std::string& path) {
  return write_file_atomically(path, json_report(r));
}

}  // namespace simul::load
