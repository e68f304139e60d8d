#!/usr/bin/env python3
"""19,000 connections on one node (issue 12, item 4): scripts/bench --connections runs this.

For each server in turn (wampd, then the batched epoll broadcaster, as many rounds as asked),
a fresh server is started pinned to one core, and the load client (`wampd_loadgen crowd`,
pinned to the other core) opens COUNT WAMP v1 subscribers spread over several processes and
source addresses 127.0.0.2..., measures the set-up rate and the server's memory per
connection, then broadcasts 64 B events to all of them for a fixed time and checks that
every event reached every subscriber exactly once. Ratios are of the same round.

The caller raises `ulimit -n` (scripts/bench does): the server holds COUNT + 1 descriptors.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import run_bench  # noqa: E402  (Server, the wampd config, the machine description)

LOADGEN_TIMEOUT = 300


def log(message):
    run_bench.log(message)


# The kernel's objects behind one TCP socket held by a process: the socket, its inode, the
# open file and its dentry, and an epoll registration.
SOCKET_SLABS = ["TCP", "sock_inode_cache", "filp", "dentry", "eventpoll_epi"]


def socket_slab_bytes():
    """{slab: object size} from /proc/slabinfo (root only), or {} when unreadable."""
    sizes = {}
    try:
        with open("/proc/slabinfo") as f:
            for line in f:
                fields = line.split()
                if fields and fields[0] in SOCKET_SLABS:
                    sizes[fields[0]] = int(fields[3])
    except OSError:
        pass
    return sizes


def crowd(build, server, port, args):
    sources = [f"127.0.0.{2 + i}" for i in range(args.processes)]
    command = ["taskset", "-c", run_bench.CLIENT_CORE,
               os.path.join(build, "bench", "wampd_loadgen"), "crowd",
               "--port", str(port), "--label", server.name,
               "--server-pid", str(server.proc.pid),
               "--subscribers", str(args.count), "--processes", str(args.processes),
               "--sources", ",".join(sources), "--size", str(args.size),
               "--window", str(args.window), "--warmup", str(args.warmup),
               "--duration", str(args.duration), "--no-spin"]
    out = subprocess.run(command, capture_output=True, text=True, timeout=LOADGEN_TIMEOUT)
    lines = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"wampd_loadgen crowd printed nothing (exit {out.returncode}): "
                           f"{out.stderr[-500:]}")
    result = lines[-1]
    result["round_started"] = time.time()
    return result


def fmt_rate(x):
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.1f}k"


def table(results, count):
    rows = ["| round | server | opened | set-up (conn/s) | server RSS per connection | "
            "per subscriber | kernel slab per connection (both ends) | "
            "sockstat mem, idle (pages, delta) | deliveries/s, 64 B to all | "
            "per server CPU-second | "
            "socket buffers while broadcasting (most seen) | server CPU | every event everywhere |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        slab = (r["slab_kib_held"] - r["slab_kib_before"]) / max(1, r["opened"])
        rows.append(
            f"| {r['round']} | {r['label']} | {r['opened']:,} | {r['connections_per_s']:,.0f} | "
            f"{r['kib_per_connection']:.2f} KiB | {r.get('kib_per_subscriber', 0):.2f} KiB | "
            f"{slab:.2f} KiB | {r['tcp_mem_pages_held'] - r['tcp_mem_pages_before']:+d} | "
            f"{fmt_rate(r.get('deliveries_per_s', 0))} | "
            f"{fmt_rate(r['deliveries_per_s'] / r['server_cpu']) if r.get('server_cpu', 0) > 0 else '—'} | "
            f"{r.get('tcp_mem_pages_broadcasting_max', -1) * 4 / 1024:.1f} MiB | "
            f"{r.get('server_cpu', -1):.2f} ({r.get('server_sys_cpu', -1):.2f} kernel) | "
            f"{'yes' if r.get('all_delivered') else 'NO: ' + r.get('reason', r.get('close_reason', ''))} |")
    rows.append("")
    rows.append("| round | wampd ÷ epoll-batch: deliveries/s | per server CPU-second | "
                "set-up rate | RSS per connection |")
    rows.append("|---|---:|---:|---:|---:|")
    by_round = {}
    for r in results:
        by_round.setdefault(r["round"], {})[r["label"]] = r
    for n, pair in sorted(by_round.items()):
        w, e = pair.get("wampd"), pair.get("epoll-batch")
        if not w or not e:
            continue
        def ratio(key):
            return f"{w[key] / e[key]:.2f}×" if e.get(key) else "—"
        per_cpu = "—"
        if w.get("server_cpu", 0) > 0 and e.get("server_cpu", 0) > 0:
            per_cpu = (f"{(w['deliveries_per_s'] / w['server_cpu']) / (e['deliveries_per_s'] / e['server_cpu']):.2f}×")
        rows.append(f"| {n} | {ratio('deliveries_per_s')} | {per_cpu} | "
                    f"{ratio('connections_per_s')} | {ratio('kib_per_connection')} |")
    return "\n".join(rows)


def render(path):
    """The tables of a results file written by --out."""
    with open(path) as f:
        document = json.load(f)
    print(table(document["results"], document["args"]["count"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="the Release build tree")
    parser.add_argument("--count", type=int, default=19000, help="subscribers")
    parser.add_argument("--processes", type=int, default=4,
                        help="load-client processes, one source address each (127.0.0.2...)")
    parser.add_argument("--size", type=int, default=64, help="event size in bytes")
    parser.add_argument("--window", type=int, default=32, help="events in flight")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--servers", default="wampd,epoll-batch")
    parser.add_argument("--port", type=int, default=18900, help="first port")
    parser.add_argument("--out", help="results JSON to write")
    parser.add_argument("--render", metavar="JSON", help="print the tables of a results file and exit")
    args = parser.parse_args()
    if args.render:
        render(args.render)
        return 0

    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 100:
        sys.exit(f"bench: ulimit -n is {soft}; the server needs {args.count + 100} "
                 "(scripts/bench --connections raises it to the hard limit)")
    build = os.path.abspath(args.build)
    out_dir = os.path.join(build, "bench-out")
    os.makedirs(out_dir, exist_ok=True)
    broadcaster = os.path.join(build, "bench", "wampd_epoll_broadcaster")
    wampd = os.path.join(build, "bin", "wampd")
    servers = {
        "wampd": run_bench.Server(
            "wampd", lambda p: [wampd, "--config", run_bench.write_wampd_config(build, out_dir, p)],
            out_dir),
        "epoll-batch": run_bench.Server(
            "epoll-batch", lambda p: [broadcaster, "--port", str(p), "--mode", "batch"], out_dir),
    }
    names = args.servers.split(",")
    results = []
    port = args.port
    started = time.time()
    for n in range(1, args.rounds + 1):
        for name in names:
            server = servers[name]
            busy = run_bench.cpu_busy(1.0)
            server.start(port)
            try:
                log(f"round {n}: {name}, {args.count:,} subscribers on port {port}")
                result = crowd(build, server, port, args)
            finally:
                server.stop()
            result.update({"round": n, "machine_busy_before": busy,
                           "builds_running": run_bench.builds_running()})
            results.append(result)
            log(f"  {json.dumps(result)}")
            port += 1
            # The client closed with resets; let the kernel free the sockets before the next.
            time.sleep(2)
    slabs = socket_slab_bytes()
    document = {"machine": run_bench.machine(), "socket_slab_bytes": slabs, "started": started,
                "seconds": round(time.time() - started), "args": vars(args), "results": results}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(document, f, indent=1)
    print(table(results, args.count))
    if slabs:
        print(f"\nkernel objects per TCP socket (/proc/slabinfo): "
              + " + ".join(f"{k} {v}" for k, v in slabs.items())
              + f" = {sum(slabs.values())} bytes")
    return 0 if all(r.get("all_delivered") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
