"""servers: the servers bench/compare measures, and their lifecycle.

Each run starts its server itself (pinned to one core), waits until it listens, and stops it with
SIGTERM, then SIGKILL after a timeout. Every wait here is bounded in time; nothing is left running.
A ProcessTree sampler reads /proc for the server and its children (the fork peer's cost lives in
its children, which simul-load's --server-pid sampler does not see).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")

# Config for simul-server in benchmarks: room for ~19k connections, chat flood control out of the
# way of the offered load (the benchmark measures delivery, not the throttle), quick shutdown, and
# no periodic stats lines.
SIMUL_BENCH_CONFIG = """\
# Written by bench/compare for benchmark runs; see bench/README.md.
limits:
  max_connections: 30000
  flood_burst: 10000
  flood_lines_per_second: 100000
  flood_max_backlog_bytes: 1048576
shutdown:
  drain_seconds: 1
log:
  stats_interval_seconds: 0
"""


class ServerError(Exception):
    """The server could not be started (a harness failure, not a measurement)."""


@dataclass(frozen=True)
class ServerSpec:
    name: str            # key used in results ("async", "threaded", "epoll", "asyncio", "fork")
    label: str           # for tables and plots
    kind: str            # "simul" or "peer"
    chat: bool           # serves the IRC chat workload
    max_connections: int | None = None   # points above this are skipped by design (not failures)
    note: str = ""
    workloads: tuple[str, ...] = ("idle", "echo", "open")   # what it serves ("chat" implies "fanout")


SIMUL_WORKLOADS = ("idle", "echo", "open", "chat", "fanout")

SPECS = {
    "async": ServerSpec("async", "simul async", "simul", True, workloads=SIMUL_WORKLOADS),
    "threaded": ServerSpec("threaded", "simul threaded", "simul", True, workloads=SIMUL_WORKLOADS),
    "epoll": ServerSpec("epoll", "C epoll peer", "peer", False),
    "asyncio": ServerSpec("asyncio", "Python asyncio peer", "peer", False),
    "fork": ServerSpec("fork", "C fork peer", "peer", False, max_connections=1000,
                       note="a process per connection, on one core; run up to 1,000 connections only"),
    "redis": ServerSpec("redis", "Redis pub/sub peer", "peer", False, workloads=("fanout",),
                        note="redis-server as a chat fan-out peer: one channel per room, subscribers "
                             "as plain TCP clients (bench/peers/resp_fanout.c); fan-out runs only"),
}


def free_ports(n: int) -> list[int]:
    """n distinct TCP ports nobody listens on right now (the kernel's picks for unconnected binds,
    all held at once: picked one after another, the kernel may hand out the same port twice)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    return free_ports(1)[0]


def raise_nofile() -> tuple[int, int]:
    """Soft open-file limit up to the hard one, for this process and everything it starts."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft, hard


def pin(core: int | None) -> list[str]:
    return ["taskset", "-c", str(core)] if core is not None else []


@dataclass
class Running:
    """A started server: its process, ports and log."""
    spec: ServerSpec
    proc: subprocess.Popen
    argv: list[str]
    echo_port: int
    chat_port: int | None
    metrics_port: int | None
    log_path: Path
    log_file: object = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])


class ServerPool:
    """Builds command lines for each server and starts/stops them. One server runs at a time."""

    def __init__(self, root: Path, build: Path, work: Path, core: int | None, max_children: int):
        self.root = root
        self.build = build
        self.work = work
        self.core = core
        self.max_children = max_children
        self.simul_server = build / "server" / "simul-server"
        self.peers = root / "bench" / "peers"
        self.config_path = work / "simul-bench.yaml"
        self.config_path.write_text(SIMUL_BENCH_CONFIG)
        self.python = sys.executable
        self._count = 0

    def check(self, names: list[str]) -> list[str]:
        """Problems that make a server unrunnable (missing binaries), as messages."""
        problems = []
        for n in names:
            spec = SPECS[n]
            if spec.kind == "simul" and not os.access(self.simul_server, os.X_OK):
                problems.append(f"{n}: {self.simul_server} not built (run: make build)")
            if n in ("epoll", "fork") and not os.access(self.peers / "build" / f"{n}_echo", os.X_OK):
                problems.append(f"{n}: bench/peers/build/{n}_echo not built")
            if n == "asyncio" and not (self.peers / "asyncio_echo.py").exists():
                problems.append("asyncio: bench/peers/asyncio_echo.py missing")
            if n == "redis" and not shutil.which("redis-server"):
                problems.append("redis: redis-server not installed (scripts/deps.sh installs it)")
            if n == "redis" and not os.access(self.peers / "build" / "resp_fanout", os.X_OK):
                problems.append("redis: bench/peers/build/resp_fanout not built")
        return problems

    def command(self, spec: ServerSpec) -> tuple[list[str], int, int | None, int | None]:
        if spec.kind == "simul":
            echo, chat, metrics = free_ports(3)
            argv = [str(self.simul_server), "--model", spec.name, "--config", str(self.config_path),
                    "--echo-port", str(echo), "--chat-port", str(chat), "--metrics-port", str(metrics),
                    "--log-level", "warn"]
            return argv, echo, chat, metrics
        if spec.name == "redis":
            # No persistence, no protected mode (the clients bind to 127.X.0.2 and up), room for
            # the subscribers within the open-file limit.
            port = free_port()
            argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--protected-mode", "no",
                    "--save", "", "--appendonly", "no", "--maxclients", "19000", "--tcp-backlog", "4096",
                    "--loglevel", "warning"]
            return argv, port, None, None
        if spec.name == "epoll":
            argv = [str(self.peers / "build" / "epoll_echo"), "--port", "0"]
        elif spec.name == "fork":
            argv = [str(self.peers / "build" / "fork_echo"), "--port", "0",
                    "--max-children", str(self.max_children)]
        else:
            argv = [self.python, str(self.peers / "asyncio_echo.py"), "--port", "0"]
        return argv, 0, None, None

    def start(self, spec: ServerSpec, timeout: float = 10.0) -> Running:
        argv, echo, chat, metrics = self.command(spec)
        self._count += 1
        log_path = self.work / f"server-{self._count:04d}-{spec.name}.log"
        log = open(log_path, "w+b")
        proc = subprocess.Popen(pin(self.core) + argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True)
        run = Running(spec, proc, pin(self.core) + argv, echo, chat, metrics, log_path, log)
        try:
            if spec.kind == "peer" and not run.echo_port:
                run.echo_port = self._wait_for_banner(run, timeout)
            ports = [p for p in (run.echo_port, run.chat_port, run.metrics_port) if p]
            self._wait_for_ports(run, ports, timeout)
            self._quiesce(run)
        except Exception:
            self.stop(run)
            raise
        return run

    def _wait_for_banner(self, run: Running, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        pattern = re.compile(rb"listening on \[?[^\]\s]*\]?:(\d+)")
        while time.monotonic() < deadline:
            m = pattern.search(run.log_path.read_bytes())
            if m:
                return int(m.group(1))
            if run.proc.poll() is not None:
                raise ServerError(f"{run.spec.name} exited with {run.proc.returncode} before listening: "
                                  f"{run.log_tail()}")
            time.sleep(0.02)
        raise ServerError(f"{run.spec.name} printed no 'listening on' line within {timeout:.0f} s")

    def _wait_for_ports(self, run: Running, ports: list[int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = list(ports)
        while pending and time.monotonic() < deadline:
            if run.proc.poll() is not None:
                raise ServerError(f"{run.spec.name} exited with {run.proc.returncode} at start: "
                                  f"{run.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.5):
                    pending.pop(0)
            except OSError:
                time.sleep(0.02)
        if pending:
            raise ServerError(f"{run.spec.name} not listening on port {pending[0]} within {timeout:.0f} s")

    def _quiesce(self, run: Running, timeout: float = 3.0) -> None:
        """Waits (bounded) until the footprint stops changing: the probe connections of
        _wait_for_ports are closed and their threads gone, so the first run's baseline is clean."""
        deadline = time.monotonic() + timeout
        last = self.footprint(run)
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = self.footprint(run)
            if now == last:
                return
            last = now

    @staticmethod
    def footprint(run: Running) -> tuple[int, int, int]:
        """(processes, threads, open files) of the server's tree right now."""
        procs = threads = fds = 0
        for pid in tree_pids(run.pid):
            st = _stat(pid)
            if st is None:
                continue
            procs += 1
            threads += st[1]
            try:
                fds += len(os.listdir(f"/proc/{pid}/fd"))
            except OSError:
                pass
        return procs, threads, fds

    def settle(self, run: Running, baseline: tuple[int, int, int], timeout: float) -> bool:
        """Waits (bounded) until the server is back to its footprint before the previous run: its
        connections closed, their threads or processes gone. False if it did not within timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if run.proc.poll() is not None:
                return True  # the caller reports the exit
            procs, threads, fds = self.footprint(run)
            if procs <= baseline[0] and threads <= baseline[1] + 2 and fds <= baseline[2] + 2:
                return True
            time.sleep(0.05)
        return False

    def stop(self, run: Running, timeout: float = 8.0) -> dict:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns how it ended."""
        outcome = {"signal": "SIGTERM", "exit_code": None, "stop_s": 0.0}
        t0 = time.monotonic()
        children = tree_pids(run.pid)[1:]
        if run.proc.poll() is None:
            try:
                run.proc.send_signal(signal.SIGTERM)
                run.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                outcome["signal"] = "SIGKILL"
                run.proc.kill()
                run.proc.wait(timeout=10)
        else:
            outcome["signal"] = None
        # Children of a killed fork peer die with it (PR_SET_PDEATHSIG); make sure of the ones we saw.
        for pid in children:
            if _ppid(pid) in (run.pid, 1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        outcome["exit_code"] = run.proc.returncode
        outcome["stop_s"] = round(time.monotonic() - t0, 3)
        if run.log_file:
            run.log_file.close()
        return outcome


# ---------------------------------------------------------------- /proc sampling of a process tree

def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def tree_pids(pid: int) -> list[int]:
    """The process and its direct children (the peers never go deeper)."""
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    return pids


def _stat(pid: int) -> tuple[float, int, int, float] | None:
    """(utime+stime seconds, threads, rss bytes, children's cpu seconds) from /proc/PID/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    f = stat[stat.rindex(")") + 2:].split()
    # fields after ")": state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14 ... num_threads=17 rss=21
    cpu = (int(f[11]) + int(f[12])) / TICKS
    ccpu = (int(f[13]) + int(f[14])) / TICKS
    return cpu, int(f[17]), int(f[21]) * PAGE, ccpu


def pss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


@dataclass
class TreeSample:
    t: float
    processes: int
    tasks: int
    rss_bytes: int
    cpu_s: float
    conns: int          # connections the server holds: children (fork peer) or new open files


class TreeSampler(threading.Thread):
    """Polls a server's process tree until stopped: every 50 ms until it holds `target` connections
    (to time the accepts), then every 0.25 s.

    Records processes, tasks (threads), RSS, CPU seconds (children that already exited are in the
    parent's cutime/cstime) and connections held: for one process the open files above `baseline`,
    for the fork peer its children. The proportional set size (Pss, shared pages split among
    sharers) of the whole tree is measured when the process count reaches a new high, at most once a
    second, because reading smaps for thousands of processes is not free.
    """

    FAST, SLOW = 0.05, 0.25

    def __init__(self, pid: int, target: int, baseline: tuple[int, int, int], horizon: float = 600.0):
        super().__init__(daemon=True)
        self.pid = pid
        self.target = target
        self.baseline = baseline                      # (processes, threads, open files) before the run
        self.horizon = horizon
        self.samples: list[TreeSample] = []
        self.accepted_at: float | None = None         # when the server first held `target`
        self.baseline_pss = self._pss(tree_pids(pid))
        self.peak_pss: tuple[int, int] | None = None   # (processes, pss bytes)
        self._halt = threading.Event()
        self._t0 = time.monotonic()
        self._last_pss = 0.0

    def restart_clock(self) -> None:
        self._t0 = time.monotonic()

    @staticmethod
    def _pss(pids: list[int]) -> int:
        return sum(p for p in (pss_bytes(x) for x in pids) if p)

    def sample(self) -> TreeSample | None:
        pids = tree_pids(self.pid)
        cpu = tasks = rss = 0
        alive = 0
        for i, p in enumerate(pids):
            s = _stat(p)
            if s is None:
                continue
            alive += 1
            cpu += s[0] + (s[3] if i == 0 else 0)
            tasks += s[1]
            rss += s[2]
        if alive == 0:
            return None
        if alive > 1 or self.baseline[0] > 1:
            conns = alive - self.baseline[0]
        else:
            try:
                conns = len(os.listdir(f"/proc/{self.pid}/fd")) - self.baseline[2]
            except OSError:
                conns = 0
        sample = TreeSample(time.monotonic() - self._t0, alive, tasks, rss, cpu, conns)
        if self.accepted_at is None and self.target > 0 and conns >= self.target:
            self.accepted_at = sample.t
        now = time.monotonic()
        if alive > 1 and (self.peak_pss is None or alive > self.peak_pss[0]) and now - self._last_pss >= 1.0:
            self._last_pss = now
            self.peak_pss = (alive, self._pss(pids))
        return sample

    def run(self) -> None:
        end = time.monotonic() + self.horizon
        while not self._halt.is_set() and time.monotonic() < end:
            s = self.sample()
            if s is None:
                break
            self.samples.append(s)
            self._halt.wait(self.FAST if self.accepted_at is None and self.target > 0 else self.SLOW)

    def finish(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        # A last look, so a count reached just before the end is not missed.
        if self.peak_pss is not None or len(tree_pids(self.pid)) > 1:
            self._last_pss = 0.0
            self.sample()

    def cpu_percent(self, t_from: float, t_to: float) -> float | None:
        """Server CPU over [t_from, t_to] (seconds on this sampler's clock), 100 = one core."""
        inside = [s for s in self.samples if t_from <= s.t <= t_to]
        if len(inside) < 2:
            return None
        a, b = inside[0], inside[-1]
        if b.t - a.t < 0.2:
            return None
        return 100.0 * (b.cpu_s - a.cpu_s) / (b.t - a.t)

    def peak(self) -> TreeSample | None:
        return max(self.samples, key=lambda s: (s.conns, s.tasks), default=None)
