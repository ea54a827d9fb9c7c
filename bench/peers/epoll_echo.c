/* epoll_echo: the reference single-threaded echo server for bench/.
 *
 * One thread, one level-triggered epoll set, non-blocking sockets: the practical ceiling for what one
 * core can do with an echo workload, with nothing in the way (no framework, no allocation per read).
 *
 *   epoll_echo [--bind ADDR] [--port N]      (port 0: the kernel picks; the line printed names it)
 *
 * Prints "listening on ADDR:PORT" on stdout once the listener is up, exits 0 on SIGTERM or SIGINT.
 *
 * Memory per connection is near zero: an idle connection is a file descriptor and one pointer-sized slot
 * in a table. Every read goes into one shared buffer and is sent back at once. Only when the kernel takes
 * part of it (the peer stopped reading) does that connection get a heap copy of the rest, and then we stop
 * reading from it (EPOLLOUT only) until the copy is sent: at most one read's worth per slow client,
 * never an unbounded queue. This is the backpressure the simul servers must have as well.
 *
 * Accept errors that mean "out of descriptors or memory" (EMFILE, ENFILE, ENOBUFS, ENOMEM) do not spin:
 * the listener leaves the epoll set for a short back-off, and pending connections wait in the backlog.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  read_chunk = 64 * 1024,     /* one read per ready event: fairness between clients */
  accepts_per_wakeup = 64,    /* so a connect storm cannot starve established clients */
  max_events = 256,
  accept_backoff_ms = 100,
};

/* The unsent tail of one echo, owned by its connection until sent. */
struct pending {
  size_t len;
  size_t off;
  char data[];
};

static struct pending **pending_by_fd; /* indexed by fd; NULL for every connection that is keeping up */
static size_t pending_cap;
static int epfd = -1;

static void usage(FILE *out, const char *argv0) {
  fprintf(out,
          "usage: %s [--bind ADDR] [--port N]\n"
          "  minimal single-threaded epoll echo server (reference peer for bench/)\n"
          "  --bind ADDR   address to listen on (default 127.0.0.1)\n"
          "  --port N      port, 0 = any (default 7007); the chosen one is printed\n",
          argv0);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Rate-limited to one line per second: under EMFILE we would otherwise log at the accept rate. */
static void log_accept_error(int err) {
  static long long last;
  long long t = now_ms();
  if (t - last >= 1000) {
    last = t;
    fprintf(stderr, "epoll_echo: accept: %s; backing off %d ms\n", strerror(err), accept_backoff_ms);
  }
}

static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl); /* best effort: a lower limit only means fewer clients */
  }
}

static int ensure_slot(int fd) {
  if ((size_t)fd < pending_cap) return 0;
  size_t cap = pending_cap ? pending_cap : 1024;
  while (cap <= (size_t)fd) cap *= 2;
  struct pending **p = realloc(pending_by_fd, cap * sizeof *p);
  if (!p) return -1;
  memset(p + pending_cap, 0, (cap - pending_cap) * sizeof *p);
  pending_by_fd = p;
  pending_cap = cap;
  return 0;
}

static void close_conn(int fd) {
  if ((size_t)fd < pending_cap) {
    free(pending_by_fd[fd]);
    pending_by_fd[fd] = NULL;
  }
  close(fd); /* also removes it from the epoll set: nobody else holds this descriptor */
}

static int set_interest(int fd, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.fd = fd};
  return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* Sends buf; whatever the kernel does not take is kept and reading pauses. Returns -1 to close. */
static int send_or_park(int fd, const char *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pending *p = malloc(sizeof *p + (len - off));
      if (!p) return -1;
      p->len = len - off;
      p->off = 0;
      memcpy(p->data, buf + off, p->len);
      pending_by_fd[fd] = p;
      return set_interest(fd, EPOLLOUT);
    } else {
      return -1;
    }
  }
  return 0;
}

/* The peer can take more: flush the parked tail, and resume reading once it is all gone. */
static int flush_pending(int fd) {
  struct pending *p = pending_by_fd[fd];
  if (!p) return set_interest(fd, EPOLLIN);
  while (p->off < p->len) {
    ssize_t n = send(fd, p->data + p->off, p->len - p->off, MSG_NOSIGNAL);
    if (n > 0) {
      p->off += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return 0;
    } else {
      return -1;
    }
  }
  free(p);
  pending_by_fd[fd] = NULL;
  return set_interest(fd, EPOLLIN);
}

static int on_readable(int fd, char *buf) {
  ssize_t n;
  do {
    n = recv(fd, buf, read_chunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n == 0) return -1;
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
  return send_or_park(fd, buf, (size_t)n);
}

/* Accepts up to accepts_per_wakeup clients. Returns 1 when the listener must back off. */
static int accept_some(int lfd) {
  for (int i = 0; i < accepts_per_wakeup; ++i) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      switch (errno) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
        return 0;
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        continue;
      default: /* EMFILE, ENFILE, ENOBUFS, ENOMEM, and anything unexpected */
        log_accept_error(errno);
        return 1;
      }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (ensure_slot(fd) != 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      log_accept_error(errno ? errno : ENOMEM);
      close(fd);
      return 1;
    }
  }
  return 0;
}

static int parse_port(const char *s, int *port) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v < 0 || v > 65535) return -1;
  *port = (int)v;
  return 0;
}

static int open_listener(const char *bind_addr, int port) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
  struct addrinfo *ai;
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%d", port);
  int rc = getaddrinfo(bind_addr, portstr, &hints, &ai);
  if (rc != 0) {
    fprintf(stderr, "epoll_echo: bad --bind address '%s': %s\n", bind_addr, gai_strerror(rc));
    return -2;
  }
  int lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(lfd, SOMAXCONN) != 0) {
    fprintf(stderr, "epoll_echo: listen on %s:%d: %s\n", bind_addr, port, strerror(errno));
    freeaddrinfo(ai);
    if (lfd >= 0) close(lfd);
    return -1;
  }
  freeaddrinfo(ai);

  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char host[INET6_ADDRSTRLEN] = "?";
  int bound_port = port;
  if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
      bound_port = ntohs(sin->sin_port);
      printf("listening on %s:%d\n", host, bound_port);
    } else {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      bound_port = ntohs(sin6->sin6_port);
      printf("listening on [%s]:%d\n", host, bound_port);
    }
  }
  fflush(stdout);
  return lfd;
}

int main(int argc, char **argv) {
  const char *bind_addr = "127.0.0.1";
  int port = 7007;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout, argv[0]);
      return 0;
    } else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) {
      bind_addr = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      if (parse_port(argv[++i], &port) != 0) {
        fprintf(stderr, "epoll_echo: --port wants 0..65535, got '%s'\n", argv[i]);
        return 2;
      }
    } else {
      fprintf(stderr, "epoll_echo: unknown or incomplete argument '%s'\n", argv[i]);
      usage(stderr, argv[0]);
      return 2;
    }
  }

  raise_fd_limit();

  /* Signals arrive as a readable descriptor, so a signal between two epoll_wait calls is never lost. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

  int lfd = open_listener(bind_addr, port);
  if (lfd < 0) return lfd == -2 ? 2 : 1;

  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.fd = lfd};
  struct epoll_event sev = {.events = EPOLLIN, .data.fd = sfd};
  if (sfd < 0 || epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) != 0 ||
      epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &sev) != 0) {
    fprintf(stderr, "epoll_echo: setup: %s\n", strerror(errno));
    return 1;
  }

  static char buf[read_chunk];
  struct epoll_event events[max_events];
  long long resume_accept_at = 0; /* nonzero while the listener is out of the set */
  int running = 1;
  while (running) {
    int timeout = -1;
    if (resume_accept_at) {
      long long left = resume_accept_at - now_ms();
      timeout = left > 0 ? (int)left : 0;
    }
    int n = epoll_wait(epfd, events, max_events, timeout);
    if (n < 0 && errno != EINTR) {
      fprintf(stderr, "epoll_echo: epoll_wait: %s\n", strerror(errno));
      return 1;
    }
    if (resume_accept_at && now_ms() >= resume_accept_at) {
      resume_accept_at = 0;
      set_interest(lfd, EPOLLIN);
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      uint32_t ev = events[i].events;
      if (fd == sfd) {
        running = 0;
      } else if (fd == lfd) {
        if (accept_some(lfd)) {
          set_interest(lfd, 0);
          resume_accept_at = now_ms() + accept_backoff_ms;
        }
      } else if (ev & EPOLLOUT) {
        if (flush_pending(fd) != 0) close_conn(fd);
      } else if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (on_readable(fd, buf) != 0) close_conn(fd);
      }
    }
  }

  for (size_t fd = 0; fd < pending_cap; ++fd) free(pending_by_fd[fd]);
  free(pending_by_fd);
  close(lfd);
  close(epfd);
  close(sfd);
  return 0;
}
