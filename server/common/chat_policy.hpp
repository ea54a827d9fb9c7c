// The chat service's policy, the same in both models: hub settings from the config, the texts
// a closing client and its peers see, the write limits, and how hub output reaches the
// clients' SendQs (deliver). The models supply only how a line is queued and a writer woken.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "core/chat_hub.hpp"
#include "server/common/config.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// How long a closing client has to take its last lines before its socket is closed anyway.
inline constexpr auto chat_flush_deadline = std::chrono::seconds(5);
/// Bytes, and lines, handed to the kernel in one write: fairness between clients.
inline constexpr std::size_t chat_write_batch_bytes = 64 * 1024;
inline constexpr std::size_t chat_write_batch_lines = 64;

/// The hub's settings from the server config (names, MOTD, limits, version).
core::hub_config make_hub_config(const config& cfg);

/// Applies the run-time chat keys of a reloaded config (MOTD, operators) to a hub.
void reconfigure_hub(core::chat_hub& hub, const config& cfg);

/// The ERROR text a client gets when the server closes it for `why`.
std::string_view close_message(disconnect_reason why) noexcept;

/// The QUIT text its room peers see when a client's connection ends for `why`.
std::string_view quit_message(disconnect_reason why) noexcept;

/// The client's last line when the server cuts it off for `why`: "ERROR :<close_message>".
std::string last_words(disconnect_reason why);

/// The disconnect reason for a liveness decision to close (registration or Ping timeout).
disconnect_reason liveness_reason(std::error_code why) noexcept;

/// A PING for client `id` as hub output, to deliver like any other.
core::hub_output ping_output(core::chat_hub& hub, core::client_id id);

/// Copies the hub's user and room counts into the gauges.
void update_chat_gauges(const core::chat_hub& hub, stats& st) noexcept;

/// What a model's push did with one line for one client.
enum class push_result {
  queued,      // in the client's SendQ (its writer woken if it was idle)
  skipped,     // the client is gone or closing for good: nothing queued
  over_limit,  // the SendQ passed its limit: the model has stopped the client (reason sendq)
};

/// Delivers hub output to the clients' SendQs: `push(client_id, const core::shared_line&,
/// time_point now) -> push_result` queues one line for one client; `close(client_id)` closes a
/// client the hub removed (KILL) once its queue is flushed. A client pushed over its SendQ
/// leaves the hub, and the QUIT its peers see is delivered too (a worklist, not recursion).
/// Counts lines_out_total and updates the chat gauges. Call with the hub's lock held where the
/// model has one.
template <class Push, class Close>
void deliver(core::chat_hub& hub, core::hub_output out, stats& st, Push&& push, Close&& close) {
  std::vector<core::hub_output> work;
  work.push_back(std::move(out));
  const auto now = std::chrono::steady_clock::now();
  while (!work.empty()) {
    auto o = std::move(work.back());
    work.pop_back();
    for (auto& d : o.deliveries) {
      for (auto to : d.to) {
        switch (push(to, d.line, now)) {
          case push_result::queued: st.lines_out_total.add(); break;
          case push_result::skipped: break;
          case push_result::over_limit:
            work.push_back(hub.disconnect(to, close_message(disconnect_reason::sendq)));
            break;
        }
      }
    }
    for (auto id : o.close_others) close(id);
  }
  update_chat_gauges(hub, st);
}

}  // namespace simul::server
