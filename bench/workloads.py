"""workloads: the four measurements bench/compare takes, each one simul-load run.

- idle:  hold N connections; server RSS and threads per connection, time to accept them all.
- echo:  closed-loop echo (send, await the echo, repeat); throughput, p99, server CPU.
- open:  open-loop echo at a fixed rate per connection (latency from the intended send time);
         p50/p99/p99.9 and server CPU.
- chat:  IRC users in rooms exchanging PRIVMSGs (simul models only); delivery p99, loss.
- fanout: the same offered fan-out to rooms of 10, 100 and 1,000 members, for simul's chat and
         for Redis pub/sub (one channel per room); deliveries/s, delivery p99, deliveries per server
         CPU-second. Its points are keyed by room size, not by the connection counts.

A run's status is one of:
  ok     every connection held, no errors, no loss;
  limit  the server could not take or keep all N connections (a finding, recorded honestly);
  fail   the run did not complete or broke a promise (errors with every connection up, chat loss,
         no report, the load generator or the server died): bench/compare exits non-zero.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from servers import Running, TreeSampler, pin

WORKLOADS = ("idle", "echo", "open", "chat", "fanout")


@dataclass(frozen=True)
class Profile:
    """Durations and rates of one harness mode (full or quick)."""
    idle_s: float
    echo_s: float
    open_s: float
    chat_s: float
    open_rate: float          # echo messages/s per connection, open loop
    chat_room_size: int       # users per room
    chat_deliveries: float    # offered deliveries/s over all users (the per-user rate follows)
    chat_max_rate: float      # cap on messages/s per user
    size: int = 64            # echo and chat message bytes
    open_max_connections: int = 0   # open loop only up to this many connections (0: no cap)
    chat_max_connections: int = 0   # chat only up to this many users (0: no cap)
    fanout_s: float = 2.0           # fan-out: measured phase
    fanout_users: int = 1000        # fan-out: members over all rooms (room size × rooms)
    fanout_room_sizes: tuple[int, ...] = (10, 100, 1000)
    fanout_deliveries: float = 100000.0   # fan-out: offered deliveries/s, whatever the room size

    def cap(self, workload: str) -> int:
        """The largest connection count this profile runs `workload` at (0: no cap)."""
        return {"open": self.open_max_connections, "chat": self.chat_max_connections}.get(workload, 0)


# The full profile's open-loop rate keeps the top point (19,000 connections: 9,500 msgs/s) well
# inside what one load-generator thread sustains, so the latency measured is the server's.
#
# The open loop runs at every count. It used to stop at 5,000 connections: when simul-load built
# its sessions at the start signal, the start of the measured phase set the tail whatever the
# server (identical p99 for every server, the C epoll peer included). simul-load has had them in
# place before the start since (bench/README.md), so the full run measures 10,000 and 19,000 again
# (docs/BENCHMARKS.md says whether the servers differ there).
# Chat stops at 10,000 users, for time: registering 19,000 users takes the one-thread client 7-11 s
# per run, and by 10,000 the threaded model (two threads per chat user) has already met its limit.
FULL = Profile(idle_s=0.5, echo_s=2.5, open_s=1.5, chat_s=1.0, open_rate=0.5, chat_room_size=10,
               chat_deliveries=20000.0, chat_max_rate=5.0, chat_max_connections=10000)
QUICK = Profile(idle_s=1.0, echo_s=1.5, open_s=1.5, chat_s=1.5, open_rate=5.0, chat_room_size=10,
                chat_deliveries=5000.0, chat_max_rate=5.0, fanout_s=1.0, fanout_users=100,
                fanout_room_sizes=(10, 100), fanout_deliveries=10000.0)


def fanout_shape(profile: Profile, members: int) -> tuple[int, int, float]:
    """(users, rooms, PRIVMSGs/s per user) of a fan-out run with rooms of `members`: an IRC message
    reaches the other members - 1, so the per-user rate keeps the offered deliveries/s at
    fanout_deliveries (a Redis message reaches all the room's subscribers: its publishers send
    deliveries/members messages/s in all)."""
    users = max(members, profile.fanout_users)
    rooms = max(1, users // members)
    users = rooms * members
    rate = profile.fanout_deliveries / (users * max(1, members - 1))
    return users, rooms, round(rate, 4)


def chat_shape(profile: Profile, users: int) -> tuple[int, float]:
    """(rooms, messages/s per user) for a chat run: rooms of chat_room_size users, and a per-user
    rate that keeps the offered fan-out near chat_deliveries/s whatever the user count."""
    rooms = max(1, users // profile.chat_room_size)
    fanout = max(1, users // rooms - 1)
    rate = min(profile.chat_max_rate, profile.chat_deliveries / (users * fanout))
    return rooms, round(rate, 4)


def load_argv(load_bin: Path, workload: str, n: int, run: Running, profile: Profile, source: str,
              json_path: Path, core: int | None) -> list[str]:
    connect_timeout = 5 if n <= 5000 else 15
    common = ["--host", "127.0.0.1", "--threads", "1", "--source", source,
              "--server-pid", str(run.pid), "--json", str(json_path), "--quiet",
              "--connect-timeout", f"{connect_timeout}s", "--target-model", run.spec.name]
    if workload == "idle":
        args = ["idle", "--port", str(run.echo_port), "--connections", str(n), "--duration", f"{profile.idle_s}s"]
    elif workload == "echo":
        args = ["echo", "--port", str(run.echo_port), "--connections", str(n), "--size", str(profile.size),
                "--duration", f"{profile.echo_s}s"]
    elif workload == "open":
        args = ["echo", "--port", str(run.echo_port), "--connections", str(n), "--size", str(profile.size),
                "--rate", str(profile.open_rate), "--duration", f"{profile.open_s}s"]
    elif workload == "fanout":
        users, rooms, rate = fanout_shape(profile, n)
        args = ["chat", "--port", str(run.chat_port), "--users", str(users), "--rooms", str(rooms),
                "--rate", str(rate), "--size", str(profile.size), "--duration", f"{profile.fanout_s}s"]
    elif workload == "chat":
        rooms, rate = chat_shape(profile, n)
        args = ["chat", "--port", str(run.chat_port), "--users", str(n), "--rooms", str(rooms),
                "--rate", str(rate), "--size", str(profile.size), "--duration", f"{profile.chat_s}s"]
    else:
        raise ValueError(workload)
    return pin(core) + [str(load_bin)] + args + common


def run_timeout(workload: str, n: int, profile: Profile) -> float:
    """The longest a simul-load run may take before it is killed: its own setup deadline, the
    measured phase, its 2 s drain, and slack."""
    duration = {"idle": profile.idle_s, "echo": profile.echo_s, "open": profile.open_s, "chat": profile.chat_s,
                "fanout": profile.fanout_s}
    setup = (5 if n <= 5000 else 15) + 1 + (5 if workload in ("chat", "fanout") else 0)
    return setup + duration[workload] + 2 + 20


def run_workload(load_bin: Path, workload: str, n: int, run: Running, profile: Profile, source: str,
                 json_path: Path, core: int | None, baseline: tuple[int, int, int]) -> dict:
    """Runs simul-load once against a started server whose footprint before the run is `baseline`
    (processes, threads, open files); returns the point's record (never raises for a failed run: the
    failure is in the record)."""
    if run.spec.name == "redis":
        # Every member also has a publisher connection, as every IRC user sends from its own.
        users, rooms, _ = fanout_shape(profile, n)
        argv = pin(core) + [str(RESP_FANOUT), str(run.echo_port), str(rooms), str(n), str(int(profile.fanout_deliveries)),
                            str(profile.size), str(int(max(1, profile.fanout_s))), str(users),
                            source.split("-")[0]]
    else:
        argv = load_argv(load_bin, workload, n, run, profile, source, json_path, core)
    record = {"workload": workload, "connections": n, "server": run.spec.name, "command": argv,
              "status": "fail", "reason": "", "json": json_path.name}
    sampler = TreeSampler(run.pid, n, baseline)
    t0 = time.monotonic()
    sampler.restart_clock()
    sampler.start()
    timeout = run_timeout(workload, n, profile)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=timeout)
        exit_code = proc.returncode
        stderr = proc.stderr.decode(errors="replace").strip()
    except subprocess.TimeoutExpired as e:
        exit_code = None
        stderr = f"killed after {timeout:.0f} s"
        if e.stderr:
            stderr += ": " + e.stderr.decode(errors="replace").strip()[-300:]
    finally:
        sampler.finish()
    record["wall_s"] = round(time.monotonic() - t0, 3)
    record["load_exit_code"] = exit_code
    server_alive = run.proc.poll() is None
    record["server_alive"] = server_alive

    if run.spec.name == "redis":
        return redis_record(record, proc.stdout if exit_code is not None else b"", exit_code, stderr,
                            sampler, run, profile)

    report = None
    if json_path.exists():
        try:
            report = json.loads(json_path.read_text())
        except (OSError, ValueError) as e:
            stderr += f" (unreadable report: {e})"
    if report is None:
        record["reason"] = f"no report from simul-load (exit {exit_code}): {stderr[-400:]}"
        if not server_alive:
            record["reason"] += f"; server exited with {run.proc.returncode}: {run.log_tail()}"
        return record

    record.update(extract(report, workload, sampler))
    record["status"], record["reason"] = classify(record, exit_code, server_alive, run)
    return record


RESP_FANOUT = Path(__file__).resolve().parent / "peers" / "build" / "resp_fanout"


def redis_record(record: dict, stdout: bytes, exit_code: int | None, stderr: str, sampler: TreeSampler,
                 run: Running, profile: Profile) -> dict:
    """A fan-out record for Redis from resp_fanout's JSON line (the same fields simul-load gives)."""
    try:
        out = json.loads(stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        record["reason"] = f"no report from resp_fanout (exit {exit_code}): {stderr[-400:]}"
        return record
    users = out["subscribers"]
    record.update({
        "target": users, "connected": users, "held": users, "lost_connections": 0,
        "setup_s": out["setup_s"], "duration_s": out["seconds"], "msgs_per_s": out["deliveries_per_s"],
        "errors": out["lost"], "errors_by_cause": {"lost message": out["lost"]} if out["lost"] else {},
        "latency_ms": {"p50": out["p50_ms"], "p90": None, "p99": out["p99_ms"], "p99_9": out["p99_9_ms"],
                       "max": out["max_ms"]} if out["delivered"] else None,
        "latency_count": out["delivered"], "chat": {"lost": out["lost"], "published": out["published"]},
        "accept_all_s": None,
    })
    start = out["setup_s"] + 0.1
    record["server_cpu_pct"] = sampler.cpu_percent(start, start + out["seconds"])
    if record["server_cpu_pct"] and record["msgs_per_s"]:
        record["msgs_per_cpu_s"] = record["msgs_per_s"] / (record["server_cpu_pct"] / 100.0)
    server_alive = run.proc.poll() is None
    record["server_alive"] = server_alive
    if not server_alive:
        record["status"], record["reason"] = "fail", f"redis-server died: {run.log_tail()}"
    elif exit_code == 3:
        record["status"], record["reason"] = "limit", (f"too slow: {out['lost']:,} of {out['expected']:,} "
                                                      "deliveries still outstanding 2 s after the end")
    elif exit_code != 0:
        record["reason"] = f"resp_fanout exited with {exit_code}: {stderr[-300:]}"
    else:
        record["status"], record["reason"] = "ok", ""
    return record


def _num(x):
    return None if x is None else float(x)


def extract(report: dict, workload: str, sampler: TreeSampler) -> dict:
    """The figures the comparison needs, from simul-load's JSON and the harness's own sampler."""
    res = report.get("results", {})
    conns = res.get("connections", {})
    lat = report.get("latency_us", {})
    errors = report.get("errors", {})
    out = {
        "target": conns.get("target"),
        "connected": conns.get("connected"),
        "held": conns.get("held_at_end"),
        "lost_connections": conns.get("lost"),
        "setup_s": _num(conns.get("setup_s")),
        "duration_s": _num(res.get("duration_s")),
        "msgs_per_s": _num(res.get("msgs_per_s")),
        "errors": errors.get("total", 0),
        "errors_by_cause": errors.get("by_cause", {}),
        "latency_ms": {k: (None if lat.get(k) is None else lat[k] / 1000.0)
                       for k in ("p50", "p90", "p99", "p99_9", "max")} if lat.get("count") else None,
        "latency_count": lat.get("count", 0),
    }
    if "chat" in res:
        out["chat"] = res["chat"]

    # Server cost while connections were held. For one process, simul-load's --server-pid samples
    # (before the run, and at the end of the hold) have it; they are divided by the connections the
    # server itself held at that moment (its new open files), which can trail the client's count
    # when the kernel has completed handshakes the server has not accepted yet. The fork peer's cost
    # is in its children, which that sampler does not see: there the harness's tree sample counts
    # (Pss, shared pages split fairly among the processes).
    server = report.get("server") or {}
    base, held_s = server.get("baseline"), server.get("held")
    peak = sampler.peak()
    if peak is not None and peak.processes > 1:
        pss = sampler.peak_pss
        out["server_mem"] = {
            "source": "harness: Pss of the process tree",
            "rss_per_conn": None if pss is None else (pss[1] - sampler.baseline_pss) / max(1, pss[0] - 1),
            "threads_per_conn": (peak.tasks - sampler.baseline[1]) / max(1, peak.conns),
            "server_held": peak.conns,
        }
    elif base and held_s:
        accepted = (held_s.get("fds") or 0) - (base.get("fds") or 0)
        client_held = out["held"] or 0
        denom = accepted if 0 < accepted < client_held else client_held
        if denom > 0:
            out["server_mem"] = {
                "source": "simul-load --server-pid: RSS",
                "rss_per_conn": (held_s["rss_bytes"] - base["rss_bytes"]) / denom,
                "threads_per_conn": (held_s["threads"] - base["threads"]) / denom,
                "server_held": accepted, "rss_bytes": held_s["rss_bytes"], "threads": held_s["threads"],
            }
    out["accept_all_s"] = sampler.accepted_at

    # Server CPU over the measured phase (harness sampler; 100 = one core). Not for a tree of
    # processes (the fork peer): its children run in bursts far shorter than the kernel's 4 ms
    # tick, and this kernel charges CPU time by tick (no precise accounting), so their utime and
    # stime stay near 0 whatever they do (measured: 1% "CPU" for 46,000 round trips/s).
    if peak is not None and peak.processes > 1:
        out["server_cpu_pct"] = None
        out["cpu_note"] = "not measurable: per-process CPU time of short-lived bursts is tick-sampled"
    elif out["setup_s"] is not None and out["duration_s"]:
        start = out["setup_s"] + 0.1
        out["server_cpu_pct"] = sampler.cpu_percent(start, start + out["duration_s"])
    else:
        out["server_cpu_pct"] = None
    if out.get("server_cpu_pct") and out["msgs_per_s"]:
        out["msgs_per_cpu_s"] = out["msgs_per_s"] / (out["server_cpu_pct"] / 100.0)
    if workload == "echo" and out.get("server_cpu_pct"):
        steady = steady_cost(report.get("timeseries") or [], sampler)
        if steady is not None:
            out["msgs_per_cpu_s"], out["steady_window_s"] = steady
    return out


def steady_cost(rows: list, sampler: TreeSampler) -> tuple[float, float] | None:
    """Round trips per server CPU-second in the steady state: simul-load's one-second rows after
    the first, against the server's CPU over the same seconds. The first second carries every
    connection's first message (at 19,000 connections a quarter of that second's traffic), new
    memory touched for the first time and the client's own start; the cost of taking connections
    is measured on its own (accept time, idle memory). None when fewer than 1 s would be left."""
    run = [r for r in rows if r.get("phase") == "run"][1:]
    if not run:
        return None
    start = run[0]["t"] - run[0]["interval_s"]
    end = run[-1]["t"]
    if end - start < 0.9:
        return None
    cpu = sampler.cpu_percent(start, end)
    msgs = sum(r.get("messages") or 0 for r in run)
    if not cpu or not msgs:
        return None
    return msgs / (end - start) / (cpu / 100.0), end - start


# Errors that mean "too slow", not "wrong": replies or deliveries still outstanding when the run
# (plus simul-load's 2 s drain) ended. Everything else (resets, bad bytes, duplicates, reordering,
# misdelivery) is a broken promise.
LATE_CAUSES = {"no echo by the end", "lost message"}
OVERLOAD_P99_MS = 1000.0


def fmt_ms(v) -> str:
    return "–" if v is None else f"{v:,.0f} ms" if v >= 10 else f"{v:.2f} ms"


def classify(r: dict, exit_code: int | None, server_alive: bool, run: Running) -> tuple[str, str]:
    target, connected, held = r.get("target") or 0, r.get("connected") or 0, r.get("held") or 0
    if not server_alive:
        return "fail", f"server died (exit {run.proc.returncode}) during the run: {run.log_tail()}"
    if exit_code is None:
        return "fail", "simul-load timed out and was killed"
    if exit_code not in (0, 1, 3):
        return "fail", f"simul-load exited with {exit_code}"
    by_cause = r.get("errors_by_cause", {})
    causes = ", ".join(f"{k} {v:,}" for k, v in sorted(by_cause.items(), key=lambda kv: -kv[1])[:4])
    if connected < target or held < target:
        return "limit", f"held {held:,}/{target:,} (connected {connected:,}){': ' + causes if causes else ''}"
    chat = r.get("chat") or {}
    if chat.get("duplicated") or chat.get("reordered") or chat.get("unexpected"):
        return "fail", (f"chat duplicated {chat.get('duplicated')}, reordered {chat.get('reordered')}, "
                        f"unexpected {chat.get('unexpected')}")
    if r.get("errors"):
        p99 = (r.get("latency_ms") or {}).get("p99")
        late_only = all(k in LATE_CAUSES for k in by_cause)
        # A reference peer that cannot answer in time has met its limit. For simul the same symptom
        # at a modest latency would mean lost bytes, so it fails unless the server was overloaded.
        overloaded = run.spec.kind == "peer" or (p99 is not None and p99 >= OVERLOAD_P99_MS)
        if late_only and overloaded:
            return "limit", (f"too slow: {r['errors']:,} replies/deliveries still outstanding 2 s after the "
                             f"end (p99 {fmt_ms(p99)}): {causes}")
        return "fail", f"{r['errors']:,} errors with every connection up: {causes}"
    if r["workload"] != "idle" and not r.get("latency_count"):
        return "fail", "no round trips measured"
    return "ok", ""
