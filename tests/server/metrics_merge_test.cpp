// The supervisor's merge of its own and its workers' Prometheus text, and its restart back-off.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include "server/workers/metrics_merge.hpp"
#include "server/workers/restart_backoff.hpp"

using namespace simul::server;
using namespace std::chrono_literals;

TEST_CASE("add_label puts the label first, with or without other labels") {
  CHECK(add_label("a 1", "worker=\"2\"") == "a{worker=\"2\"} 1");
  CHECK(add_label("a{b=\"c\"} 1", "worker=\"2\"") == "a{worker=\"2\",b=\"c\"} 1");
  CHECK(add_label("a{} 1", "worker=\"2\"") == "a{worker=\"2\"} 1");
  CHECK(add_label("a{b=\"x y\"} 1", "worker=\"2\"") == "a{worker=\"2\",b=\"x y\"} 1");
}

TEST_CASE("merge_metrics groups each family once: the supervisor's samples, then each worker's labelled") {
  const std::string own = "# HELP p Process.\n# TYPE p gauge\np 10\n# HELP s Supervisor only.\n# TYPE s gauge\ns 1\n";
  const std::string worker =
      "# HELP c Connections.\n# TYPE c gauge\nc{service=\"echo\"} 5\n# HELP p Process.\n# TYPE p gauge\np 3\n";
  const std::string worker2 =
      "# HELP c Connections.\n# TYPE c gauge\nc{service=\"echo\"} 7\n# HELP p Process.\n# TYPE p gauge\np 4\n";
  CHECK(merge_metrics(own, {{1, worker}, {2, worker2}}) ==
        "# HELP p Process.\n# TYPE p gauge\np 10\np{worker=\"1\"} 3\np{worker=\"2\"} 4\n"
        "# HELP s Supervisor only.\n# TYPE s gauge\ns 1\n"
        "# HELP c Connections.\n# TYPE c gauge\nc{worker=\"1\",service=\"echo\"} 5\nc{worker=\"2\",service=\"echo\"} 7\n");
}

TEST_CASE("merge_metrics keeps a histogram's _bucket, _sum and _count lines in their family") {
  const std::string worker =
      "# HELP h Times.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 4.5\nh_count 3\n";
  CHECK(merge_metrics("", {{3, worker}}) ==
        "# HELP h Times.\n# TYPE h histogram\nh_bucket{worker=\"3\",le=\"1\"} 2\nh_bucket{worker=\"3\",le=\"+Inf\"} 3\n"
        "h_sum{worker=\"3\"} 4.5\nh_count{worker=\"3\"} 3\n");
}

TEST_CASE("merge_metrics drops other comments and keeps unannounced samples as their own family") {
  CHECK(merge_metrics("# just a comment\nx 1\n\n", {{1, "x 2\n"}}) == "x 1\nx{worker=\"1\"} 2\n");
  CHECK(merge_metrics("", {}).empty());
}

TEST_CASE("restart_backoff doubles from 100 ms to 10 s, and starts over after a worker ran 10 s") {
  restart_backoff b;
  CHECK(b.next(0s) == 100ms);
  CHECK(b.next(1s) == 200ms);
  CHECK(b.next(1s) == 400ms);
  for (int i = 0; i < 10; ++i) b.next(1s);
  CHECK(b.next(1s) == 10'000ms);
  CHECK(b.next(10s) == 100ms);
  CHECK(b.next(0s) == 200ms);
}

TEST_CASE("describe_exit says how a worker ended") {
  CHECK(describe_exit(2 << 8) == "exited with status 2");  // WEXITSTATUS 2
  CHECK(describe_exit(9) == "killed by signal 9 (SIGKILL)");
  CHECK(describe_exit(11 | 0x80) == "killed by signal 11 (SIGSEGV)");  // with a core dump
}
