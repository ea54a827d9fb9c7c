/* client_util.h: what the C load clients in bench/peers share (epoll_client, resp_fanout).
 * Header-only; each client defines PROG (its name, for messages) before including it. */
#ifndef SIMUL_BENCH_CLIENT_UTIL_H
#define SIMUL_BENCH_CLIENT_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in seconds. */
static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A whole-number argument in lo..hi, or a message and exit 2. */
static long arg(const char *s, long lo, long hi, const char *what) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) {
    fprintf(stderr, "%s: bad %s: %s (%ld..%ld)\n", PROG, what, s, lo, hi);
    exit(2);
  }
  return v;
}

#endif
