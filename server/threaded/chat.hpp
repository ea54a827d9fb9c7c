// Chat service for the threaded model: the core chat hub under one mutex, and per connection
// two threads: a reader (framing, flood control, liveness; it owns the session) and a writer
// that drains the client's bounded SendQ (non-blocking sendmsg; poll until the socket has room or
// the soft-limit deadline). A sender never writes to another client's socket: its deliveries are
// pushed to the recipients' SendQs under the hub mutex, so a slow client holds up only its own
// writer thread.
//
// Locks: hub_mu_ guards the hub and the session table; each session's own mutex guards its
// SendQ and flags. Order: hub_mu_ before a session's mutex, never the other way round.
#pragma once

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "core/chat_hub.hpp"
#include "server/common/config.hpp"
#include "server/common/logging.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

struct threaded_conn;
class thread_spawner;

class threaded_chat {
 public:
  /// `threads` starts the writer threads; `drain_fd` becomes readable when the drain starts.
  threaded_chat(const config& cfg, stats& st, thread_spawner& threads, int drain_fd);
  ~threaded_chat();
  threaded_chat(const threaded_chat&) = delete;
  threaded_chat& operator=(const threaded_chat&) = delete;

  /// Serves one chat connection until it closes. Runs on the connection's thread, which becomes
  /// its reader; starts and joins the writer. Without a writer thread the client is refused.
  void serve(threaded_conn& conn);

  /// Chat output queued and not yet written, over every client. Any thread.
  std::uint64_t queued_bytes();

  /// Applies a reloaded config's chat keys (MOTD, operators). Any thread.
  void reconfigure(const config& cfg);

  /// Tells every chat client "ERROR :Server shutting down" and marks it closing: writers flush
  /// and close; readers stop reading once woken by the drain eventfd. Any thread; idempotent.
  void drain();

 private:
  struct session;

  void reader(session& s);
  void writer(session& s);
  void check_liveness(session& s);
  void decide_locked(session& s, disconnect_reason why);  // the session's mutex held
  // The five below need hub_mu_ held.
  void deliver(core::hub_output out);
  void close_after_flush(session& s, disconnect_reason why);
  // The one close path: ERROR to the client, QUIT to its peers, its queue dropped. Idempotent.
  void stop(session& s, disconnect_reason why);
  void stop_locked(session& s, disconnect_reason why);  // and the session's mutex; no QUIT
  void refuse(threaded_conn& conn, const std::error_code& why);

  stats& stats_;
  thread_spawner& threads_;
  const int drain_fd_;
  std::atomic<core::client_id> next_id_{1};

  std::mutex hub_mu_;
  core::chat_hub hub_;                                       // guarded by hub_mu_
  std::unordered_map<core::client_id, session*> sessions_;  // guarded by hub_mu_
  bool draining_ = false;                                    // guarded by hub_mu_
  log_limiter refuse_log_;                                   // guarded by hub_mu_
};

}  // namespace simul::server
