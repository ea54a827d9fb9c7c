// Chat service for the async model: the core chat hub and the live sessions it delivers to.
// Each connection has a reader and a writer coroutine; outgoing lines go through the client's
// bounded SendQ; a broadcast shares one immutable buffer among all recipients.
// Everything here runs on the loop thread only.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/steady_timer.hpp>

#include "core/chat_hub.hpp"
#include "core/chat_liveness.hpp"
#include "core/flood_gate.hpp"
#include "core/sendq.hpp"
#include "server/cluster/chat_network.hpp"
#include "server/async/connection.hpp"
#include "server/async/stream.hpp"
#include "server/common/config.hpp"
#include "server/common/stats.hpp"

namespace simul::server {

/// One chat connection, whatever its stream: what its reader, its writer and the hub's
/// deliveries share. Closing has two forms: close_after_flush() (stop reading, let the writer
/// send what is queued, then close) and connection::stop() (close now, the queue dropped).
class chat_session : public connection {
 public:
  chat_session(const config& cfg, const asio::any_io_executor& ex, core::client_id i);

  /// Stops reading; the writer flushes the queue within chat_flush_deadline, then closes.
  /// The first decision's reason counts. Idempotent.
  void close_after_flush(disconnect_reason why);
  bool closing() const noexcept { return closing_; }

  /// Stops now and sends `ERROR :<why>` best-effort as the last line (SendQ, flood).
  void stop_with_error(disconnect_reason why);

  const core::client_id id;
  core::sendq queue;
  core::flood_gate gate;
  core::liveness live;
  asio::steady_timer wake;                 // the writer's deadlines; a delivery to an idle writer cancels it
  asio::steady_timer pause;                // the reader's flood throttle and flush deadline
  asio::cancellation_signal stop_reading;  // ends the reader's wait for input
  bool writer_done = false;
  bool writer_idle = false;                // the writer sleeps on `wake` until a deadline
  bool flush_queued = false;               // in async_chat's list of idle writers to flush
  std::string last_words;                  // written best-effort after a stop_with_error()

  /// A non-blocking write of queued lines, for the flush of a delivery to an idle writer.
  virtual std::size_t write_lines(std::span<const asio::const_buffer> lines, asio::error_code& ec) = 0;

 protected:
  void on_stop(disconnect_reason why) override;
  virtual void cancel_stream() = 0;

 private:
  bool closing_ = false;
};

/// A chat session over a concrete stream.
template <session_stream Stream>
class chat_client final : public chat_session {
 public:
  chat_client(Stream& s, const config& cfg, core::client_id i) : chat_session(cfg, s.get_executor(), i), stream(s) {}
  Stream& stream;

  std::size_t write_lines(std::span<const asio::const_buffer> lines, asio::error_code& ec) override {
    return stream.write_some(lines, ec);
  }

 private:
  void cancel_stream() override {
    asio::error_code ec;
    stream.cancel(ec);
  }
};

class async_chat final : public chat_network::sink {
 public:
  async_chat(const config& cfg, stats& st);
  ~async_chat();

  /// Makes this chat a node of a chat network (cluster.redis): from now on the sessions hand
  /// their events to `net`, which gives back what to deliver (apply, reset). Before any client;
  /// `net` outlives the sessions' use of it (the server owns both).
  void join(chat_network& net);

  /// A new client's id; 0 when a network node is not joined (the client is refused).
  core::client_id next_id() noexcept { return net_ ? net_->next_id() : next_id_++; }

  /// Serves one chat connection until it closes. `scratch` is a read buffer shared by all
  /// sessions (used between suspensions only).
  template <session_stream Stream>
  asio::awaitable<void> serve(chat_client<Stream>& s, std::span<char> scratch);

  /// Chat output queued and not yet written, over every client.
  std::uint64_t queued_bytes() const noexcept;

  /// Applies a reloaded config's chat keys (MOTD, operators).
  void reconfigure(const config& cfg);

  /// Tells every chat client "ERROR :Server shutting down" and starts flushing and closing them.
  void drain();

 private:
  template <session_stream Stream>
  asio::awaitable<void> reader(chat_client<Stream>& s, std::span<char> scratch);
  template <session_stream Stream>
  asio::awaitable<void> writer(chat_client<Stream>& s);
  /// The chat state: the hub, or the network's mirror of it.
  core::chat_hub& hub() { return net_ ? net_->hub() : *hub_; }
  void deliver(core::hub_output out);
  /// What the hub's answer to `s`'s own line means for `s`: registration done, or QUIT.
  void acted(chat_session& s, const core::hub_output& out, clock::time_point now);
  // chat_network::sink: what the network's log gives back.
  void apply(core::client_id actor, core::hub_output out) override;
  void reset(std::string_view why) override;
  /// One line for one local client, outside the hub (ERROR before a close, a network NOTICE).
  void tell(chat_session& s, std::string line);
  /// A line was queued for `s`, whose queue was empty: have its writer send it.
  void wake_writer(chat_session& s);
  /// Writes, in one posted pass, the first batch of every idle writer that got lines since
  /// the last pass; only a writer with more left (or a full socket) is woken.
  void flush();
  /// Writes the first batch (chat_write_batch_bytes) of `s`'s queue without waiting, counts it
  /// and takes it off the queue; on an error (would_block: a full socket) nothing is taken.
  std::size_t write_batch(chat_session& s, asio::error_code& ec);
  /// Cuts a client off for `why`: ERROR to it, QUIT to its peers, its queue dropped.
  void kill(chat_session& s, disconnect_reason why);
  /// The writer's deadlines (SendQ soft limit, registration, PING, Ping timeout) came.
  void on_deadline(chat_session& s);

  const config& cfg_;
  stats& stats_;
  std::optional<core::chat_hub> hub_;   // standalone; a network node uses net_->hub()
  chat_network* net_ = nullptr;        // set when a node of a chat network
  std::unordered_map<core::client_id, chat_session*> sessions_;
  std::vector<chat_session*> flush_list_;  // idle writers with lines (wake_writer), for flush()
  std::vector<chat_session*> flushing_;
  bool flush_posted_ = false;
  core::client_id next_id_ = 1;
  bool draining_ = false;
};

}  // namespace simul::server
