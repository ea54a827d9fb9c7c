// redis_client: hiredis' async API on an io_context. See redis_client.hpp.
//
// How hiredis is driven: hiredis asks for readiness through its ev hooks (addRead, delRead,
// addWrite, delWrite, cleanup); a redis_link answers them with one-shot async_waits on a
// stream_descriptor that wraps hiredis' socket, and calls redisAsyncHandleRead/Write when
// they complete. hiredis owns the fd (it closes it in redisFree): the cleanup hook, which
// hiredis calls just before that, release()s the descriptor (cancelling its waits) so Asio
// never closes it.
//
// Lifetimes: the client and its connection (redis_link) are separate objects. A link is shared
// by the client and by every wait in flight, and whoever calls into hiredis holds a reference,
// so a link outlives any hiredis call that may free its context. The client detaches a link
// (owner = nullptr) before freeing it, and every hook and reply trampoline checks the owner
// first: a detached link never calls the client, so a callback may stop or destroy the client.
// If that happens inside a hiredis callback, hiredis defers the free (REDIS_IN_CALLBACK) until
// the callback returns, which is safe because the link, not the client, is what it touches.
#include "server/cluster/redis_client.hpp"

#include <hiredis/async.h>

#include <algorithm>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <utility>

namespace simul::cluster {

namespace {

/// One command in flight: what to call and how many bytes it counts against the cap.
struct pending_command {
  redis_client::callback cb;
  std::size_t bytes;
};

std::size_t decimal_digits(std::size_t n) {
  std::size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

/// The RESP size of a command: "*<argc>\r\n" then "$<len>\r\n<arg>\r\n" per argument.
std::size_t wire_size(const std::string_view* argv, std::size_t argc) {
  std::size_t n = 1 + decimal_digits(argc) + 2;
  for (std::size_t i = 0; i < argc; ++i) n += 1 + decimal_digits(argv[i].size()) + 2 + argv[i].size() + 2;
  return n;
}

}  // namespace

/// One hiredis connection and the descriptor that waits on its socket.
class redis_link : public std::enable_shared_from_this<redis_link> {
 public:
  redis_link(asio::io_context& io, redis_client* owner, redisAsyncContext* ac)
      : owner_(owner), ac_(ac), fd_(io) {}

  ~redis_link() {
    release_descriptor();
    if (ac_ != nullptr) {  // not reached through the client (it closes first); be safe anyway
      ac_->data = nullptr;
      ac_->ev = {};
      redisAsyncFree(ac_);
    }
  }

  /// Installs the hooks and wraps the socket. False if Asio refuses the descriptor.
  bool attach(std::string& reason) {
    ac_->data = this;
    ac_->ev.data = this;
    ac_->ev.addRead = [](void* p) { static_cast<redis_link*>(p)->want(read, true); };
    ac_->ev.delRead = [](void* p) { static_cast<redis_link*>(p)->want(read, false); };
    ac_->ev.addWrite = [](void* p) { static_cast<redis_link*>(p)->want(write, true); };
    ac_->ev.delWrite = [](void* p) { static_cast<redis_link*>(p)->want(write, false); };
    ac_->ev.cleanup = [](void* p) { static_cast<redis_link*>(p)->cleanup(); };
    asio::error_code ec;
    fd_.assign(ac_->c.fd, ec);
    if (ec) reason = "cannot watch the socket: " + ec.message();
    return !ec;
  }

  /// Frees the hiredis context (at once, or when the hiredis callback running now returns).
  /// Callbacks still pending get nullptr and see a detached link if the owner detached first.
  void close() {
    if (ac_ == nullptr || closing_) return;
    closing_ = true;
    auto keep = shared_from_this();
    redisAsyncFree(ac_);
  }

  redisAsyncContext* context() const { return ac_; }

  redis_client* owner_;     // nullptr once the client let go of this link
  bool up_ = false;         // PING answered and no loss seen since
  std::size_t pending_ = 0; // wire bytes of unanswered commands

 private:
  enum direction { read = 0, write = 1 };

  void want(direction d, bool on) {
    wanted_[d] = on;
    if (on) arm(d);
  }

  // One async_wait per direction at a time; hiredis' level-style "keep telling me" is
  // rebuilt by hiredis itself, which re-adds after each Handle call while it still wants.
  void arm(direction d) {
    if (waiting_[d] || ac_ == nullptr || !fd_.is_open()) return;
    waiting_[d] = true;
    fd_.async_wait(d == read ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write,
                   [self = shared_from_this(), d](const asio::error_code& ec) {
                     self->waiting_[d] = false;
                     if (ec || self->ac_ == nullptr || !self->wanted_[d]) return;
                     self->wanted_[d] = false;
                     if (d == read) {
                       redisAsyncHandleRead(self->ac_);
                     } else {
                       redisAsyncHandleWrite(self->ac_);
                     }
                   });
  }

  void release_descriptor() {
    if (fd_.is_open()) (void)fd_.release();  // cancels the waits; hiredis closes the fd
  }

  // hiredis is about to free the context (after a loss, or because close() asked).
  void cleanup() {
    wanted_[read] = wanted_[write] = false;
    release_descriptor();
    redisAsyncContext* ac = ac_;
    ac_ = nullptr;
    up_ = false;
    if (owner_ == nullptr) return;
    std::string reason = ac->err != 0 && ac->errstr != nullptr && *ac->errstr != '\0' ? ac->errstr : "connection closed";
    owner_->fail(std::move(reason));  // detaches this link; the caller of hiredis still holds it
  }

  redisAsyncContext* ac_;
  asio::posix::stream_descriptor fd_;
  bool wanted_[2] = {false, false};
  bool waiting_[2] = {false, false};
  bool closing_ = false;
};

/// hiredis' reply callbacks (members so they may reach the client's private parts).
struct redis_hooks {
  static redis_link* link_of(const redisAsyncContext* ac) { return static_cast<redis_link*>(ac->data); }

// A command's reply (or nullptr: the connection went before the answer).
static void on_reply(redisAsyncContext* ac, void* r, void* privdata) {
  std::unique_ptr<pending_command> p(static_cast<pending_command*>(privdata));
  redis_link* l = link_of(ac);
  if (l == nullptr) return;
  auto* reply = static_cast<const redisReply*>(r);
  l->pending_ -= p->bytes;
  if (reply == nullptr) l->up_ = false;
  if (l->owner_ == nullptr) return;  // stopped or destroyed: dropped
  redis_client::callback cb = std::move(p->cb);
  p.reset();
  if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) ++l->owner_->stats_.errors;
  if (cb) cb(reply);  // last: it may destroy the client
}

// The handshake PING's answer.
static void on_ping(redisAsyncContext* ac, void* r, void*) {
  redis_link* l = link_of(ac);
  if (l == nullptr || l->owner_ == nullptr || r == nullptr) return;  // a loss is reported by cleanup
  l->owner_->handshake_done(static_cast<const redisReply*>(r));
}
};

redis_client::redis_client(asio::io_context& io, redis_options o)
    : io_(io),
      opt_(std::move(o)),
      connect_timer_(io),
      retry_timer_(io),
      resolver_(io),
      life_(std::make_shared<char>()),
      delay_(opt_.backoff_min),
      rng_(std::random_device{}()) {}

redis_client::~redis_client() {
  life_.reset();
  stop();
}

void redis_client::start() {
  if (started_) return;
  started_ = true;
  delay_ = opt_.backoff_min;
  attempt();
}

void redis_client::stop() {
  started_ = false;
  retry_timer_.cancel();
  detach();
}

bool redis_client::connected() const noexcept { return link_ != nullptr && link_->up_; }

std::size_t redis_client::pending_bytes() const noexcept { return link_ != nullptr ? link_->pending_ : 0; }

bool redis_client::command(std::initializer_list<std::string_view> argv, callback cb) {
  return send(argv.begin(), argv.size(), std::move(cb));
}

bool redis_client::command(const std::vector<std::string_view>& argv, callback cb) {
  return send(argv.data(), argv.size(), std::move(cb));
}

bool redis_client::send(const std::string_view* argv, std::size_t argc, callback cb) {
  if (!connected() || argc == 0) {
    ++stats_.refused_down;
    return false;
  }
  const std::size_t bytes = wire_size(argv, argc);
  if (link_->pending_ + bytes > opt_.max_pending_bytes) {
    ++stats_.refused_full;
    return false;
  }
  std::vector<const char*> ptrs(argc);
  std::vector<std::size_t> lens(argc);
  for (std::size_t i = 0; i < argc; ++i) {
    ptrs[i] = argv[i].data();
    lens[i] = argv[i].size();
  }
  auto p = std::make_unique<pending_command>(pending_command{std::move(cb), bytes});
  if (redisAsyncCommandArgv(link_->context(), redis_hooks::on_reply, p.get(), static_cast<int>(argc), ptrs.data(), lens.data()) !=
      REDIS_OK) {
    ++stats_.refused_down;
    return false;
  }
  (void)p.release();  // owned by hiredis' callback list now; on_reply deletes it
  link_->pending_ += bytes;
  ++stats_.commands;
  return true;
}

void redis_client::attempt() {
  detach();
  const std::uint64_t id = attempt_;
  std::weak_ptr<char> alive = life_;
  connect_timer_.expires_after(opt_.connect_timeout);
  connect_timer_.async_wait([this, alive, id](const asio::error_code& ec) {
    if (alive.expired() || ec || id != attempt_ || !started_ || connected()) return;
    fail("connect timeout (" + std::to_string(opt_.connect_timeout.count()) + " ms)");
  });
  asio::error_code ec;
  const auto address = asio::ip::make_address(opt_.host, ec);
  if (!ec) {
    connect_to(address.to_string());
    return;
  }
  resolver_.async_resolve(opt_.host, std::to_string(opt_.port),
                          [this, alive, id](const asio::error_code& rec, const asio::ip::tcp::resolver::results_type& r) {
                            if (alive.expired() || id != attempt_ || !started_) return;
                            if (rec || r.empty()) {
                              fail("cannot resolve " + opt_.host + ": " + (rec ? rec.message() : "no address"));
                              return;
                            }
                            connect_to(r.begin()->endpoint().address().to_string());
                          });
}

void redis_client::connect_to(const std::string& address) {
  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), opt_.port);
  if (ac == nullptr) {
    fail("out of memory");
    return;
  }
  if (ac->err != 0) {
    std::string reason = ac->errstr;
    redisAsyncFree(ac);
    fail(std::move(reason));
    return;
  }
  redisEnableKeepAlive(&ac->c);
  auto link = std::make_shared<redis_link>(io_, this, ac);
  std::string reason;
  if (!link->attach(reason)) {
    link->owner_ = nullptr;
    link->close();
    fail(std::move(reason));
    return;
  }
  link_ = link;
  // Up only when Redis answers: a stopped Redis's kernel still completes the TCP handshake.
  if (redisAsyncCommand(ac, redis_hooks::on_ping, nullptr, "PING") != REDIS_OK) fail("cannot queue PING");
}

void redis_client::handshake_done(const redisReply* reply) {
  if (reply->type != REDIS_REPLY_STATUS || std::string_view(reply->str, reply->len) != "PONG") {
    std::string what = reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "unexpected reply";
    fail("PING: " + what);
    return;
  }
  link_->up_ = true;
  connect_timer_.cancel();
  delay_ = opt_.backoff_min;
  ++stats_.connects;
  if (on_up) {
    auto f = on_up;  // a copy: on_up may destroy the client (and the member with it)
    f();
  }
}

void redis_client::fail(std::string reason) {
  detach();
  ++stats_.disconnects;
  std::weak_ptr<char> alive = life_;
  asio::post(io_, [this, alive, reason = std::move(reason)] {
    if (alive.expired() || !started_ || !on_down) return;
    auto f = on_down;
    f(reason);
  });
  schedule_retry();
}

void redis_client::detach() {
  ++attempt_;  // handlers of the attempt in progress become stale
  connect_timer_.cancel();
  resolver_.cancel();
  if (!link_) return;
  auto l = std::move(link_);
  l->owner_ = nullptr;
  l->up_ = false;
  l->close();
}

void redis_client::schedule_retry() {
  if (!started_) return;
  const auto d = delay_.count();
  std::uniform_int_distribution<long long> jitter(d / 2, d);
  const auto wait = std::chrono::milliseconds(jitter(rng_));
  delay_ = std::min(delay_ * 2, std::max(opt_.backoff_max, opt_.backoff_min));
  const std::uint64_t id = attempt_;
  std::weak_ptr<char> alive = life_;
  retry_timer_.expires_after(wait);
  retry_timer_.async_wait([this, alive, id](const asio::error_code& ec) {
    if (alive.expired() || ec || id != attempt_ || !started_) return;
    attempt();
  });
}

}  // namespace simul::cluster
