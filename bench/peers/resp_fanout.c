/* resp_fanout: the load client for Redis pub/sub as a chat fan-out peer (bench/compare's fanout runs).
 *
 * Rooms are channels: ROOMS x MEMBERS subscriber connections, member m of room r subscribed to
 * channel "room<r>" and nothing else, as plain TCP clients speaking RESP. PUBLISHERS connections
 * (default 1; publisher p speaks in room p % ROOMS) PUBLISH SIZE-byte messages in turn, open loop,
 * at DELIVERIES/MEMBERS messages per second in all, so the offered fan-out is DELIVERIES deliveries
 * per second whatever the room size (the same offered load bench/compare gives simul's chat
 * rooms). bench/compare gives every member a publisher connection too, as every IRC user sends
 * from its own connection (a subscribed RESP connection cannot publish). Every message carries the time it
 * was meant to be sent; each delivery's latency is counted from that intended time (a server
 * that falls behind cannot hide it by slowing the sender down).
 *
 *   resp_fanout PORT ROOMS MEMBERS DELIVERIES_PER_S SIZE SECONDS [PUBLISHERS]
 *
 * Connects to 127.0.0.1:PORT. Connections bind to source addresses from SOURCE (default 127.0.0.2)
 * up, 25,000 each, so 19,000+ connections fit the ephemeral port range; a new SOURCE per run keeps
 * the last run's TIME_WAIT entries out of the way (bench/compare passes its run's block). After SECONDS of publishing it waits up to 2 s
 * for the last deliveries, then prints one JSON line:
 *   {"published":..,"expected":..,"delivered":..,"lost":..,"seconds":..,"deliveries_per_s":..,
 *    "p50_ms":..,"p99_ms":..,"p99_9_ms":..,"max_ms":..,"setup_s":..}
 * deliveries_per_s counts deliveries of messages published in the measured SECONDS, over SECONDS.
 * Exits 0 when every expected delivery arrived, 3 when some did not (a finding: too slow or
 * dropped by the server), 1 on a setup or protocol failure, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "resp_fanout"
#include "client_util.h"

enum {
  max_size = 4096,
  max_events = 512,
  inbuf_cap = 16 * 1024,       /* per subscriber: whole RESP frames are parsed out of it */
  ports_per_source = 25000,
  hist_us_max = 10 * 1000 * 1000, /* latencies above 10 s land in the last bucket */
  hist_step_us = 10,
};

struct conn {
  int fd;
  int room;
  size_t len;            /* bytes waiting in buf */
  char *buf;
  int subscribed;
};

static uint32_t hist[hist_us_max / hist_step_us + 1];
static uint64_t hist_count;
static double max_latency_us;


static void record(double latency_us) {
  if (latency_us < 0) latency_us = 0;
  if (latency_us > max_latency_us) max_latency_us = latency_us;
  size_t b = latency_us >= hist_us_max ? hist_us_max / hist_step_us : (size_t)(latency_us / hist_step_us);
  ++hist[b];
  ++hist_count;
}

static double percentile_ms(double q) {
  if (!hist_count) return -1;
  uint64_t want = (uint64_t)((double)hist_count * q);
  if (want >= hist_count) want = hist_count - 1;
  uint64_t seen = 0;
  for (size_t b = 0; b <= hist_us_max / hist_step_us; ++b) {
    seen += hist[b];
    if (seen > want) return (double)(b + 1) * hist_step_us / 1000.0;
  }
  return max_latency_us / 1000.0;
}

/* Writes all of buf to a non-blocking socket, waiting (bounded) while it is full. */
static int send_all(int fd, const char *buf, size_t len) {
  size_t off = 0;
  double give_up = now_s() + 5;
  while (off < len) {
    ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += (size_t)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (now_s() > give_up) return -1;
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    } else {
      return -1;
    }
  }
  return 0;
}

/* Length of the RESP line starting at p (up to and excluding \r\n), or -1 if incomplete. */
static long line_len(const char *p, const char *end) {
  const char *q = memchr(p, '\r', (size_t)(end - p));
  if (!q || q + 1 >= end) return -1;
  return q - p;
}

/* Parses one bulk string at *p: sets data and len, advances *p. 0 ok, 1 incomplete, -1 bad. */
static int bulk(const char **p, const char *end, const char **data, long *len) {
  if (*p >= end) return 1;
  if (**p != '$') return -1;
  long l = line_len(*p, end);
  if (l < 0) return 1;
  long n = strtol(*p + 1, NULL, 10);
  const char *d = *p + l + 2;
  if (n < 0) return -1;
  if (d + n + 2 > end) return 1;
  *data = d;
  *len = n;
  *p = d + n + 2;
  return 0;
}

/* Parses the pushes in c->buf: subscribe confirmations and messages. Returns deliveries seen,
 * or -1 on a protocol error. */
static long parse(struct conn *c, double now, double window_end, long *in_window) {
  const char *p = c->buf, *end = c->buf + c->len;
  long got = 0;
  while (p < end) {
    const char *start = p;
    if (*p != '*') {
      /* An error or anything unexpected. */
      long l = line_len(p, end);
      if (l < 0) break;
      fprintf(stderr, "resp_fanout: subscriber got: %.*s\n", (int)l, p);
      return -1;
    }
    long l = line_len(p, end);
    if (l < 0) break;
    p += l + 2;
    const char *kind, *chan;
    long kind_len, chan_len;
    int r = bulk(&p, end, &kind, &kind_len);
    if (r == 0) r = bulk(&p, end, &chan, &chan_len);
    if (r == 1) {
      p = start;
      break;
    }
    if (r < 0) return -1;
    if (kind_len == 9 && memcmp(kind, "subscribe", 9) == 0) {
      long il = line_len(p, end);
      if (il < 0) {
        p = start;
        break;
      }
      p += il + 2;
      c->subscribed = 1;
    } else if (kind_len == 7 && memcmp(kind, "message", 7) == 0) {
      const char *msg;
      long msg_len;
      r = bulk(&p, end, &msg, &msg_len);
      if (r == 1) {
        p = start;
        break;
      }
      if (r < 0 || msg_len < 18) return -1;
      /* "<intended send time, µs, 16 hex digits>:" then padding */
      char ts[17];
      memcpy(ts, msg, 16);
      ts[16] = '\0';
      double sent_us = (double)strtoull(ts, NULL, 16);
      record(now * 1e6 - sent_us);
      ++got;
      if (sent_us / 1e6 < window_end) ++*in_window;
    } else {
      return -1;
    }
  }
  size_t left = (size_t)(end - p);
  memmove(c->buf, p, left);
  c->len = left;
  return got;
}

int main(int argc, char **argv) {
  if (argc < 7 || argc > 9) {
    fprintf(stderr, "usage: %s PORT ROOMS MEMBERS DELIVERIES_PER_S SIZE SECONDS [PUBLISHERS [SOURCE]]\n", argv[0]);
    return 2;
  }
  const int port = (int)arg(argv[1], 1, 65535, "port");
  const int rooms = (int)arg(argv[2], 1, 100000, "rooms");
  const int members = (int)arg(argv[3], 1, 100000, "members");
  const double deliveries = (double)arg(argv[4], 1, 100000000, "deliveries/s");
  const size_t size = (size_t)arg(argv[5], 18, max_size, "size");
  const double seconds = (double)arg(argv[6], 1, 3600, "seconds");
  const long publishers = argc >= 8 ? arg(argv[7], 1, 60000, "publishers") : 1;
  struct in_addr source = {htonl(INADDR_LOOPBACK + 1)};
  if (argc == 9 && inet_pton(AF_INET, argv[8], &source) != 1) {
    fprintf(stderr, "resp_fanout: bad source address: %s\n", argv[8]);
    return 2;
  }
  const long n = (long)rooms * members;
  if (n > 60000) {
    fprintf(stderr, "resp_fanout: at most 60,000 subscribers\n");
    return 2;
  }
  if (argc >= 8 && n + strtol(argv[7], NULL, 10) > 100000) {
    fprintf(stderr, "resp_fanout: at most 100,000 connections\n");
    return 2;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  struct conn *subs = calloc((size_t)n, sizeof *subs);
  int ep = epoll_create1(0);
  if (!subs || ep < 0) {
    perror("resp_fanout: setup");
    return 1;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const double t_setup = now_s();
  char cmd[128];
  for (long i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl(ntohl(source.s_addr) + (uint32_t)(i / ports_per_source));
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
      fprintf(stderr, "resp_fanout: connect %ld: %s\n", i, strerror(errno));
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    subs[i] = (struct conn){.fd = fd, .room = (int)(i % rooms), .buf = malloc(inbuf_cap)};
    if (!subs[i].buf) return 1;
    int len = snprintf(cmd, sizeof cmd, "SUBSCRIBE room%d\r\n", subs[i].room);
    if (send_all(fd, cmd, (size_t)len) != 0) {
      fprintf(stderr, "resp_fanout: subscribe %ld failed\n", i);
      return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  /* Publisher p speaks for room p % rooms; its replies (receiver counts) are read and dropped. */
  int *pubs = calloc((size_t)publishers, sizeof *pubs);
  if (!pubs) return 1;
  for (long p = 0; p < publishers; ++p) {
    long k = n + p; /* its place in the source-address blocks, after the subscribers */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in from = {.sin_family = AF_INET};
    from.sin_addr.s_addr = htonl(ntohl(source.s_addr) + (uint32_t)(k / ports_per_source));
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
        connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
      fprintf(stderr, "resp_fanout: publisher %ld connect: %s\n", p, strerror(errno));
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct epoll_event pev = {.events = EPOLLIN, .data.u64 = (uint64_t)k};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &pev);
    pubs[p] = fd;
  }

  struct epoll_event events[max_events];
  static char discard[64 * 1024];
  long subscribed = 0;
  long delivered = 0, in_window = 0;
  const double setup_deadline = now_s() + 30;
  /* Wait for every subscription to be confirmed. */
  while (subscribed < n) {
    if (now_s() > setup_deadline) {
      fprintf(stderr, "resp_fanout: only %ld of %ld subscribed after 30 s\n", subscribed, n);
      return 1;
    }
    int k = epoll_wait(ep, events, max_events, 100);
    for (int j = 0; j < k; ++j) {
      if (events[j].data.u64 >= (uint64_t)n) continue;
      struct conn *c = &subs[events[j].data.u64];
      ssize_t r = recv(c->fd, c->buf + c->len, inbuf_cap - c->len, 0);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        fprintf(stderr, "resp_fanout: subscriber closed during setup\n");
        return 1;
      }
      c->len += (size_t)r;
      int was = c->subscribed;
      long l = 0;
      if (parse(c, now_s(), 0, &l) < 0) return 1;
      subscribed += c->subscribed && !was;
    }
  }
  const double setup_s = now_s() - t_setup;

  /* Publish open loop: message i is due at start + i / rate. */
  const double rate = deliveries / members;
  char *msg = malloc(size + 256);
  char payload[max_size + 1];
  memset(payload, 'x', sizeof payload);
  const double start = now_s(), end = start + seconds, drain_end = end + 2;
  long published = 0;
  int protocol_error = 0;
  for (;;) {
    double t = now_s();
    if (t >= drain_end) break;
    /* Messages due by now (none after the measured phase). */
    long due = t < end ? (long)((t - start) * rate) + 1 : (long)(seconds * rate);
    int backlog = 0;
    while (published < due && backlog < 256) {
      double intended = start + (double)published / rate;
      char ts[17];
      snprintf(ts, sizeof ts, "%016llx", (unsigned long long)(intended * 1e6));
      memcpy(payload, ts, 16);
      payload[16] = ':';
      char chan[32];
      const long p = published % publishers;
      int cl = snprintf(chan, sizeof chan, "room%ld", p % rooms);
      int len = snprintf(msg, size + 256, "*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$%zu\r\n", cl, chan, size);
      memcpy(msg + len, payload, size);
      memcpy(msg + len + size, "\r\n", 2);
      if (send_all(pubs[p], msg, (size_t)len + size + 2) != 0) {
        fprintf(stderr, "resp_fanout: publish failed: %s\n", strerror(errno));
        return 1;
      }
      ++published;
      ++backlog;
    }
    if (published >= (long)(seconds * rate) && t >= end && delivered >= published * members) break;
    double next_due = start + (double)published / rate;
    int wait_ms = published < due ? 0 : (int)((next_due - now_s()) * 1000);
    if (wait_ms < 0) wait_ms = 0;
    if (wait_ms > 10) wait_ms = 10;
    int k = epoll_wait(ep, events, max_events, wait_ms);
    double now = now_s();
    for (int j = 0; j < k; ++j) {
      if (events[j].data.u64 >= (uint64_t)n) {
        while (recv(pubs[events[j].data.u64 - (uint64_t)n], discard, sizeof discard, 0) > 0) {
        }
        continue;
      }
      struct conn *c = &subs[events[j].data.u64];
      ssize_t r = recv(c->fd, c->buf + c->len, inbuf_cap - c->len, 0);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        fprintf(stderr, "resp_fanout: subscriber %lu closed by the server\n", (unsigned long)events[j].data.u64);
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        protocol_error = 1;
        continue;
      }
      c->len += (size_t)r;
      long got = parse(c, now, end, &in_window);
      if (got < 0) {
        protocol_error = 1;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        continue;
      }
      delivered += got;
    }
  }
  const long expected = published * members;
  printf("{\"published\":%ld,\"expected\":%ld,\"delivered\":%ld,\"lost\":%ld,\"seconds\":%.3f,"
         "\"deliveries_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p99_9_ms\":%.3f,\"max_ms\":%.3f,"
         "\"setup_s\":%.3f,\"subscribers\":%ld}\n",
         published, expected, delivered, expected - delivered, seconds, (double)in_window / seconds,
         percentile_ms(0.5), percentile_ms(0.99), percentile_ms(0.999), max_latency_us / 1000.0, setup_s, n);
  if (protocol_error) return 1;
  return delivered >= expected ? 0 : 3;
}
