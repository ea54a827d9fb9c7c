/* epoll_client: the reference load client for bench/loadgen-speed.
 *
 * The smallest closed-loop echo client one thread can be: N connections, each sends SIZE bytes,
 * waits until SIZE bytes came back, and sends again, for SECONDS. One epoll set, level-triggered,
 * one recv per ready event, no verification of the bytes. simul-load must keep up with it, or it
 * (not the server) is what a benchmark measures.
 *
 *   epoll_client PORT CONNECTIONS SIZE SECONDS      (connects to 127.0.0.1:PORT)
 *
 * Prints one line: "epoll_client: M messages in T s: R msgs/s". Exits 1 if a connection fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "epoll_client"
#include "client_util.h"

enum { max_size = 4096, max_events = 256 };


int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s PORT CONNECTIONS SIZE SECONDS\n", argv[0]);
    return 2;
  }
  const int port = (int)arg(argv[1], 1, 65535, "port");
  const int n = (int)arg(argv[2], 1, 10000, "connections");
  const size_t size = (size_t)arg(argv[3], 1, max_size, "size");
  const double seconds = (double)arg(argv[4], 1, 3600, "seconds");

  static char out[max_size], in[max_size];
  memset(out, 'x', sizeof out);
  int *fds = calloc((size_t)n, sizeof *fds);
  size_t *got = calloc((size_t)n, sizeof *got);
  int ep = epoll_create1(0);
  if (!fds || !got || ep < 0) {
    perror("epoll_client: setup");
    return 1;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
      fprintf(stderr, "epoll_client: connect %d: %s\n", i, strerror(errno));
      return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds[i] = fd;
  }
  for (int i = 0; i < n; ++i) send(fds[i], out, size, 0);

  long messages = 0;
  const double start = now_s(), end = start + seconds;
  struct epoll_event events[max_events];
  while (now_s() < end) {
    int k = epoll_wait(ep, events, max_events, 100);
    for (int j = 0; j < k; ++j) {
      const unsigned i = events[j].data.u32;
      ssize_t r = recv(fds[i], in, sizeof in, 0);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        fprintf(stderr, "epoll_client: connection %u closed\n", i);
        return 1;
      }
      if (r < 0) continue;
      got[i] += (size_t)r;
      while (got[i] >= size) {
        got[i] -= size;
        ++messages;
        send(fds[i], out, size, 0);
      }
    }
  }
  const double elapsed = now_s() - start;
  printf("epoll_client: %ld messages in %.2f s: %.0f msgs/s\n", messages, elapsed, (double)messages / elapsed);
  return 0;
}
