// Prometheus exposition and the tiny HTTP/1.0 responder behind the metrics listener.
#include "server/common/metrics.hpp"

#include <cstdio>
#include <sstream>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "server/common/process_info.hpp"

namespace simul::server {

std::string_view to_string(service s) noexcept {
  switch (s) {
    case service::echo: return "echo";
    case service::chat: return "chat";
    case service::metrics: return "metrics";
  }
  return "unknown";
}

std::string_view to_string(disconnect_reason r) noexcept {
  switch (r) {
    case disconnect_reason::client: return "client";
    case disconnect_reason::idle: return "idle";
    case disconnect_reason::error: return "error";
    case disconnect_reason::sendq: return "sendq";
    case disconnect_reason::flood: return "flood";
    case disconnect_reason::ping: return "ping";
    case disconnect_reason::registration: return "registration";
    case disconnect_reason::shutdown: return "shutdown";
    case disconnect_reason::rejected: return "rejected";
    case disconnect_reason::killed: return "killed";
    case disconnect_reason::handshake: return "handshake";
  }
  return "unknown";
}

std::string_view to_string(tls_failure f) noexcept {
  switch (f) {
    case tls_failure::timeout: return "timeout";
    case tls_failure::closed: return "closed";
    case tls_failure::version: return "version";
    case tls_failure::cipher: return "cipher";
    case tls_failure::certificate: return "certificate";
    case tls_failure::protocol: return "protocol";
    case tls_failure::shutdown: return "shutdown";
  }
  return "unknown";
}

namespace {

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

std::string response(const char* status, std::string_view content_type, std::string_view body) {
  std::string r = "HTTP/1.0 ";
  r += status;
  r += "\r\nContent-Type: ";
  r += content_type;
  r += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  r += body;
  return r;
}

void render_tls(std::ostringstream& out, const tls_stats& t) {
  family(out, "simul_tls_connections", "gauge", "Open TLS sessions (handshake done).");
  out << "simul_tls_connections{service=\"echo\"} " << t.connections[0].get() << '\n';
  out << "simul_tls_connections{service=\"chat\"} " << t.connections[1].get() << '\n';
  family(out, "simul_tls_handshake_failures_total", "counter", "TLS handshakes that failed, by reason.");
  for (std::size_t i = 0; i < tls_failure_count; ++i)
    out << "simul_tls_handshake_failures_total{reason=\"" << to_string(static_cast<tls_failure>(i)) << "\"} "
        << t.handshake_failures[i].get() << '\n';
  family(out, "simul_tls_handshake_duration_seconds", "histogram", "Time from accept to a completed TLS handshake.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < t.handshake_buckets.size(); ++i) {
    cumulative += t.handshake_buckets[i].get();
    out << "simul_tls_handshake_duration_seconds_bucket{le=\"";
    if (i < tls_stats::bucket_seconds.size())
      out << tls_stats::bucket_seconds[i];
    else
      out << "+Inf";
    out << "\"} " << cumulative << '\n';
  }
  out << "simul_tls_handshake_duration_seconds_sum " << static_cast<double>(t.handshake_microseconds_total.get()) / 1e6
      << '\n';
  out << "simul_tls_handshake_duration_seconds_count " << cumulative << '\n';
  family(out, "simul_tls_certificate_reloads_total", "counter",
         "TLS certificate reloads (SIGHUP): applied, or failed (the running certificate stays).");
  out << "simul_tls_certificate_reloads_total{result=\"applied\"} " << t.reloads_total.get() << '\n';
  out << "simul_tls_certificate_reloads_total{result=\"failed\"} " << t.reload_failures_total.get() << '\n';
}

}  // namespace

std::string render_metrics(const stats& st, bool draining, model_kind model) {
  std::ostringstream out;
  const service all[] = {service::echo, service::chat, service::metrics};
  auto per_service = [&](const char* name, const char* type, const char* help, auto field) {
    family(out, name, type, help);
    for (auto s : all) out << name << "{service=\"" << to_string(s) << "\"} " << (st.of(s).*field).get() << '\n';
  };
  per_service("simul_connections", "gauge", "Open connections.", &service_stats::connections);
  per_service("simul_connections_accepted_total", "counter", "Connections accepted and served.",
              &service_stats::connections_total);
  per_service("simul_connections_rejected_total", "counter", "Connections refused by a limit.",
              &service_stats::rejected_total);
  per_service("simul_received_bytes_total", "counter", "Bytes read from clients.", &service_stats::bytes_in_total);
  per_service("simul_sent_bytes_total", "counter", "Bytes written to clients.", &service_stats::bytes_out_total);

  family(out, "simul_disconnects_total", "counter", "Connections closed, by service and reason.");
  for (auto svc : {service::echo, service::chat}) {
    for (std::size_t i = 0; i < disconnect_reason_count; ++i)
      out << "simul_disconnects_total{service=\"" << to_string(svc) << "\",reason=\""
          << to_string(static_cast<disconnect_reason>(i)) << "\"} "
          << st.disconnects[static_cast<std::size_t>(svc)][i].get() << '\n';
  }

  auto single = [&](const char* name, const char* type, const char* help, auto v) {
    family(out, name, type, help);
    if constexpr (std::is_floating_point_v<decltype(v)>)
      out << name << ' ' << fmt::format("{:.3f}", v) << '\n';  // seconds: no exponent, ms resolution
    else
      out << name << ' ' << static_cast<std::uint64_t>(v) << '\n';
  };
  single("simul_accept_errors_total", "counter", "accept() failures (EMFILE, ENFILE, ENOBUFS, ...).",
         st.accept_errors_total.get());
  single("simul_chat_lines_received_total", "counter", "Chat lines read.", st.lines_in_total.get());
  single("simul_chat_lines_sent_total", "counter", "Chat lines queued to clients.", st.lines_out_total.get());
  single("simul_chat_users", "gauge", "Registered chat users.", st.chat_users.get());
  single("simul_chat_rooms", "gauge", "Chat rooms with members.", st.chat_rooms.get());
  single("simul_connection_threads", "gauge", "Connection threads (threaded model).", st.threads.get());
  family(out, "simul_config_reloads_total", "counter", "SIGHUP config reloads, by result.");
  out << "simul_config_reloads_total{result=\"applied\"} " << st.reloads_total.get() << '\n';
  out << "simul_config_reloads_total{result=\"failed\"} " << st.reload_failures_total.get() << '\n';
  single("simul_draining", "gauge", "1 while shutting down.", draining ? 1 : 0);
  render_tls(out, st.tls);
  if (st.cluster.enabled.load(std::memory_order_relaxed)) {
    const auto& c = st.cluster;
    single("simul_cluster_up", "gauge", "1 while this node is joined to the chat network.", c.up.get());
    single("simul_cluster_entries_published_total", "counter", "Entries this node added to the network's log.",
           c.published_total.get());
    single("simul_cluster_entries_applied_total", "counter", "Log entries applied to this node's mirror.",
           c.applied_total.get());
    single("simul_cluster_lines_refused_total", "counter",
           "Chat lines refused because the network was unavailable or its queue full.", c.refused_total.get());
    single("simul_cluster_resyncs_total", "counter", "Times this node dropped its chat users and joined again.",
           c.resyncs_total.get());
    single("simul_cluster_nodes_declared_down_total", "counter",
           "Nodes this node declared down (no entry for cluster.lease_seconds).", c.declared_down_total.get());
    single("simul_cluster_queue_bytes", "gauge", "Bytes of commands waiting for Redis.", c.queue_bytes.get());
  }
  family(out, "simul_info", "gauge", "Build and model.");
  out << "simul_info{version=\"" << SIMUL_VERSION << "\",model=\"" << to_string(model) << "\"} 1\n";
  const auto p = read_process_info();
  single("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", p.cpu_seconds);
  single("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
         p.start_time_seconds);
  single("process_max_fds", "gauge", "Maximum number of open file descriptors.", p.max_fds);
  single("process_open_fds", "gauge", "Number of open file descriptors.", p.open_fds);
  single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", p.resident_bytes);
  single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", p.virtual_bytes);
  single("process_threads", "gauge", "OS threads in the process.", p.threads);
  return out.str();
}

void log_stats_line(const stats& st, std::uint64_t& last_in, std::uint64_t& last_out,
                    std::chrono::milliseconds interval) {
  std::uint64_t in = 0, out = 0;
  for (auto& s : st.services) in += s.bytes_in_total.get(), out += s.bytes_out_total.get();
  const auto ms = static_cast<std::uint64_t>(std::max<std::chrono::milliseconds::rep>(interval.count(), 1));
  spdlog::info("stats: echo {} conns, chat {} conns {} users {} rooms, rejected {}, in {} B/s, out {} B/s, rss {} KiB",
               st.of(service::echo).connections.get(), st.of(service::chat).connections.get(), st.chat_users.get(),
               st.chat_rooms.get(), st.of(service::echo).rejected_total.get() + st.of(service::chat).rejected_total.get(),
               (in - last_in) * 1000 / ms, (out - last_out) * 1000 / ms, process_rss_bytes() / 1024);
  last_in = in, last_out = out;
}

bool http_request_complete(std::string_view received) noexcept {
  return received.find("\r\n\r\n") != std::string_view::npos || received.find("\n\n") != std::string_view::npos;
}

std::string http_reply(std::string_view received, const stats& st, bool draining, model_kind model) {
  if (http_request_complete(received)) return http_response(received, st, draining, model);
  return "HTTP/1.0 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n";
}

std::string http_response(std::string_view request, const stats& st, bool draining, model_kind model) {
  auto eol = request.find_first_of("\r\n");
  auto line = request.substr(0, eol);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos) return response("400 Bad Request", "text/plain", "bad request\n");
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 == std::string_view::npos ? std::string_view::npos : sp2 - sp1 - 1);
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (method != "GET" && method != "HEAD") return response("405 Method Not Allowed", "text/plain", "GET only\n");
  std::string r;
  if (target == "/metrics")
    r = response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_metrics(st, draining, model));
  else if (target == "/healthz")
    r = response("200 OK", "text/plain", "ok\n");
  else if (target == "/readyz")
    r = draining               ? response("503 Service Unavailable", "text/plain", "draining\n")
        : !st.cluster.ready()  ? response("503 Service Unavailable", "text/plain", "chat network unavailable\n")
                               : response("200 OK", "text/plain", "ready\n");
  else
    r = response("404 Not Found", "text/plain", "not found\n");
  if (method == "HEAD") r.resize(r.find("\r\n\r\n") + 4);
  return r;
}

}  // namespace simul::server
