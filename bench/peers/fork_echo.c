/* fork_echo: the reference process-per-connection echo server for bench/.
 *
 * The oldest server shape there is (inetd, pre-fork Apache): the parent accepts, forks, and the child
 * echoes with plain blocking read/write until the peer closes. It shows what a whole process per client
 * costs next to a thread per client (simul's threaded model) and one event loop (epoll_echo, async).
 *
 *   fork_echo [--bind ADDR] [--port N] [--max-children N]
 *
 * Prints "listening on ADDR:PORT" on stdout once the listener is up. Bounded: at --max-children live
 * children (default 4096) the parent stops accepting until one exits; clients wait in the backlog.
 * Children are reaped as they exit (SIGCHLD through a signalfd). SIGTERM or SIGINT: stop accepting,
 * SIGTERM every child, wait for them (SIGKILL after 2 s), exit 0. Children also die with the parent
 * (PR_SET_PDEATHSIG), so a killed parent leaves no orphans holding ports.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { io_chunk = 64 * 1024, backoff_ms = 100, shutdown_grace_ms = 2000 };

static pid_t *children; /* live child pids; 0 marks a free slot */
static int max_children = 4096;
static int live;

static void usage(FILE *out, const char *argv0) {
  fprintf(out,
          "usage: %s [--bind ADDR] [--port N] [--max-children N]\n"
          "  process-per-connection echo server (reference peer for bench/)\n"
          "  --bind ADDR         address to listen on (default 127.0.0.1)\n"
          "  --port N            port, 0 = any (default 7007); the chosen one is printed\n"
          "  --max-children N    live connections at most (default 4096); more wait in the backlog\n",
          argv0);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_limited(const char *what, int err) {
  static long long last;
  long long t = now_ms();
  if (t - last >= 1000) {
    last = t;
    fprintf(stderr, "fork_echo: %s: %s; backing off %d ms\n", what, strerror(err), backoff_ms);
  }
}

static int parse_int(const char *s, long lo, long hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

/* The child: blocking echo until EOF or error. Never returns. */
static void serve(int fd) {
  static char buf[io_chunk];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) _exit(0);
      off += w;
    }
  }
  _exit(0);
}

static void reap(void) {
  for (;;) {
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    if (pid <= 0) return;
    for (int i = 0; i < max_children; ++i) {
      if (children[i] == pid) {
        children[i] = 0;
        --live;
        break;
      }
    }
  }
}

static int open_listener(const char *bind_addr, int port) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
  struct addrinfo *ai;
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%d", port);
  int rc = getaddrinfo(bind_addr, portstr, &hints, &ai);
  if (rc != 0) {
    fprintf(stderr, "fork_echo: bad --bind address '%s': %s\n", bind_addr, gai_strerror(rc));
    return -2;
  }
  int lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(lfd, SOMAXCONN) != 0) {
    fprintf(stderr, "fork_echo: listen on %s:%d: %s\n", bind_addr, port, strerror(errno));
    freeaddrinfo(ai);
    if (lfd >= 0) close(lfd);
    return -1;
  }
  freeaddrinfo(ai);

  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char host[INET6_ADDRSTRLEN] = "?";
  if (getsockname(lfd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
      printf("listening on %s:%d\n", host, ntohs(sin->sin_port));
    } else {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
      printf("listening on [%s]:%d\n", host, ntohs(sin6->sin6_port));
    }
  }
  fflush(stdout);
  return lfd;
}

/* SIGTERM every child, wait up to shutdown_grace_ms, then SIGKILL what is left. */
static void stop_children(void) {
  for (int i = 0; i < max_children; ++i)
    if (children[i] > 0) kill(children[i], SIGTERM);
  long long deadline = now_ms() + shutdown_grace_ms;
  while (live > 0 && now_ms() < deadline) {
    reap();
    if (live > 0) poll(NULL, 0, 10);
  }
  for (int i = 0; i < max_children; ++i)
    if (children[i] > 0) kill(children[i], SIGKILL);
  while (live > 0) {
    pid_t pid = waitpid(-1, NULL, 0);
    if (pid < 0 && errno != EINTR) break;
    if (pid > 0) {
      for (int i = 0; i < max_children; ++i)
        if (children[i] == pid) {
          children[i] = 0;
          --live;
        }
    }
  }
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
      if (parse_int(argv[++i], 0, 65535, &port) != 0) {
        fprintf(stderr, "fork_echo: --port wants 0..65535, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (strcmp(argv[i], "--max-children") == 0 && i + 1 < argc) {
      if (parse_int(argv[++i], 1, 1000000, &max_children) != 0) {
        fprintf(stderr, "fork_echo: --max-children wants 1..1000000, got '%s'\n", argv[i]);
        return 2;
      }
    } else {
      fprintf(stderr, "fork_echo: unknown or incomplete argument '%s'\n", argv[i]);
      usage(stderr, argv[0]);
      return 2;
    }
  }
  children = calloc((size_t)max_children, sizeof *children);
  if (!children) return 1;

  sigset_t mask, oldmask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, &oldmask);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    fprintf(stderr, "fork_echo: signalfd: %s\n", strerror(errno));
    return 1;
  }

  int lfd = open_listener(bind_addr, port);
  if (lfd < 0) return lfd == -2 ? 2 : 1;
  pid_t parent = getpid();

  long long resume_at = 0;
  int running = 1;
  while (running) {
    /* At the child limit, or backing off after an error, only signals are watched. */
    int can_accept = live < max_children && (resume_at == 0 || now_ms() >= resume_at);
    if (can_accept) resume_at = 0;
    struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = lfd, .events = POLLIN}};
    int timeout = resume_at ? (int)(resume_at - now_ms() > 0 ? resume_at - now_ms() : 0) : -1;
    int n = poll(pfd, can_accept ? 2 : 1, timeout);
    if (n < 0 && errno != EINTR) {
      fprintf(stderr, "fork_echo: poll: %s\n", strerror(errno));
      return 1;
    }
    if (n <= 0) continue;
    if (pfd[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) running = 0;
      }
      reap();
    }
    if (!running || !can_accept || !(pfd[1].revents & POLLIN)) continue;

    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO || errno == EAGAIN) continue;
      log_limited("accept", errno); /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
      resume_at = now_ms() + backoff_ms;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pid_t pid = fork();
    if (pid == 0) {
      sigprocmask(SIG_SETMASK, &oldmask, NULL);
      signal(SIGPIPE, SIG_DFL);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(0); /* the parent died before prctl took effect */
      close(lfd);
      close(sfd);
      serve(fd);
    }
    close(fd);
    if (pid < 0) {
      log_limited("fork", errno);
      resume_at = now_ms() + backoff_ms;
      continue;
    }
    for (int i = 0; i < max_children; ++i) {
      if (children[i] == 0) {
        children[i] = pid;
        ++live;
        break;
      }
    }
  }

  close(lfd);
  stop_children();
  free(children);
  return 0;
}
