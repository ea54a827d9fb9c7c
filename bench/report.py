"""report: repeats → medians and spread, the ratios, the terminal table and the Markdown.

Nothing here measures; it reads the records workloads.run_workload produced. Ratios are taken
between figures of the same run (same machine, same minute), which is what they are for: absolute
numbers from a 2-core VM say little, "async holds a connection in 1/8 of threaded's memory" says a lot.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from servers import SPECS

# (workload, key, label, unit, better) — the figures each workload reports, in table order.
METRICS = {
    "idle": [("rss_per_conn", "RSS/conn", "bytes", "lower"), ("threads_per_conn", "threads/conn", "", "lower"),
             ("accept_all_s", "accepted all", "s", "lower"), ("setup_s", "client connected", "s", "lower")],
    "echo": [("msgs_per_s", "msgs/s", "", "higher"), ("p99", "p99", "ms", "lower"),
             ("server_cpu_pct", "server CPU", "%", None), ("msgs_per_cpu_s", "msgs/CPU-s", "", "higher")],
    "open": [("p50", "p50", "ms", "lower"), ("p99", "p99", "ms", "lower"), ("p99_9", "p99.9", "ms", "lower"),
             ("server_cpu_pct", "server CPU", "%", None)],
    "chat": [("msgs_per_s", "deliveries/s", "", "higher"), ("p99", "delivery p99", "ms", "lower"),
             ("lost", "lost", "", "lower"), ("server_cpu_pct", "server CPU", "%", None)],
    "fanout": [("msgs_per_s", "deliveries/s", "", "higher"), ("p99", "delivery p99", "ms", "lower"),
               ("lost", "lost", "", "lower"), ("server_cpu_pct", "server CPU", "%", None),
               ("msgs_per_cpu_s", "deliveries/CPU-s", "", "higher")],
}

TITLES = {
    "idle": "Idle connections held (server memory and threads per connection, time until all are held)",
    "echo": "Closed-loop echo, 64-byte messages (throughput, p99, server CPU)",
    "open": "Open-loop echo at a fixed rate per connection (latency from the intended send time)",
    "chat": "IRC chat fan-out (users in rooms of 10; delivery latency; loss must be 0)",
    "fanout": "Chat fan-out by room size at the same offered deliveries/s: simul chat vs Redis pub/sub (the "
              "room column is the members per room)",
}


def value(record: dict, key: str):
    """One figure of one run, wherever it lives in the record."""
    if key in ("rss_per_conn", "threads_per_conn"):
        return (record.get("server_mem") or {}).get(key)
    if key in ("p50", "p90", "p99", "p99_9", "max"):
        return (record.get("latency_ms") or {}).get(key)
    if key == "lost":
        return (record.get("chat") or {}).get("lost")
    return record.get(key)


def aggregate(records: list[dict]) -> list[dict]:
    """One entry per (server, workload, connections): status, medians and spread of the repeats."""
    groups = defaultdict(list)
    for r in records:
        groups[(r["server"], r["workload"], r["connections"])].append(r)
    points = []
    for (server, workload, n), runs in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])):
        statuses = [r["status"] for r in runs]
        if "fail" in statuses:
            status = "fail"
        elif "limit" in statuses:
            status = "limit"
        elif all(s == "skipped" for s in statuses):
            status = "skipped"
        else:
            status = "ok"
        use = [r for r in runs if r["status"] == "ok"] or [r for r in runs if r["status"] == "limit"]
        point = {"server": server, "workload": workload, "connections": n, "status": status,
                 "repeats": len([r for r in runs if r["status"] in ("ok", "limit")]),
                 "reasons": sorted({r["reason"] for r in runs if r.get("reason")}),
                 "notes": sorted({r["note"] for r in runs if r.get("note")}) + backlog_note(runs, n),
                 "held": _median([r.get("held") for r in use]), "metrics": {}}
        for key, *_ in METRICS[workload]:
            pairs = [(r.get("repeat", 1), v) for r, v in ((r, value(r, key)) for r in use) if v is not None]
            vals = [v for _, v in pairs]
            if vals:
                med = statistics.median(vals)
                point["metrics"][key] = {"median": med, "min": min(vals), "max": max(vals),
                                         "spread_pct": (100.0 * (max(vals) - min(vals)) / abs(med)) if med else 0.0,
                                         "values": vals, "by_repeat": {str(k): v for k, v in pairs}}
        points.append(point)
    return points


def backlog_note(runs: list[dict], n: int) -> list[str]:
    """Idle runs where the server had not yet accepted every connection the client had up (the
    kernel completes handshakes from the listen backlog before the server accepts them)."""
    short = [held for held in ((r.get("server_mem") or {}).get("server_held") for r in runs
                               if r["workload"] == "idle" and r["status"] == "ok")
             if held is not None and held < n]
    if not short:
        return []
    return [f"at the end of the hold the server had accepted only {', '.join(f'{h:,}' for h in short)} of "
            f"{n:,} in {len(short)} of {len(runs)} runs (the rest were still in the listen backlog); memory "
            "and threads per connection divide by what it held"]


def _median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def lookup(points: list[dict]) -> dict:
    return {(p["server"], p["workload"], p["connections"]): p for p in points}


def metric(points_by_key: dict, server: str, workload: str, n: int, key: str, ok_only: bool = True):
    p = points_by_key.get((server, workload, n))
    if not p or (ok_only and p["status"] != "ok"):
        return None
    m = p["metrics"].get(key)
    return None if m is None else m["median"]


# Ratios: (workload, key, what it means, min denominator below which a ratio is meaningless)
RATIO_FIGURES = [
    ("echo", "msgs_per_s", "closed-loop throughput", 1.0),
    ("echo", "msgs_per_cpu_s", "messages per server CPU-second", 1.0),
    ("open", "p99", "open-loop p99 latency", 0.001),
    ("idle", "rss_per_conn", "server memory per idle connection", 64.0),
    ("idle", "threads_per_conn", "server threads per connection", 0.01),
    ("idle", "accept_all_s", "time until the server held every connection", 0.001),
    ("chat", "p99", "chat delivery p99", 0.001),
    ("fanout", "msgs_per_cpu_s", "fan-out deliveries per server CPU-second", 1.0),
    ("fanout", "p99", "fan-out delivery p99", 0.001),
]


def ratios(points: list[dict], servers: list[str], counts: list[int]) -> list[dict]:
    """Each model against the C epoll peer, and async against threaded, at every connection count
    where both completed."""
    by = lookup(points)
    pairs = [(s, "epoll") for s in servers if s not in ("epoll", "redis") and "epoll" in servers]
    pairs += [(s, "redis") for s in ("async", "threaded") if s in servers and "redis" in servers]
    if "async" in servers and "threaded" in servers:
        pairs.insert(0, ("async", "threaded"))
    out = []
    for a, b in pairs:
        for workload, key, meaning, floor in RATIO_FIGURES:
            for n in sorted({p["connections"] for p in points if p["workload"] == workload}):
                va, vb = metric(by, a, workload, n, key), metric(by, b, workload, n, key)
                if va is None or vb is None:
                    continue
                r = {"a": a, "b": b, "workload": workload, "key": key, "meaning": meaning, "connections": n,
                     "a_value": va, "b_value": vb, "ratio": None, "range": None, "paired": 0}
                if abs(vb) >= floor:
                    r["ratio"] = va / vb
                    # The noise: the ratio in each repeat (both sides measured in the same round),
                    # min–max over the repeats.
                    ra = by[(a, workload, n)]["metrics"][key].get("by_repeat") or {}
                    rb = by[(b, workload, n)]["metrics"][key].get("by_repeat") or {}
                    each = [ra[k] / rb[k] for k in ra if k in rb and abs(rb[k]) >= floor]
                    r["paired"] = len(each)
                    if each:
                        r["range"] = [min(each), max(each)]
                out.append(r)
    return out


# ------------------------------------------------------------------------------------ formatting

def fmt(v, unit: str = "", bare: bool = False) -> str:
    """A figure for people: bytes as KiB/MiB, latency with sensible digits. bare: no unit suffix
    (the column header carries it)."""
    if v is None:
        return "–"
    if unit == "bytes":
        if abs(v) >= 1024 * 1024:
            return f"{v / 1048576:.1f} MiB"
        if abs(v) >= 1024:
            return f"{v / 1024:.1f} KiB"
        return f"{v:.0f} B"
    suffix = "" if bare else {"ms": " ms", "s": " s", "%": "%"}.get(unit, "")
    if unit in ("ms", "s"):
        digits = 2 if abs(v) < 10 else 1 if abs(v) < 100 else 0
        return f"{v:,.{digits}f}{suffix}"
    if unit == "%":
        return f"{v:.0f}{suffix}"
    if abs(v) < 10 and v != int(v):
        return f"{v:.3f}"
    return f"{v:,.0f}"


def fmt_metric(m: dict | None, unit: str, spread: bool, bare: bool = False) -> str:
    """Median, and ±half the min–max range as a percentage of it when there were repeats."""
    if m is None:
        return "–"
    s = fmt(m["median"], unit, bare)
    if spread and len(m["values"]) > 1 and m["median"]:
        s += f" ±{m['spread_pct'] / 2:.0f}%"
    return s


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "n/a"
    if 0 < r < 0.1:
        return f"{r:.2g}×"
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def fmt_noise(r: dict) -> str:
    """The min–max of a ratio over the repeats, or why there is none."""
    if r.get("ratio") is None:
        return ""
    if r.get("paired", 0) < 2 or not r.get("range"):
        return "one run: noise unknown"
    lo, hi = r["range"]
    return f"{fmt_ratio(lo)}–{fmt_ratio(hi)} over {r['paired']} runs"


def status_cell(p: dict) -> str:
    if p["status"] == "ok":
        return "ok"
    if p["status"] == "limit":
        held = p.get("held")
        if held is not None and held < p["connections"]:
            return f"LIMIT (held {held:,.0f})"
        return "LIMIT (too slow)"
    return p["status"].upper()


def table_rows(points: list[dict], workload: str, servers: list[str], counts: list[int], spread: bool):
    by = lookup(points)
    if workload == "fanout":  # keyed by room size
        counts = sorted({p["connections"] for p in points if p["workload"] == "fanout"})
    head = ["server", "room" if workload == "fanout" else "conns", "status"] + [
        label + (f" ({unit})" if unit in ("ms", "s", "%") else "") for _, label, unit, _ in METRICS[workload]]
    rows = []
    for s in servers:
        for n in counts:
            p = by.get((s, workload, n))
            if p is None:
                continue
            cells = [SPECS[s].label, f"{n:,}", status_cell(p)]
            cells += [fmt_metric(p["metrics"].get(key), unit, spread, bare=True)
                      for key, _, unit, _ in METRICS[workload]]
            rows.append(cells)
    return head, rows


def text_table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *rows)] if rows else [len(h) for h in head]
    line = lambda cells: "  ".join(str(c).rjust(w) if i > 2 else str(c).ljust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


UNITS = {"msgs_per_s": ("", "/s"), "msgs_per_cpu_s": ("", "/CPU-s"), "p99": ("ms", ""),
         "rss_per_conn": ("bytes", ""), "threads_per_conn": ("", ""), "setup_s": ("s", ""),
         "accept_all_s": ("s", "")}

# What the headline shows: async vs threaded in full; every other server against the C epoll peer
# in throughput, efficiency and latency only (their memory ratios against ~0 B are meaningless).
HEADLINE_VS_EPOLL = {("echo", "msgs_per_s"), ("echo", "msgs_per_cpu_s"), ("open", "p99")}
HEADLINE_VS_REDIS = {("fanout", "msgs_per_cpu_s"), ("fanout", "p99")}


def fmt_value(key: str, v) -> str:
    unit, suffix = UNITS.get(key, ("", ""))
    if key == "threads_per_conn" and v is not None:
        return f"{v:.2f}"
    return fmt(v, unit) + suffix


def headline(ratio_list: list[dict]) -> list[tuple[str, list[str]]]:
    """One line per pair: each figure at the largest connection count both sides completed, the
    ratio first and the two measured values beside it. async vs threaded gets every figure; the
    others, against the C epoll peer, throughput, efficiency and latency."""
    best = {}
    for r in ratio_list:
        if r["b"] == "epoll" and (r["workload"], r["key"]) not in HEADLINE_VS_EPOLL:
            continue
        if r["b"] == "redis" and (r["workload"], r["key"]) not in HEADLINE_VS_REDIS:
            continue
        if r["workload"] == "fanout" and r["b"] != "redis":
            continue
        k = (r["a"], r["b"], r["workload"], r["key"])
        if k not in best or r["connections"] > best[k]["connections"]:
            best[k] = r
    by_pair: dict = defaultdict(list)
    for (a, b, _, _), r in best.items():
        by_pair[(a, b)].append(r)
    out = []
    for (a, b), rs in by_pair.items():
        parts = []
        for r in rs:
            ratio = fmt_ratio(r["ratio"]) if r["ratio"] is not None else "n/a"
            noise = fmt_noise(r)
            where = f"rooms of {r['connections']:,}" if r["workload"] == "fanout" else f"{r['connections']:,} connections"
            parts.append(f"{r['meaning']}: {ratio}{f' [{noise}]' if noise else ''} ({fmt_value(r['key'], r['a_value'])} vs "
                         f"{fmt_value(r['key'], r['b_value'])}, {where})")
        out.append((f"{SPECS[a].label} vs {SPECS[b].label}", parts))
    return out


def ratio_markdown(ratio_list: list[dict], counts: list[int]) -> str:
    """Rows: comparison × figure; columns: connection counts."""
    rows = defaultdict(dict)
    for r in ratio_list:
        if r["workload"] != "fanout":
            rows[(r["a"], r["b"], r["meaning"], r["workload"], r["key"])][r["connections"]] = r
    head = ["comparison", "figure"] + [f"{n:,}" for n in counts]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * len(counts)]
    for (a, b, meaning, _, key), per in rows.items():
        cells = [f"{SPECS[a].label} ÷ {SPECS[b].label}", meaning]
        for n in counts:
            r = per.get(n)
            cells.append("–" if r is None else ratio_cell(r))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_cell(r: dict) -> str:
    """A ratio with its min–max over the repeats, e.g. 1.02× (0.97–1.08)."""
    if r.get("ratio") is None or not r.get("range") or r.get("paired", 0) < 2:
        return fmt_ratio(r.get("ratio"))
    return f"{fmt_ratio(r['ratio'])} ({fmt_ratio(r['range'][0])}–{fmt_ratio(r['range'][1])})"


def fanout_ratio_markdown(ratio_list: list[dict]) -> str:
    """Rows: comparison × figure; columns: room sizes."""
    fan = [r for r in ratio_list if r["workload"] == "fanout"]
    sizes = sorted({r["connections"] for r in fan})
    if not fan:
        return ""
    rows = defaultdict(dict)
    for r in fan:
        rows[(r["a"], r["b"], r["meaning"])][r["connections"]] = r
    head = ["comparison", "figure"] + [f"rooms of {n:,}" for n in sizes]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * len(sizes)]
    for (a, b, meaning), per in rows.items():
        cells = [f"{SPECS[a].label} ÷ {SPECS[b].label}", meaning]
        cells += ["–" if per.get(n) is None else ratio_cell(per[n]) for n in sizes]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
