"""harness: the run loop of bench/compare: which (repeat, server, count, workload) runs in which
order, one server per group, skipping what is out of range, past a limit or past the time budget,
and a progress line per run.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import report
import workloads
from servers import SPECS, ServerError, ServerPool

ROOT = Path(__file__).resolve().parent.parent


class Harness:
    def __init__(self, args, work: Path):
        self.args = args
        self.work = work
        self.profile = workloads.QUICK if args.quick else workloads.FULL
        ncpu = os.cpu_count() or 1
        self.server_core, self.load_core = (0, 1) if ncpu >= 2 and shutil.which("taskset") else (None, None)
        self.pool = ServerPool(ROOT, args.build, work, self.server_core, max(args.connections) + 100)
        self.load_bin = args.build / "client" / "simul-load"
        self.records: list[dict] = []
        self.skipped: list[dict] = []
        self.start = time.monotonic()
        self.run_index = 0
        self.limit_at: dict[tuple[str, str], int] = {}

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def plan(self) -> list[tuple[int, str, int, list[str]]]:
        """Groups of (repeat, server, connections, workloads). One server process serves a group's
        workloads in order (idle first, on the fresh server). Repeats are outermost so drift over
        time (other work on the machine) spreads over every point instead of landing on one."""
        groups = []
        for rep in range(1, self.args.repeats + 1):
            for n in self.args.connections:
                for s in self.args.servers:
                    ws = [w for w in self.args.workloads if w != "fanout" and w in SPECS[s].workloads]
                    if ws:
                        groups.append((rep, s, n, ws))
            # Fan-out points are keyed by room size (a fixed number of members over all rooms).
            if "fanout" in self.args.workloads:
                for members in self.profile.fanout_room_sizes:
                    for s in self.args.servers:
                        if "fanout" in SPECS[s].workloads:
                            groups.append((rep, s, members, ["fanout"]))
        return groups

    def skip(self, server, n, workload, reason, failure):
        for k in self.skipped:
            if (k["server"], k["connections"], k["workload"]) == (server, n, workload):
                if failure and not k["counts_as_failure"]:
                    k.update(reason=reason, counts_as_failure=True)
                return
        self.skipped.append({"server": server, "connections": n, "workload": workload,
                             "reason": reason, "counts_as_failure": failure})

    def source_range(self) -> str:
        # A different block of loopback source addresses per run: connections closed by the client
        # leave TIME_WAIT entries, and consecutive runs never reuse a (source, destination) pair.
        x = 1 + self.run_index % 200
        return f"127.{x}.0.2-127.{x}.0.40"

    def run_all(self) -> None:
        groups = self.plan()
        total = sum(len(g[3]) for g in groups)
        done = 0
        for rep, server, n, ws in groups:
            spec = SPECS[server]
            todo = []
            for w in ws:
                lim = self.limit_at.get((server, w))
                if spec.max_connections is not None and n > spec.max_connections:
                    self.skip(server, n, w, f"not run by design: {spec.note}", False)
                elif not self.args.connections_given and 0 < self.profile.cap(w) < n:
                    self.skip(server, n, w, f"not run by design: {w} only up to {self.profile.cap(w):,} "
                              "connections in this mode (bench/README.md)", False)
                elif lim is not None and n > lim:
                    self.skip(server, n, w, f"not run: limit already reached at {lim:,} connections", False)
                elif lim is not None and n == lim:
                    # The limit is the finding; repeating the slowest runs of all adds little.
                    self.skip(server, n, w, "not repeated: the first run reached a limit", False)
                elif self.elapsed() > self.args.budget:
                    self.skip(server, n, w, f"not run: time budget of {self.args.budget:.0f} s used up", True)
                else:
                    todo.append(w)
            total -= len(ws) - len(todo)
            if not todo:
                continue
            def on_record(record, server=server, n=n):
                nonlocal done
                done += 1
                self.records.append(record)
                if record["status"] == "limit":
                    prev = self.limit_at.get((server, record["workload"]))
                    self.limit_at[(server, record["workload"])] = n if prev is None else min(prev, n)
                print(progress_line(done, total, self.elapsed(), record), flush=True)

            self.group(rep, spec, n, todo, on_record)

    def group(self, rep: int, spec, n: int, todo: list[str], on_record) -> None:
        """Starts the server, runs each workload against it in turn, stops it. Every workload gets
        a record (failures included: a harness error in one run must not lose the others), passed
        to on_record as soon as it exists; the server's stop outcome is added afterwards."""
        def failed(w, reason):
            rec = {"repeat": rep, "workload": w, "connections": n, "server": spec.name,
                   "status": "fail", "reason": reason}
            records.append(rec)
            on_record(rec)

        records: list[dict] = []
        try:
            running = self.pool.start(spec)
        except ServerError as e:
            for w in todo:
                failed(w, f"server did not start: {e}")
            return
        try:
            baseline = self.pool.footprint(running)
            for i, w in enumerate(todo):
                if i > 0 and not self.pool.settle(running, baseline, timeout=20.0):
                    failed(w, "server did not release the previous run's connections within 20 s")
                    continue
                if running.proc.poll() is not None:
                    failed(w, f"server exited with {running.proc.returncode}: {running.log_tail()}")
                    continue
                self.run_index += 1
                json_path = self.work / f"run-{self.run_index:04d}-{spec.name}-{w}-{n}.json"
                try:
                    rec = workloads.run_workload(self.load_bin, w, n, running, self.profile,
                                                 self.source_range(), json_path, self.load_core,
                                                 self.pool.footprint(running))
                except Exception as e:  # noqa: BLE001 — recorded, and the harness goes on
                    failed(w, f"harness error: {type(e).__name__}: {e}")
                    continue
                rec.update({"repeat": rep, "server_command": running.argv})
                records.append(rec)
                on_record(rec)
        finally:
            stopped = self.pool.stop(running, timeout=8.0 + n / 1000.0)
            if stopped["signal"] == "SIGKILL" or stopped["exit_code"] not in (0, None):
                print(f"    {spec.name} did not stop cleanly: {stopped}", flush=True)
            for rec in records:
                rec["server_stop"] = stopped
                if rec["status"] != "ok":
                    continue
                if stopped["signal"] == "SIGKILL":
                    # Measured fine; a shutdown this slow is itself a finding, listed in the notes.
                    rec["note"] = f"server still running {stopped['stop_s']:.0f} s after SIGTERM: killed"
                elif stopped["exit_code"] not in (0, None):
                    rec["status"], rec["reason"] = "fail", f"server exited with {stopped['exit_code']} on SIGTERM"


def progress_line(i: int, total: int, elapsed: float, r: dict) -> str:
    head = f"[{i:3d}/{total:3d} {elapsed:5.0f}s] {r['server']:<8} {r['workload']:<4} {r['connections']:>6,} " \
           f"#{r.get('repeat', 1)}  {r['status'].upper():<5}"
    bits = []
    if r.get("setup_s") is not None:
        bits.append(f"connected {r['setup_s']:.2f}s")
    if r["workload"] == "idle":
        bits.append("accepted " + ("–" if r.get("accept_all_s") is None else f"{r['accept_all_s']:.2f}s"))
    mem = r.get("server_mem") or {}
    if r["workload"] == "idle" and mem.get("rss_per_conn") is not None:
        bits.append(f"{report.fmt(mem['rss_per_conn'], 'bytes')}/conn, {mem.get('threads_per_conn', 0):.2f} thr/conn")
    if r.get("msgs_per_s") and r["workload"] != "idle":
        bits.append(f"{r['msgs_per_s']:,.0f}/s")
    lat = r.get("latency_ms") or {}
    if lat.get("p99") is not None:
        bits.append(f"p99 {report.fmt(lat['p99'], 'ms')}")
    if r.get("server_cpu_pct") is not None:
        bits.append(f"cpu {r['server_cpu_pct']:.0f}%")
    if r.get("reason"):
        bits.append(r["reason"][:160])
    return head + "  " + ", ".join(bits)
