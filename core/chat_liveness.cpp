// liveness: registration deadline, then PING after silence and a deadline for any reply.
#include "core/chat_liveness.hpp"

#include "core/errc.hpp"

namespace simul::core {

liveness::liveness(const timeouts& t, clock::time_point connected_at) noexcept
    : registration_(t.registration),
      interval_(t.ping_interval),
      timeout_(t.ping_timeout),
      connected_at_(connected_at),
      last_activity_(connected_at) {}

void liveness::on_activity(clock::time_point now) noexcept {
  last_activity_ = now;
  ping_sent_ = false;  // anything from the client proves it is alive, not only PONG
}

void liveness::on_registered(clock::time_point now) noexcept {
  registered_ = true;
  on_activity(now);
}

liveness::decision liveness::poll(clock::time_point now) noexcept {
  if (!registered_) {
    if (registration_.count() > 0 && now >= connected_at_ + registration_) {
      return {action::close, errc::registration_timeout};
    }
    return {};
  }
  if (interval_.count() == 0) return {};
  if (ping_sent_) {
    if (timeout_.count() > 0 && now >= ping_sent_at_ + timeout_) return {action::close, errc::ping_timeout};
    return {};
  }
  if (now >= last_activity_ + interval_) {
    ping_sent_ = true;
    ping_sent_at_ = now;
    return {action::send_ping, {}};
  }
  return {};
}

liveness::clock::time_point liveness::next_deadline() const noexcept {
  if (!registered_) {
    return registration_.count() > 0 ? connected_at_ + registration_ : clock::time_point::max();
  }
  if (interval_.count() == 0) return clock::time_point::max();
  if (ping_sent_) return timeout_.count() > 0 ? ping_sent_at_ + timeout_ : clock::time_point::max();
  return last_activity_ + interval_;
}

}  // namespace simul::core
