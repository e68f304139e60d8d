#!/usr/bin/env python3
"""Writes docs/BENCHMARKS.md and docs/benchmarks.png from the results of bench/run_bench.py.
Every number in the document comes from one results file, that is from one run; the
analysis of where the time goes is bench/analysis.md, included as written."""
import argparse
import json
import os

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINES = ["ws", "epoll-frame", "epoll-batch"]
BASELINE_TITLES = {
    "ws": "Node.js `ws` 8 broadcast server",
    "epoll-frame": "epoll, one write per frame",
    "epoll-batch": "epoll, one write per socket per loop turn",
}
SUBJECTS = ["wampd", "wampd-v2"]
SUBSCRIBERS = [1, 100, 1000, 10000]


def si(x, unit=""):
    if x is None:
        return "—"
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= factor:
            return f"{x / factor:.3g}{suffix}{unit}"
    return f"{x:.3g}{unit}"


def us(x):
    if x is None:
        return "—"
    if x >= 1000:
        return f"{x / 1000:.3g} ms"
    return f"{x:.3g} µs"


def ratio(a, b):
    if a is None or not b:
        return "—"
    return f"{a / b:.2f}×"


def best(lines, mode=None):
    """Of repeated measurements, the least disturbed: the fastest, or for a fixed rate the
    one with the lowest p99."""
    if not lines:
        return None
    if mode == "rate":
        return min(lines, key=lambda r: r["p99_us"])
    for key in ("deliveries_per_s", "calls_per_s", "connections_per_s"):
        if key in lines[0]:
            return max(lines, key=lambda r: r[key])
    return lines[0]


class Results:
    def __init__(self, document):
        self.doc = document
        self.lines = document["results"]
        self.labels = [l for l in BASELINES + SUBJECTS if any(r.get("label") == l for r in self.lines)]

    def all(self, scenario, label, **where):
        return [r for r in self.lines
                if r.get("scenario") == scenario and r.get("label") == label and r.get("status") != "failed"
                and all(r.get(k) == v for k, v in where.items())]

    def find(self, scenario, label, **where):
        return best(self.all(scenario, label, **where), where.get("mode"))

    def fanout(self, label, subscribers, size, mode, **where):
        return self.find("fanout", label, subscribers=subscribers, size=size, mode=mode, **where)

    def at_rate(self, label, rate):
        """Fixed-rate phases at 1,000 subscribers offered `rate` events/s (within 0.5%)."""
        lines = [r for r in self.all("fanout", label, subscribers=1000, size=64, mode="rate")
                 if abs(r["offered_events_per_s"] - rate) <= 0.005 * rate]
        return best(lines, "rate")

    def dps(self, label, subscribers, size, mode):
        r = self.fanout(label, subscribers, size, mode)
        return r["deliveries_per_s"] if r else None

    def cost(self, label, subscribers, size, mode):
        """Server CPU microseconds per delivery, the lowest of the repeated measurements: what
        a delivery costs whatever else runs on the machine (the server had its core or not)."""
        costs = [r["server_cpu"] / r["deliveries_per_s"] * 1e6
                 for r in self.all("fanout", label, subscribers=subscribers, size=size, mode=mode)
                 if r["deliveries_per_s"] > 0 and r.get("server_cpu", 0) > 0.05]
        return min(costs) if costs else None

    def failures(self):
        return [r for r in self.lines if r.get("status") == "failed"]


def machine_section(res):
    m = res.doc["machine"]
    out = ["## The machine and the run", "",
           "| | |", "|---|---|",
           f"| CPU | {m['cpu']} |",
           f"| cores (nproc) | {m['nproc']} |",
           f"| memory | {m['memory_gib']} GiB |",
           f"| kernel | {m['kernel']} |",
           f"| compiler | {m['gxx']} (Release build) |",
           f"| Node.js | {m['node']} |",
           f"| pinning | every server on core {m['server_core']}, the load client on core {m['client_core']} (taskset) |",
           f"| run | started {res.doc['started']}, took {res.doc['seconds']:.0f} s |",
           "", "Load on the machine while each server was measured (other engineers build on it; a "
           "running build takes CPU from both cores and skews the numbers):", "",
           "| server | sessions | with other builds or tests running at start | both cores busy just before (mean) | waited for builds |",
           "|---|---:|---:|---:|---:|"]
    by_server = {}
    for entry in res.doc["load"]:
        by_server.setdefault(entry["server"], []).append(entry)
    for server, entries in by_server.items():
        busy = sum(1 for e in entries if e["builds_at_start"])
        mean = sum(e.get("cpu_busy_before", 0) for e in entries) / len(entries)
        waited = sum(e.get("waited_for_builds_s", 0) for e in entries)
        out.append(f"| {server} | {len(entries)} | {busy} | {mean * 100:.0f}% | {waited} s |")
    out += ["", f"Each server ran in turn at every step (idle memory, then each subscriber count, "
            f"then RPC), {res.doc['settings'].get('repeat', 1)} rounds at 1,000 subscribers; where a "
            "measurement was repeated, the tables show the best of them (for a fixed rate, the "
            "lowest p99)."]
    return out


def fanout_tables(res):
    out = ["## Fan-out: deliveries per second", "",
           "One publisher, N subscribers of one topic. **Bursts**: the publisher keeps a window of "
           f"{res.doc['settings']['window']} events in flight (fewer when N × window × frame would pass "
           "64 MiB: the `window` column of the results file says which). **One at a time**: the next "
           "event is published when every subscriber has the previous one. A delivery is one EVENT "
           "frame read by one subscriber. Ratios compare wampd with each baseline of this run.", ""]
    for mode, mode_title in (("burst", "Bursts"), ("one", "One event at a time")):
        for size in (64, 1024):
            out += [f"### {mode_title}, {size} B events", "",
                    "| server | " + " | ".join(f"{n:,} sub." for n in SUBSCRIBERS) + " |",
                    "|---|" + "---:|" * len(SUBSCRIBERS)]
            for label in res.labels:
                cells = [si(res.dps(label, n, size, mode)) for n in SUBSCRIBERS]
                out.append(f"| {label} | " + " | ".join(cells) + " |")
            for subject in SUBJECTS:
                if subject not in res.labels:
                    continue
                for base in BASELINES:
                    cells = [ratio(res.dps(subject, n, size, mode), res.dps(base, n, size, mode))
                             for n in SUBSCRIBERS]
                    out.append(f"| **{subject} ÷ {base}** | " + " | ".join(cells) + " |")
            out.append("")
    out += ["Who limited each measurement: the server's CPU (with the part spent in the kernel), as a "
            "fraction of one core, and the fraction of the time the load client had work (it "
            "busy-polls, so its CPU time says nothing). A server well below 1.0 with an idle client "
            "waited on TCP (see the analysis) or lost its core to other load on the machine; a "
            "client near 1.0 may have limited the rate.", "",
            "| server | phase | " + " | ".join(f"{n:,} sub.: server CPU / client busy" for n in SUBSCRIBERS) + " |",
            "|---|---|" + "---:|" * len(SUBSCRIBERS)]
    for label in res.labels:
        for mode in ("burst", "one"):
            cells = []
            for n in SUBSCRIBERS:
                r = res.fanout(label, n, 64, mode)
                cells.append(f"{r['server_cpu']:.2f} ({r.get('server_sys_cpu', 0):.2f} kernel) / "
                             f"{r.get('client_busy', float('nan')):.2f}" if r else "—")
            out.append(f"| {label} | {mode}, 64 B | " + " | ".join(cells) + " |")
    out.append("")
    return out


def cost_table(res):
    out = ["## Server CPU per delivery", "",
           "The server's CPU time (user and kernel, from /proc) over the measured time divided by "
           "the deliveries: what one delivery costs, which other load on the machine does not change "
           "much (it takes the server's core away, not the work out of a delivery). The ratio rows "
           "are the baseline's cost over wampd's: above 1, wampd does more per CPU-second. A server "
           "that sat idle waiting on TCP looks cheap here and slow above: read both.", ""]
    for mode, mode_title in (("burst", "Bursts"), ("one", "One event at a time")):
        out += [f"### {mode_title}, 64 B events: µs of server CPU per delivery", "",
                "| server | " + " | ".join(f"{n:,} sub." for n in SUBSCRIBERS) + " |",
                "|---|" + "---:|" * len(SUBSCRIBERS)]
        for label in res.labels:
            cells = [f"{c:.2f}" if c else "—" for c in (res.cost(label, n, 64, mode) for n in SUBSCRIBERS)]
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        for subject in SUBJECTS:
            if subject not in res.labels:
                continue
            for base in BASELINES:
                cells = [ratio(res.cost(base, n, 64, mode), res.cost(subject, n, 64, mode)) for n in SUBSCRIBERS]
                out.append(f"| **{base} ÷ {subject}** | " + " | ".join(cells) + " |")
        out.append("")
    return out


def latency_table(res):
    rates = res.doc["settings"].get("common_rates") or []
    out = ["## Publish-to-delivery latency, 1,000 subscribers, 64 B", "",
           "From the moment the client wrote the PUBLISH to the moment each subscriber's read "
           "returned the EVENT, over every delivery in the measured time. *One at a time* is the "
           "closed loop above. At a fixed rate the publisher publishes on schedule whatever is in "
           "flight (open loop), at 50% and 80% of the server's own burst maximum, and at 50% and "
           "80% of the `ws` baseline's, so that every server is also compared at equal load.", "",
           "| server | load | offered events/s | deliveries/s | p50 | p99 | max | p99 ÷ ws p99 at this load |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]

    def row_for(label, kind):
        if kind == "one":
            return res.fanout(label, 1000, 64, "one")
        if kind.startswith("own"):
            return res.find("fanout", label, subscribers=1000, size=64, mode="rate",
                            rate_basis=f"own:{float(kind[4:]):.6f}")
        return res.at_rate(label, rates[int(kind[5:])])

    kinds = [("one", "one at a time"), ("own:0.5", "50% of own max"), ("own:0.8", "80% of own max")]
    if rates:
        kinds += [("given0", f"50% of ws max ({rates[0]:.0f}/s)"), ("given1", f"80% of ws max ({rates[1]:.0f}/s)")]
    for label in res.labels:
        for kind, title in kinds:
            r = row_for(label, kind)
            if not r:
                continue
            ws = row_for("ws", kind) if kind in ("one", "given0", "given1") else None
            offered = r["offered_events_per_s"] or r["events_per_s"]
            out.append(f"| {label} | {title} | {offered:.0f} | {si(r['deliveries_per_s'])} | "
                       f"{us(r['p50_us'])} | {us(r['p99_us'])} | {us(r['max_us'])} | "
                       f"{ratio(r['p99_us'], ws['p99_us']) if ws else '—'} |")
    out.append("")
    return out


def rpc_table(res):
    out = ["## RPC: calls per second to a no-op procedure", "",
           "wampd serves `bench/noop` with the no-op handler of bench/plugin (decode, route, call "
           "through the plugin boundary, encode, write); the baselines answer CALL with a null "
           "CALLRESULT straight away.", "",
           "| server | connections × calls in flight | calls/s | p50 | p99 | ÷ ws | ÷ epoll-frame | ÷ epoll-batch |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for connections, window in ((1, 1), (8, 16)):
        base = {b: res.find("rpc", b, connections=connections, window=window) for b in BASELINES}
        for label in res.labels:
            r = res.find("rpc", label, connections=connections, window=window)
            if not r:
                continue
            ratios = [ratio(r["calls_per_s"], base[b]["calls_per_s"] if base[b] else None) for b in BASELINES]
            out.append(f"| {label} | {connections} × {window} | {si(r['calls_per_s'])} | {us(r['p50_us'])} | "
                       f"{us(r['p99_us'])} | " + " | ".join(ratios) + " |")
    out.append("")
    return out


def idle_table(res):
    out = ["## Idle connections: memory and set-up rate", "",
           "Server RSS (VmRSS from /proc/PID/status) before and after opening the connections "
           "(WebSocket upgrade and WELCOME, no subscription), on a freshly started server; the "
           "connections are then held for a while and counted again. The set-up rate counts TCP "
           "connect, upgrade and WELCOME, with 200 handshakes under way at once.", "",
           "| server | opened / held | RSS before | RSS held | KiB per connection | connections/s | set-up ÷ ws | ÷ epoll-batch |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    ws = res.find("idle", "ws")
    batch = res.find("idle", "epoll-batch")
    for label in res.labels:
        r = res.find("idle", label)
        if not r:
            continue
        out.append(f"| {label} | {r['opened']:,} / {r['still_open']:,} | {r['rss_kib_before'] / 1024:.1f} MiB | "
                   f"{r['rss_kib_held'] / 1024:.1f} MiB | {r['kib_per_connection']:.2f} | "
                   f"{si(r['connections_per_s'])} | "
                   f"{ratio(r['connections_per_s'], ws['connections_per_s'] if ws else None)} | "
                   f"{ratio(r['connections_per_s'], batch['connections_per_s'] if batch else None)} |")
    out.append("")
    return out


def slow_table(res):
    rows = [r for r in res.lines if r.get("scenario") == "slow" and r.get("status") != "failed"]
    out = ["## A subscriber that stops reading", "",
           "N subscribers read normally; one more subscribes with a 4 KiB receive buffer. Bursts of "
           "1 KiB events run twice: first with everyone reading, then with the extra subscriber no "
           "longer reading. The others' deliveries/s are compared, and server RSS is sampled every "
           "0.25 s. Afterwards the client reads the stalled socket to see how the server ended it.", "",
           "| server | N | others' deliveries/s, all reading | with one stalled | change | RSS all reading | RSS max while stalled | RSS after | stalled subscriber | bytes it got |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        verdict = (f"closed with {r['slow_close_code']}" if r["slow_close_code"] else
                   ("still open" if r["slow_still_open"] else r["slow_close"]))
        out.append(f"| {r['label']} | {r['subscribers']:,} | {si(r['deliveries_per_s_all_reading'])} | "
                   f"{si(r['deliveries_per_s_with_slow'])} | {r['change'] * 100:+.1f}% | "
                   f"{r['rss_kib_all_reading'] / 1024:.1f} MiB | {r['rss_kib_with_slow_max'] / 1024:.1f} MiB | "
                   f"{r['rss_kib_after'] / 1024:.1f} MiB | {verdict} | {r['slow_bytes_read_total'] / 1048576:.1f} MiB |")
    for note in res.doc["notes"]:
        if "slow_consumer_log_lines" in note:
            out.append("")
            out.append(f"The server logged {note['slow_consumer_log_lines']} slow-subscriber "
                       "disconnection(s) (\"send queue over … bytes\").")
    out.append("")
    return out


def targets_section(res):
    out = ["## The targets of issue 6", "",
           "Deliveries/s are wall-clock rates, best of the rounds; *per server CPU-second* divides "
           "by the CPU the server actually got (see [Server CPU per delivery](#server-cpu-per-delivery)), "
           "which matters on this shared machine. Where the two disagree the verdict says so.", "",
           "| target | measured | verdict |", "|---|---|---|"]

    def verdict(ok):
        return "**met**" if ok else "**NOT met**"

    def cpu_note(*rows):
        """The server CPU behind a best-of figure: below ~0.9 the server lost its core to
        other load or waited (on TCP), and the ratio understates or overstates it."""
        return ", ".join(f"{r['label']} server CPU {r['server_cpu']:.2f}" for r in rows if r)

    def per_cpu(mode, base):
        """wampd's deliveries per server CPU-second over the baseline's (baseline cost ÷ wampd's)."""
        mine, theirs = res.cost("wampd", 1000, 64, mode), res.cost(base, 1000, 64, mode)
        return theirs / mine if mine and theirs else None

    def fmt(x):
        return f"**{x:.2f}×**" if x is not None else "—"

    def combined(by_wall, by_cpu):
        if by_wall == by_cpu:
            return verdict(by_wall)
        return ("**met by deliveries/s, not per CPU-second**" if by_wall else
                "**NOT met by deliveries/s, met per CPU-second** (the machine was loaded: rerun when quiet)")

    w = res.fanout("wampd", 1000, 64, "burst")
    ws = res.fanout("ws", 1000, 64, "burst")
    batch = res.fanout("epoll-batch", 1000, 64, "burst")
    if w and ws and batch:
        a = w["deliveries_per_s"] / ws["deliveries_per_s"]
        b = w["deliveries_per_s"] / batch["deliveries_per_s"]
        ca, cb = per_cpu("burst", "ws"), per_cpu("burst", "epoll-batch")
        out.append(f"| Bursts, 1,000 subscribers, 64 B: ≥ 8× ws and ≥ 0.25× batched epoll | "
                   f"{si(w['deliveries_per_s'])}/s = **{a:.2f}× ws** ({si(ws['deliveries_per_s'])}/s), "
                   f"**{b:.2f}× batched epoll** ({si(batch['deliveries_per_s'])}/s); {cpu_note(w, ws, batch)}. "
                   f"Per server CPU-second: {fmt(ca)} ws, {fmt(cb)} batched epoll | "
                   f"{combined(a >= 8 and b >= 0.25, ca is not None and cb is not None and ca >= 8 and cb >= 0.25)}" +
                   ("" if a >= 8 else f": {a / 8 * 100:.0f}% of the ws goal") +
                   ("" if b >= 0.25 else f"; {b / 0.25 * 100:.0f}% of the batched-epoll goal") + " |")
    w1 = res.fanout("wampd", 1000, 64, "one")
    ws1 = res.fanout("ws", 1000, 64, "one")
    if w1 and ws1:
        a = w1["deliveries_per_s"] / ws1["deliveries_per_s"]
        p = w1["p99_us"] / ws1["p99_us"]
        c1 = per_cpu("one", "ws")
        out.append(f"| One at a time, 1,000 subscribers: ≥ 1.5× ws, p99 no worse | "
                   f"{si(w1['deliveries_per_s'])}/s = **{a:.2f}× ws** ({si(ws1['deliveries_per_s'])}/s); "
                   f"p99 {us(w1['p99_us'])} vs ws {us(ws1['p99_us'])} (**{p:.2f}×**); {cpu_note(w1, ws1)}. "
                   f"Per server CPU-second: {fmt(c1)} ws | "
                   f"{combined(a >= 1.5 and p <= 1.0, c1 is not None and c1 >= 1.5 and p <= 1.0)}" +
                   ("" if a >= 1.5 else f": {a / 1.5 * 100:.0f}% of the goal") + " |")
    idle = res.find("idle", "wampd")
    if idle:
        ok = idle["kib_per_connection"] <= 6 and idle["still_open"] >= 10000
        out.append(f"| Idle: ≤ 6 KiB per connection, 10,000 held | {idle['kib_per_connection']:.2f} KiB per "
                   f"connection, {idle['still_open']:,} of {idle['connections']:,} held | {verdict(ok)} |")
    for r in (r for r in res.lines if r.get("scenario") == "slow" and r.get("label") == "wampd"
              and r.get("status") != "failed"):
        growth = (r["rss_kib_with_slow_max"] - r["rss_kib_all_reading"]) / 1024
        closed = r["slow_close_code"] in (1008, 1013)
        per_cpu = None
        if r.get("server_cpu_all_reading", 0) > 0.05 and r.get("server_cpu_with_slow", 0) > 0.05:
            a = r["deliveries_per_s_all_reading"] / r["server_cpu_all_reading"]
            b = r["deliveries_per_s_with_slow"] / r["server_cpu_with_slow"]
            per_cpu = (b - a) / a
        # Bounded: the growth stays within the 4 MiB send-queue limit plus allocator slack.
        bounded = growth <= 8
        out.append(f"| Slow subscriber among {r['subscribers']:,}: others lose ≤ 10%, memory bounded | "
                   f"others {r['change'] * 100:+.1f}% ({si(r['deliveries_per_s_all_reading'])}/s → "
                   f"{si(r['deliveries_per_s_with_slow'])}/s" +
                   (f"; server CPU {r['server_cpu_all_reading']:.2f} → {r['server_cpu_with_slow']:.2f}"
                    if "server_cpu_all_reading" in r else "") +
                   (f"; per server CPU-second {per_cpu * 100:+.1f}%" if per_cpu is not None else "") +
                   f"); RSS +{growth:.1f} MiB over {r['stall_seconds']:.0f} s stalled; the stalled one was " +
                   slow_fate(r, closed) +
                   f" | {combined(r['change'] >= -0.10 and bounded, (per_cpu if per_cpu is not None else r['change']) >= -0.10 and bounded)} |")
    v2 = [n for n in res.doc["notes"] if n.get("wamp") == "v2" and not n.get("supported", True)]
    if v2:
        out.append(f"| WAMP v2 measured like v1 | not supported yet by the server under test: {v2[0]['reason']} | **not measured** |")
    out.append("")
    return out


def slow_fate(r, closed):
    """What became of the stalled subscriber, in words."""
    if closed:
        return f"closed with {r['slow_close_code']}"
    if r.get("slow_still_open"):
        return "still open (its queue had not reached the limit)"
    # Over the limit its backlog was dropped and a close frame queued; a subscriber that does
    # not read never gets that frame, so the server closes the socket at the close timeout.
    return ("disconnected by the server (send queue over the limit; the 1008 close frame could "
            "not reach a subscriber that does not read, the socket was closed at the close timeout)")


def tls_table(res):
    """Bursts over TLS beside the plain ones, same server process, same run."""
    plain = res.all("fanout", "wampd", subscribers=1000, size=64, mode="burst")
    tls = res.all("fanout", "wampd-tls", subscribers=1000, size=64, mode="burst")
    if not plain or not tls:
        return []
    out = ["## TLS fan-out: bursts over TLS beside plain, 1,000 subscribers, 64 B", "",
           "Each round's TLS bursts ran right after its plain ones, on the same wampd process "
           "(a plain and a TLS listener). Server CPU per delivery divides the server's CPU time by "
           "the deliveries; see the analysis below for where the time goes.", "",
           "| round | plain deliveries/s | TLS deliveries/s | TLS / plain | server µs CPU per delivery, plain | TLS | client busy, TLS |",
           "|---|---|---|---|---|---|---|"]
    for i, (p, t) in enumerate(zip(plain, tls), 1):
        def cpu_per(r):
            return (f"{r['server_cpu'] / r['deliveries_per_s'] * 1e6:.3f}"
                    if r.get("server_cpu", -1) > 0 and r["deliveries_per_s"] else "—")
        out.append(f"| {i} | {si(p['deliveries_per_s'])} | {si(t['deliveries_per_s'])} | "
                   f"{t['deliveries_per_s'] / p['deliveries_per_s']:.2f} | {cpu_per(p)} | {cpu_per(t)} | "
                   f"{t.get('client_busy', 0):.2f} |")
    return out + [""]


def chart(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
    styles = {"ws": ("tab:orange", "s"), "epoll-frame": ("tab:gray", "^"),
              "epoll-batch": ("black", "v"), "wampd": ("tab:blue", "o"), "wampd-v2": ("tab:green", "D")}
    for ax, (mode, title) in zip(axes, (("burst", "Bursts"), ("one", "One event at a time"))):
        for label in res.labels:
            points = [(n, res.dps(label, n, 64, mode)) for n in SUBSCRIBERS]
            points = [(n, d) for n, d in points if d]
            if not points:
                continue
            color, marker = styles.get(label, ("tab:red", "x"))
            ax.plot([p[0] for p in points], [p[1] for p in points], marker=marker, color=color,
                    label=label, linewidth=2 if label.startswith("wampd") else 1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(SUBSCRIBERS)
        ax.set_xticklabels([f"{n:,}" for n in SUBSCRIBERS])
        ax.set_xlabel("subscribers")
        ax.set_title(f"{title}, 64 B events")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("deliveries per second")
    axes[0].legend()
    m = res.doc["machine"]
    fig.suptitle(f"wampd fan-out beside the baselines ({m['cpu']}, server on one core), run of {res.doc['started']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results")
    parser.add_argument("--doc", default=os.path.join(SOURCE, "docs", "BENCHMARKS.md"))
    parser.add_argument("--chart", default=os.path.join(SOURCE, "docs", "benchmarks.png"))
    args = parser.parse_args()
    with open(args.results) as f:
        res = Results(json.load(f))

    out = ["# Benchmarks", "",
           "<!-- Generated by scripts/bench (bench/make_report.py) from one run; edit "
           "bench/make_report.py or bench/analysis.md instead. -->", "",
           "wampd against three baselines measured in the same run: " +
           "; ".join(f"`{k}`: {v}" for k, v in BASELINE_TITLES.items()) + ". "
           "All speak just enough WAMP v1 for the same load client (bench/loadgen) to drive them.", "",
           "## How to run", "",
           "```sh",
           "scripts/bench            # builds build-bench/ (Release) under the build lock, installs the",
           "                         # pinned npm ws, runs everything, rewrites this file and the chart",
           "scripts/bench --quick    # shorter phases, for trying the tool",
           "```", "",
           "The C++ parts build only with `-DWAMPD_BUILD_BENCH=ON` (off by default). Results of the "
           "last run are kept in `build-bench/bench-results.json`; server logs in `build-bench/bench-out/`. "
           "`bench/run_bench.py --help` lists what a run can leave out or repeat (servers, subscriber "
           "counts, rounds, durations). The load client also runs on its own against any server "
           "speaking WAMP v1 or v2 JSON, for example:", "",
           "```sh",
           "build-bench/bench/wampd_loadgen fanout --port 8080 --subscribers 1000 --sizes 64 \\",
           "    --server-pid $(pidof wampd)     # also: probe, rpc, idle, slow; --wamp v2; --help",
           "bench/profile_wampd.sh one        # instructions per delivery under callgrind (or: burst)",
           "```", "",
           "Method: each server runs pinned to one core, the load client (bench/loadgen, one thread, "
           "epoll, its own WebSocket framing) on the other. An event of *N* bytes is a JSON string of "
           "exactly *N* bytes (quotes included) carrying a sequence number; every delivery is checked "
           "against what was published. wampd serves the topic `oro/data/update` with the bundled "
           "broadcast plugin and trusts 127.0.0.1 as the backend (the publisher); the baselines speak "
           "just enough WAMP v1 for the same client.",
           "", "![deliveries per second against subscribers](benchmarks.png)", ""]
    out += targets_section(res)
    out += machine_section(res) + [""]
    out += fanout_tables(res)
    out += cost_table(res)
    out += latency_table(res)
    out += rpc_table(res)
    out += idle_table(res)
    out += slow_table(res)
    out += tls_table(res)
    failures = res.failures()
    v2 = [n for n in res.doc["notes"] if n.get("wamp") == "v2"]
    if failures or v2:
        out += ["## What did not run", ""]
        for n in v2:
            out.append(f"- WAMP v2 on {n['server']}: not supported yet ({n['reason']}). The load client's v2 "
                       "mode (HELLO/WELCOME, SUBSCRIBE/SUBSCRIBED, PUBLISH, EVENT, CALL/RESULT) runs as soon "
                       "as the server answers HELLO.")
        for r in failures:
            out.append(f"- {r.get('label')} {r.get('scenario')}: {r.get('reason')}")
        out.append("")
    analysis = os.path.join(SOURCE, "bench", "analysis.md")
    if os.path.exists(analysis):
        with open(analysis) as f:
            out += [f.read().rstrip(), ""]
    with open(args.doc, "w") as f:
        f.write("\n".join(out))
    chart(res, args.chart)


if __name__ == "__main__":
    main()
