// report: text formatting and the verdict.
#include "client/report.hpp"

#include <algorithm>
#include <cstdio>

namespace simul::load {

std::string format_latency(std::uint64_t ns) {
  char buf[32];
  const double v = static_cast<double>(ns);
  if (ns < 1000) std::snprintf(buf, sizeof buf, "%lluns", static_cast<unsigned long long>(ns));
  else if (ns < 1000000) std::snprintf(buf, sizeof buf, "%.1fus", v / 1e3);
  else if (ns < 1000000000) std::snprintf(buf, sizeof buf, "%.2fms", v / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2fs", v / 1e9);
  return buf;
}

std::string format_count(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format_bytes(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = bytes < 0 ? -bytes : bytes;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%s%.0f %s" : "%s%.1f %s", bytes < 0 ? "-" : "", v, units[u]);
  return buf;
}

std::string progress_line(const series_point& p, std::size_t target) {
  char buf[200];
  std::string conns = std::to_string(p.up) + (target ? "/" + std::to_string(target) : std::string());
  std::snprintf(buf, sizeof buf, "[%5.1fs] %-5s conns %-13s msgs/s %-11s p99 %-9s errors %s", p.t,
                p.phase.c_str(), conns.c_str(), format_count(static_cast<std::uint64_t>(p.msgs_per_s)).c_str(),
                p.latency_count ? format_latency(p.p99_ns).c_str() : "-", format_count(p.errors).c_str());
  return buf;
}

void judge(run_result& r) {
  r.failures.clear();
  r.exit_code = 0;
  const auto& o = r.opts;
  if (r.target_connections > 0 && r.connected < r.target_connections) {
    std::string cause = r.connect_errors.empty() ? "no cause recorded" : r.connect_errors.summary();
    r.failures.push_back(std::to_string(r.connected) + "/" + std::to_string(r.target_connections) +
                         " connected: " + cause);
    r.exit_code = 3;
  }
  for (const auto& f : r.process_failures) {
    r.failures.push_back(f);
    if (r.exit_code == 0) r.exit_code = 1;
  }
  if (o.max_errors && r.errors_total() > *o.max_errors) {
    r.failures.push_back("errors " + std::to_string(r.errors_total()) + " > --max-errors " +
                         std::to_string(*o.max_errors));
    if (r.exit_code == 0) r.exit_code = 1;
  }
  if (o.max_p99_ms) {
    const double p99_ms = static_cast<double>(r.latency.percentile(99)) / 1e6;
    if (r.latency.count() == 0) {
      r.failures.push_back("no latency measured, --max-p99 cannot pass");
      if (r.exit_code == 0) r.exit_code = 1;
    } else if (p99_ms > *o.max_p99_ms) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "p99 %s > --max-p99 %gms", format_latency(r.latency.percentile(99)).c_str(),
                    *o.max_p99_ms);
      r.failures.push_back(buf);
      if (r.exit_code == 0) r.exit_code = 1;
    }
  }
}

namespace {

std::string workload(const run_result& r) {
  const auto& o = r.opts;
  char buf[200];
  switch (o.scenario) {
    case scenario_kind::echo:
      if (o.rate > 0) std::snprintf(buf, sizeof buf, "%zu connections, %zu-byte messages, open loop at %g msgs/s each",
                                    o.connections, o.size, o.rate);
      else std::snprintf(buf, sizeof buf, "%zu connections, %zu-byte messages, closed loop", o.connections, o.size);
      break;
    case scenario_kind::idle: std::snprintf(buf, sizeof buf, "%zu idle connections", o.connections); break;
    case scenario_kind::churn:
      std::snprintf(buf, sizeof buf, "%g connections/s, one %zu-byte round trip each", o.rate, o.size);
      break;
    case scenario_kind::chat:
      std::snprintf(buf, sizeof buf, "%zu users in %zu rooms, %g msgs/s each, %zu-byte messages", o.users, o.rooms,
                    o.rate, o.size);
      break;
  }
  std::string out = buf;
  if (!o.stages.empty()) out += "; rate stages " + format_stages(o.stages);
  else if (o.ramp_s > 0) {
    std::snprintf(buf, sizeof buf, "; rate ramped up from 0 over %gs", o.ramp_s);
    out += buf;
  }
  return out;
}

// "127.0.0.1-127.0.0.6": consecutive addresses as ranges, comma-separated.
std::string address_ranges(std::vector<ipv4> all) {
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::string out;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j + 1 < all.size() && all[j + 1] == all[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += format_ipv4(all[i]);
    if (j > i) out += "-" + format_ipv4(all[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace

std::vector<ipv4> run_result::all_sources() const {
  std::vector<ipv4> out;
  for (const auto& s : sources) out.insert(out.end(), s.begin(), s.end());
  return out;
}

std::string text_report(const run_result& r) {
  const auto& o = r.opts;
  std::string out;
  char buf[512];
  const std::string target = r.targets.size() > 1 ? std::to_string(r.targets.size()) + " targets" : r.target;
  if (r.processes > 1) {
    std::snprintf(buf, sizeof buf, "simul-load %s %s: %s, %u processes x %u thread%s, %.2fs\n", SIMUL_VERSION,
                  scenario_name(o.scenario), target.c_str(), r.processes, r.threads_per_process,
                  r.threads_per_process == 1 ? "" : "s", r.run_s);
  } else {
    std::snprintf(buf, sizeof buf, "simul-load %s %s: %s, %u thread%s, %.2fs\n", SIMUL_VERSION,
                  scenario_name(o.scenario), target.c_str(), o.threads, o.threads == 1 ? "" : "s", r.run_s);
  }
  out += buf;
  out += "  " + workload(r) + "\n";
  if (r.targets.size() > 1) {
    out += "  Targets     ";
    for (std::size_t i = 0; i < r.targets.size(); ++i) {
      const auto n = i < r.connected_per_target.size() ? r.connected_per_target[i] : 0;
      out += (i ? ", " : " ") + r.targets[i] + " " + format_count(n) + " connected";
    }
    out += "\n";
  }
  if (r.processes > 1 || r.auto_sources) {
    const auto sources = r.all_sources();
    // churn holds no set of connections: its share is of --max-in-flight.
    const bool churn = r.target_connections == 0;
    const std::size_t total = churn ? o.max_in_flight : r.target_connections;
    std::snprintf(buf, sizeof buf, "  Processes    %u (%s %s each at most)", r.processes,
                  format_count((total + r.processes - 1) / r.processes).c_str(), churn ? "in flight" : "connections");
    out += buf;
    if (!sources.empty())
      out += std::string(", source addresses ") + address_ranges(sources) + (r.auto_sources ? " (automatic)" : "");
    out += "\n";
  }
  if (r.target_connections > 0) {
    std::snprintf(buf, sizeof buf, "  Connections  %zu/%zu connected in %.2fs, %lld held at the end, %s lost\n",
                  r.connected, r.target_connections, r.setup_s, static_cast<long long>(r.held),
                  format_count(r.totals.connections_lost).c_str());
  } else {
    std::snprintf(buf, sizeof buf, "  Connections  %s opened, %s failed\n", format_count(r.totals.connects_ok).c_str(),
                  format_count(r.totals.connects_failed).c_str());
  }
  out += buf;
  if (r.latency.count() > 0) {
    const auto& h = r.latency;
    out += "  Latency        p50       p90       p99     p99.9    p99.99       max      mean\n";
    std::snprintf(buf, sizeof buf, "             %9s %9s %9s %9s %9s %9s %9s\n", format_latency(h.percentile(50)).c_str(),
                  format_latency(h.percentile(90)).c_str(), format_latency(h.percentile(99)).c_str(),
                  format_latency(h.percentile(99.9)).c_str(), format_latency(h.percentile(99.99)).c_str(),
                  format_latency(h.max()).c_str(), format_latency(static_cast<std::uint64_t>(h.mean())).c_str());
    out += buf;
  }
  if (o.tls) {
    const auto& h = r.handshakes;
    std::snprintf(buf, sizeof buf, "  TLS          %s handshakes, %.0f/s; handshake p50 %s p90 %s p99 %s max %s\n",
                  format_count(h.count()).c_str(), r.handshakes_per_s(), format_latency(h.percentile(50)).c_str(),
                  format_latency(h.percentile(90)).c_str(), format_latency(h.percentile(99)).c_str(),
                  format_latency(h.max()).c_str());
    out += buf;
  }
  if (o.scenario != scenario_kind::idle) {
    const double secs = r.run_s > 0 ? r.run_s : 1;
    std::snprintf(buf, sizeof buf, "  %s %s in %.2fs: %s/s, %s/s sent, %s/s received\n",
                  format_count(r.totals.msgs_received).c_str(),
                  o.scenario == scenario_kind::chat ? "deliveries" : "messages", r.run_s,
                  format_count(static_cast<std::uint64_t>(r.msgs_per_s())).c_str(),
                  format_bytes(static_cast<double>(r.totals.bytes_sent) / secs).c_str(),
                  format_bytes(static_cast<double>(r.totals.bytes_received) / secs).c_str());
    out += buf;
  }
  if (o.scenario == scenario_kind::chat) {
    std::snprintf(buf, sizeof buf,
                  "  Chat         %s sent, %s deliveries expected; lost %s, duplicated %s, reordered %s\n",
                  format_count(r.totals.msgs_sent).c_str(), format_count(r.chat_expected).c_str(),
                  format_count(r.chat_lost).c_str(), format_count(r.totals.chat_duplicates).c_str(),
                  format_count(r.totals.chat_reordered).c_str());
    out += buf;
    if (r.targets.size() > 1) {
      const auto& h = r.cross_target;
      std::snprintf(buf, sizeof buf, "  Across targets %s deliveries: p50 %s p90 %s p99 %s max %s\n",
                    format_count(h.count()).c_str(), format_latency(h.percentile(50)).c_str(),
                    format_latency(h.percentile(90)).c_str(), format_latency(h.percentile(99)).c_str(),
                    format_latency(h.max()).c_str());
      out += buf;
    }
  }
  if (r.server && r.server->baseline && r.server->held && r.held > 0) {
    const auto& b = *r.server->baseline;
    const auto& h = *r.server->held;
    const double n = static_cast<double>(r.held);
    const double drss = static_cast<double>(h.rss_bytes) - static_cast<double>(b.rss_bytes);
    const double dthreads = static_cast<double>(h.threads) - static_cast<double>(b.threads);
    std::snprintf(buf, sizeof buf,
                  "  Server pid %d: RSS %s -> %s (%s per connection), threads %llu -> %llu (%+.3f per connection)\n",
                  r.server->pid, format_bytes(static_cast<double>(b.rss_bytes)).c_str(),
                  format_bytes(static_cast<double>(h.rss_bytes)).c_str(), format_bytes(drss / n).c_str(),
                  static_cast<unsigned long long>(b.threads), static_cast<unsigned long long>(h.threads), dthreads / n);
    out += buf;
  }
  if (r.errors_total() == 0) {
    out += "  Errors       0\n";
  } else {
    out += "  Errors       " + format_count(r.errors_total());
    if (!r.connect_errors.empty()) out += "; connect: " + r.connect_errors.summary();
    if (!r.io_errors.empty()) out += "; during the run: " + r.io_errors.summary();
    out += "\n";
  }
  for (const auto& f : r.failures) out += "  FAILED       " + f + "\n";
  return out;
}

}  // namespace simul::load
