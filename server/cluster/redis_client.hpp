// An asynchronous Redis client on an io_context: Debian's hiredis (0.14) driven through a small
// Asio adapter (the hiredis fd waited on with async_wait; no extra threads), with connect
// timeout, reconnection with back-off and a bound on the bytes of unanswered commands.
//
// Thread affinity: every member, and every callback it makes, runs on the io_context's thread
// (the one thread that runs it). Destroy the client before its io_context.
#pragma once

#include <hiredis/hiredis.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace simul::cluster {

struct redis_options {
  std::string host = "127.0.0.1";  // an address or a host name (resolved asynchronously)
  std::uint16_t port = 6379;
  /// Bound on one connection attempt: resolve + TCP connect + the first PING's answer.
  std::chrono::milliseconds connect_timeout{2000};
  /// Reconnect back-off: the wait before the next attempt starts at backoff_min and doubles
  /// after each failed attempt up to backoff_max; each wait is drawn from [d/2, d] (jitter).
  std::chrono::milliseconds backoff_min{100}, backoff_max{5000};
  /// Bytes of commands sent or queued but not yet answered (wire size); past it command() refuses.
  std::size_t max_pending_bytes = 8u << 20;
};

class redis_link;  // one hiredis connection (redis_client.cpp)
struct redis_hooks;

/// One logical connection to one Redis server, re-established after every loss until stop().
///
/// "Up" means Redis answered a PING on the new connection (a stopped or overloaded Redis whose
/// kernel still accepts TCP is not up). Commands are pipelined; replies come back in order.
///
/// Callbacks: a command's callback is called exactly once with the reply (an error reply is
/// a reply: type REDIS_REPLY_ERROR), or with nullptr when the connection is lost before the
/// answer, unless stop() or the destructor comes first: then it is dropped (destroyed, never
/// called). The reply is valid during the call only. Any callback may call any member,
/// including stop(), start() and destroying the client; nothing is touched after that.
class redis_client {
 public:
  using callback = std::function<void(const redisReply* reply)>;

  redis_client(asio::io_context& io, redis_options o);
  ~redis_client();  // stop(): pending callbacks are dropped; no callback runs afterwards
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  /// Connects now, and again with back-off after every loss or failed attempt, until stop().
  /// A no-op while started.
  void start();
  /// Closes the connection and stops reconnecting. Pending callbacks are dropped; on_down is
  /// not called for this close. start() may be called again later.
  void stop();
  bool connected() const noexcept;

  std::function<void()> on_up;                      // each time a connection is established
  /// Each time it is lost or a connection attempt fails (not for stop()); called from the
  /// io_context's queue, never from inside a command callback.
  std::function<void(std::string reason)> on_down;

  /// Sends one command (argv form, binary safe). Returns false, and queues nothing, when not
  /// connected or when the pending bytes would exceed max_pending_bytes. No waiting for replies.
  bool command(std::initializer_list<std::string_view> argv, callback cb);
  bool command(const std::vector<std::string_view>& argv, callback cb);

  /// Wire bytes of the commands sent or queued on this connection and not yet answered.
  std::size_t pending_bytes() const noexcept;

  struct counters {
    std::uint64_t connects = 0;       // connections established (on_up calls)
    std::uint64_t disconnects = 0;    // losses and failed attempts (on_down calls)
    std::uint64_t commands = 0;       // commands accepted by command()
    std::uint64_t refused_full = 0;   // command() refused: max_pending_bytes
    std::uint64_t refused_down = 0;   // command() refused: not connected
    std::uint64_t errors = 0;         // error replies (REDIS_REPLY_ERROR) received
  };
  counters stats() const noexcept { return stats_; }

  const redis_options& options() const noexcept { return opt_; }

 private:
  friend class redis_link;
  friend struct redis_hooks;

  bool send(const std::string_view* argv, std::size_t argc, callback cb);
  void attempt();                                  // one connection attempt (resolve if needed)
  void connect_to(const std::string& address);
  void handshake_done(const redisReply* reply);    // the PING's answer on the current link
  void fail(std::string reason);                   // drop the link, report, schedule a retry
  void detach();                                   // drop the link without a report
  void schedule_retry();

  asio::io_context& io_;
  redis_options opt_;
  asio::steady_timer connect_timer_;
  asio::steady_timer retry_timer_;
  asio::ip::tcp::resolver resolver_;
  std::shared_ptr<redis_link> link_;
  std::shared_ptr<char> life_;                     // handlers hold a weak_ptr: "client still here"
  std::uint64_t attempt_ = 0;                      // which attempt a handler belongs to
  bool started_ = false;
  std::chrono::milliseconds delay_;
  std::minstd_rand rng_;
  counters stats_;
};

}  // namespace simul::cluster
