// The chat state machine: nicks, rooms and membership, turning client lines into deliveries.
// Sans-IO: it never touches a socket, a clock or a thread. A server feeds it framed lines and
// writes the returned deliveries, in order, to the recipients' output queues.
//
// Thread affinity: none of its own. Not thread-safe: the async server calls it from its one
// io_context thread; the threaded server calls it under one mutex. No call blocks or throws for
// bad input (it may throw std::bad_alloc like any container).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/irc_message.hpp"

namespace simul::core {

using client_id = std::uint64_t;

/// One buffer for many recipients: `line` is one complete wire line (ending in CRLF, never longer
/// than hub_config::max_line_bytes), shared by everyone in `to`. A broadcast is one delivery, not
/// one copy per recipient. `to` never contains a client that was not addressed.
struct delivery {
  shared_line line;
  std::vector<client_id> to;
};

/// What one hub call produced. Deliveries must be queued in order: for any recipient, the order of
/// deliveries is the order the lines must be sent in.
struct hub_output {
  std::vector<delivery> deliveries;
  bool close = false;            // close the acting client once its deliveries are flushed
  bool registered_now = false;   // this call completed the acting client's registration
  /// Other clients the hub removed from the chat (KILL): the server closes each connection once
  /// the deliveries of this output addressed to it (its ERROR line) are flushed. They have already
  /// left the chat (peers saw their QUIT); a later disconnect() for them is a no-op.
  std::vector<client_id> close_others;
};

/// A server operator account (OPER name password). The password is stored only as a crypt(3)
/// hash ("$y$..." yescrypt, "$6$..." SHA-512, ...), e.g. from `mkpasswd -m yescrypt` or
/// `openssl passwd -6`; docs/CHAT.md says how.
struct oper_account {
  std::string name;
  std::string password_hash;
  std::string host_mask = "*";  // nick!user@host mask the OPER must come from
};

/// Parses operator accounts from their config text: entries separated by ',', each
/// "name hash [host_mask]" separated by spaces, e.g. "root $6$salt$... , lan $y$... *!*@10.*".
/// Appends them to `out` and returns "" or the reason the text is wrong (a hash that is not a
/// crypt(3) hash this system supports, e.g. a plain password, is refused).
std::string parse_oper_accounts(std::string_view text, std::vector<oper_account>& out);

struct hub_config {
  std::string server_name = "simul.local";  // prefix of server replies
  std::string network = "simul";            // ISUPPORT NETWORK=
  std::string motd;                         // lines separated by '\n'; empty → 422
  std::size_t nick_len = 30;                // ISUPPORT NICKLEN=
  std::size_t channel_len = 50;             // ISUPPORT CHANNELLEN=
  std::size_t max_line_bytes = 512;         // outgoing lines are truncated to this (incl. CRLF)
  std::string version = "simul-0.1.0";      // 002 and 004
  std::string created;                      // 003 "This server was created <created>"; may be empty
  std::size_t max_rooms_per_user = 0;       // 0 = unlimited; else 405 and ISUPPORT CHANLIMIT=#:<n>
  std::vector<oper_account> operators;      // OPER accounts; empty = OPER always fails (491)
  /// Wall-clock seconds since the epoch, for topic and creation times (333, 329) and WHOIS idle
  /// time (317). Called on the hub's thread; servers pass a real clock, tests a fake one. Empty: 0.
  std::function<std::int64_t()> clock;
};

class chat_state;

/// Hosts longer than this are cut by chat_hub::connect() (an IPv6 address with a zone id fits).
inline constexpr std::size_t max_host_len = 64;

/// The smallest max_line_bytes with which no line of the hub has to cut a nick, user name, host,
/// room name or ISUPPORT token; only free text (messages, topics, reasons, real names) is ever
/// cut to fit. The widest such lines are the WHO reply (352) and ISUPPORT (005). Below it a
/// client could be told a cut nick or room name: the server's config refuses such a limit.
std::size_t min_line_bytes(const hub_config& config);

/// The chat hub. Ids are chosen by the caller (any unique value per live connection).
///
/// Lifecycle of a connection:  connect() → on_line()* → [close requested] → disconnect().
/// - on_line() with QUIT, and make_error_and_close(), already remove the client from the chat
///   (peers see its QUIT) and set `close`; the later disconnect() for that id is then a no-op.
/// - disconnect() for a connection that vanished (EOF, reset, ...) sends QUIT to its peers.
/// - Calls with an unknown id return an empty output (never crash).
class chat_hub {
 public:
  explicit chat_hub(hub_config config);
  ~chat_hub();
  chat_hub(const chat_hub&) = delete;
  chat_hub& operator=(const chat_hub&) = delete;

  /// A new connection from `host` (shown in nick!user@host; cut to max_host_len). Produces nothing.
  void connect(client_id id, std::string host);

  /// One framed line (without CR/LF) from client `id`.
  hub_output on_line(client_id id, std::string_view line);

  /// The framer reported errc::line_too_long: replies 417 ERR_INPUTTOOLONG; the connection stays.
  hub_output on_line_too_long(client_id id);

  /// The connection is gone (EOF, error, or closed by the server for `reason`, e.g. "Ping timeout",
  /// "SendQ exceeded"): peers sharing a room see ":nick!user@host QUIT :<reason>"; all state of the
  /// client is removed. Nothing is addressed to `id` itself. Idempotent.
  hub_output disconnect(client_id id, std::string_view reason);

  /// Sends "ERROR :<msg>" to the client, removes it from the chat (peers see QUIT :<msg>) and sets
  /// close=true, close_reason=msg. For ping timeout, SendQ exceeded, excess flood, too many
  /// connections (works for unregistered clients too).
  hub_output make_error_and_close(client_id id, std::string_view msg);

  /// Server shutdown: one shared "ERROR :<msg>" delivery addressed to every connection; all chat
  /// state is cleared without QUIT broadcasts (everybody is leaving). close=true means: close
  /// every connection once flushed.
  hub_output shutdown(std::string_view msg);

  /// "PING :<server_name>", for the liveness timer (core::liveness says when).
  shared_line make_ping() const;

  bool is_registered(client_id id) const;
  /// The client's nick, or "*" before one is set, or "" for an unknown id. Valid until the next call.
  std::string_view nick(client_id id) const;
  std::size_t users() const noexcept;        // registered clients
  std::size_t rooms() const noexcept;        // non-empty rooms
  std::size_t connections() const noexcept;  // all connected clients, registered or not

  const hub_config& config() const noexcept { return config_; }
  /// Replaces the MOTD (a config reload); clients see it at their next MOTD or registration.
  void set_motd(std::string motd) { config_.motd = std::move(motd); }
  /// Replaces the operator accounts (a config reload); those already opered stay operators.
  void set_operators(std::vector<oper_account> accounts) { config_.operators = std::move(accounts); }

  /// The time every later call reads (unix seconds) instead of config().clock, until reset with
  /// std::nullopt. A cluster node sets each event's timestamp before applying it, so that every
  /// node's hub records the same times.
  void set_time(std::optional<std::int64_t> now) noexcept { time_ = now; }

  /// The whole chat state (clients registered or not, nicks, rooms with their modes, bans,
  /// topics and members in join order, invitations, counters, WHOWAS history; not the config)
  /// as a compact versioned binary snapshot. A hub that load()s it answers every later input
  /// exactly as this one does.
  std::string save() const;

  struct load_result {
    bool ok = false;
    std::string reason;  // why it was refused
    explicit operator bool() const noexcept { return ok; }
  };
  /// Replaces the whole chat state with a snapshot from save(). A snapshot that is not one, of
  /// another version, truncated, corrupted or inconsistent is refused with a reason, and the hub
  /// is then unchanged. The config (and set_time) is kept.
  load_result load(std::string_view snapshot);

 private:
  class context;  // runs one call and collects its output (core/chat_context.hpp)

  std::int64_t now() const { return time_ ? *time_ : config_.clock ? config_.clock() : 0; }

  std::optional<std::int64_t> time_;  // set_time()
  hub_config config_;
  std::unique_ptr<chat_state> state_;  // clients, nicks, rooms (core/chat_state.hpp)
};

}  // namespace simul::core
