// Logging: spdlog to stderr as text or one JSON object per line.
#include "server/common/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "server/common/log_event.hpp"

namespace simul::server {
namespace {

// %* in a pattern: "msg":"<the message, escaped>", then a log_event's fields as more members.
class json_message_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string out = "\"msg\":\"";
    if (const auto* ev = emitting_log_event()) {
      append_json_escaped(out, ev->message());
      out += '"';
      out += ev->json_members();
    } else {
      append_json_escaped(out, std::string_view(msg.payload.data(), msg.payload.size()));
      out += '"';
    }
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<json_message_flag>(); }
};

unsigned log_worker = 0;  // 0: not a worker (a lone server, or the supervisor)

}  // namespace

void set_log_worker(unsigned index) { log_worker = index; }

void setup_logging(const log_config& cfg) {
  auto logger = std::make_shared<spdlog::logger>("simul", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  apply_logging(cfg);
}

void apply_logging(const log_config& cfg) {
  // The logger stays; its formatter and level change (both thread-safe in spdlog), so threads
  // logging meanwhile never see a logger replaced under them.
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  const std::string worker = std::to_string(log_worker);
  if (cfg.format == "json") {
    const std::string field = log_worker == 0 ? "" : "\"worker\":" + worker + ",";
    formatter->add_flag<json_message_flag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","pid":%P,)" + field + "%*}");
  } else {
    const std::string prefix = log_worker == 0 ? "" : "[worker " + worker + "] ";
    formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ " + prefix + "%v");
  }
  auto logger = spdlog::default_logger();
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(cfg.level));
}

bool log_limiter::allow(std::uint64_t& suppressed) {
  auto now = std::chrono::steady_clock::now();
  if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < interval_) {
    ++held_;
    return false;
  }
  last_ = now;
  suppressed = held_;
  held_ = 0;
  return true;
}

}  // namespace simul::server
