#!/usr/bin/env python3
"""plot: the comparison as one PNG (matplotlib), from a bench/compare results JSON.

    plot.py RESULTS.json OUT.png

bench/compare imports this when its interpreter has matplotlib, and otherwise runs it with Debian's
/usr/bin/python3 (where the python3-matplotlib package installs), so a pyenv or venv python on PATH
still gets a plot.

Six panels. Against connection count (log scale): server memory per idle connection, closed-loop
echo throughput and round trips per server CPU-second, open-loop echo p99, chat delivery p99.
Against room size: chat fan-out deliveries per server CPU-second (simul and Redis). Bars span the
repeats' min–max; a red ✕ on the axis marks a point where a server hit a limit or failed.
"""

import json
import sys

COLORS = {"async": "#1f77b4", "threaded": "#d62728", "epoll": "#2ca02c", "asyncio": "#9467bd", "fork": "#8c564b",
          "redis": "#ff7f0e"}
MARKERS = {"async": "o", "threaded": "s", "epoll": "^", "asyncio": "D", "fork": "v", "redis": "P"}

# On log axes a value at or below zero cannot be drawn: memory per connection under 10 bytes (the
# C peers hold an idle socket in kernel memory only) is drawn at 10 bytes.
FLOORS = {"rss_per_conn": 10 / 1024, "p99": 1e-3}

PANELS = [
    ("idle", "rss_per_conn", "Server memory per idle connection", "KiB per connection (log; < 10 B drawn at 10 B)", 1 / 1024, True),
    ("echo", "msgs_per_s", "Closed-loop echo throughput", "round trips / s", 1.0, False),
    ("echo", "msgs_per_cpu_s", "Closed-loop echo round trips per server CPU-second", "round trips / CPU-s", 1.0, False),
    ("open", "p99", "Open-loop echo p99 latency", "ms (log)", 1.0, True),
    ("chat", "p99", "Chat delivery p99 latency (simul only)", "ms (log)", 1.0, True),
    ("fanout", "msgs_per_cpu_s", "Chat fan-out deliveries per server CPU-second", "deliveries / CPU-s", 1.0, False),
]


def plot(results: dict, png_path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogFormatter, NullLocator

    points = results["points"]
    labels = {s["name"]: s["label"] for s in results["meta"]["servers"]}
    order = [s["name"] for s in results["meta"]["servers"]]
    fig, axes = plt.subplots(3, 2, figsize=(13, 13), dpi=100)
    for ax, (workload, key, title, ylabel, scale, logy) in zip(axes.flat, PANELS):
        drew = False
        for server in order:
            mine = sorted((p for p in points if p["server"] == server and p["workload"] == workload),
                          key=lambda p: p["connections"])
            good = [p for p in mine if p["status"] == "ok" and key in p["metrics"]]
            bad = [p for p in mine if p["status"] in ("limit", "fail")]
            if good:
                xs = [p["connections"] for p in good]
                floor = FLOORS.get(key, 1e-6) if logy else float("-inf")
                med = [max(p["metrics"][key]["median"] * scale, floor) for p in good]
                lo = [max(0.0, m - max(p["metrics"][key]["min"] * scale, floor)) for m, p in zip(med, good)]
                hi = [max(0.0, max(p["metrics"][key]["max"] * scale, floor) - m) for m, p in zip(med, good)]
                ax.errorbar(xs, med, yerr=[lo, hi], color=COLORS.get(server), marker=MARKERS.get(server, "o"),
                            capsize=3, label=labels.get(server, server), linewidth=1.6, markersize=5)
                drew = True
            if bad:
                ax.scatter([p["connections"] for p in bad], [0.02] * len(bad), marker="x", color="red", s=60,
                           transform=ax.get_xaxis_transform(), clip_on=False, zorder=5,
                           label=f"{labels.get(server, server)}: limit/fail")
                for p in bad:
                    ax.annotate(server, (p["connections"], 0.05), xycoords=("data", "axes fraction"),
                                fontsize=7, color="red", ha="center")
        ax.set_xscale("log")
        counts = results["meta"]["connections"]
        if workload == "fanout":
            counts = sorted({p["connections"] for p in points if p["workload"] == "fanout"}) or counts
        ax.xaxis.set_major_locator(FixedLocator(counts))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        if len(counts) == 1:
            ax.set_xlim(counts[0] / 2, counts[0] * 2)
        if logy:
            ax.set_yscale("log")
            # Plain numbers, and minor ticks labelled only when the data spans less than ~2 decades.
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,g}"))
            ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.6)))
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("members per room (log)" if workload == "fanout" else "connections (log)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        if drew:
            ax.legend(fontsize=8, loc="best")
        else:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center")
    m = results["meta"]
    mach = m["machine"]
    fig.suptitle(f"simul: async vs threaded vs reference peers — {m['date']} {m['git_sha']} ({m['mode']}), "
                 f"{mach['nproc']} CPUs {mach['cpu_model']}, Linux {mach['kernel']}\n"
                 f"server pinned to CPU {m.get('server_core')}, load generator to CPU {m.get('load_core')}; "
                 f"median of {m['repeats']} run(s), bars = min–max", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(png_path)
    plt.close(fig)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: plot.py RESULTS.json OUT.png", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        results = json.load(f)
    plot(results, argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
