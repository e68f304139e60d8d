#!/usr/bin/env python3
"""Cluster on Redis (issue 13's benchmark): scripts/bench --cluster and --cluster-connections
run this.

--cluster (the default): in one run on this machine, with the same load client (bench/loadgen
`fanout`, WAMP v1, 1,000 subscribers of one topic, 64 B events, bursts and one at a time):

  standalone   one wampd without `cluster:`
  cluster-1    one wampd with `cluster:` on a redis-server started here
  cluster-2    two wampd nodes on that Redis, the subscribers split between them, the
               publisher on node 1
  epoll-batch  the batched epoll broadcaster: does standalone wampd stand where it stood?

Each configuration runs ROUNDS times in turn (so that other load on the machine weighs on all
alike); the tables take the best round. Per configuration: bursts (deliveries/s and the ratio
to standalone of the same round), then one at a time and open-loop latency at 50% of the
configuration's own burst maximum (same-node and cross-node subscribers apart), Redis
commands per publication (INFO commandstats deltas over the bursts) and publications per
Redis write (the node's wampd_cluster_events_forwarded_total and
wampd_cluster_redis_writes_total deltas), and CPU per delivery of each node and of Redis
(/proc/PID/stat over the measured time, from the load client).

Pinning: the load client on core 0; every server process (the nodes and Redis) on core 1, so
that each configuration has the same one core for its server side (--redis-core moves Redis).
--wampd-base BINARY adds configurations cluster-N@base run with another wampd (an A/B of a
change in the same run); --rate R measures latency at R events/s instead of 50%.

--connections N (scripts/bench --cluster-connections): NODES nodes on one Redis, N WAMP v1
subscribers spread over the nodes by the load client's processes (bench/loadgen `crowd`, one
source address 127.0.0.2... each), the publisher on node 1: memory per connection per node,
the time one event takes to reach all N, and deliveries/s broadcasting to all. Not pinned
(the nodes need more than one core's share here). Takes minutes; not in CI.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import run_bench  # noqa: E402  (Server, the wampd config, the machine description)

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SERVER_CORE, CLIENT_CORE = run_bench.SERVER_CORE, run_bench.CLIENT_CORE
LOADGEN_TIMEOUT = 240


def log(message):
    run_bench.log(message)


def free_port():
    """A free loopback port whose TLS twin (run_bench's config listens at port + 5000 too)
    is free as well and below 65536."""
    import random
    while True:
        port = random.randint(20000, 30000)
        try:
            for p in (port, port + run_bench.TLS_PORT_OFFSET):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue


def redis_command(port, *args):
    """One command over a fresh connection; the whole reply as text."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        data = b""
        while True:
            chunk = s.recv(65536)
            data += chunk
            if not chunk:
                break
            head, sep, _ = data.partition(b"\r\n")
            if not sep:
                continue
            # A bulk string ($N) is complete after N bytes and its CRLF; other replies here
            # are one line.
            if not head.startswith(b"$") or len(data) >= len(head) + 2 + max(0, int(head[1:])) + 2:
                break
        return data.decode(errors="replace")


class Redis:
    def __init__(self, out_dir, pin):
        self.port = free_port()
        self.log = open(os.path.join(out_dir, "redis.log"), "ab")
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", out_dir]
        if pin:
            command = ["taskset", "-c", pin] + command
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if redis_command(self.port, "PING").startswith("+PONG"):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def commandstats(self):
        """{command: calls} from INFO commandstats."""
        text = redis_command(self.port, "INFO", "commandstats")
        out = {}
        for line in text.splitlines():
            if line.startswith("cmdstat_"):
                name, fields = line[len("cmdstat_"):].split(":", 1)
                out[name] = int(dict(f.split("=") for f in fields.split(","))["calls"])
        return out

    def stop(self):
        run_bench.terminate(self.proc)
        self.log.close()


def node_server(build, out_dir, name, redis_port, pin, wampd=None):
    """A wampd node (no `cluster:` when redis_port is None): run_bench's config plus the
    cluster section, in a file of its own. `wampd`: another binary (--wampd-base)."""
    wampd = wampd or os.path.join(build, "bin", "wampd")

    def command(port):
        base = run_bench.write_wampd_config(build, out_dir, port)
        with open(base) as f:
            text = f.read()
        if redis_port is not None:
            text += (f"cluster:\n  redis: redis://127.0.0.1:{redis_port}/0\n"
                     f"  prefix: wampdbench\n  node: {name}\n")
        path = os.path.join(out_dir, f"wampd-{name}.yml")
        with open(path, "w") as f:
            f.write(text)
        return [wampd, "--config", path]

    server = run_bench.Server(name, command, out_dir)
    if pin is None:
        # run_bench.Server pins to its server core; the 100k run lets the kernel place nodes.
        server.start = lambda port, s=server: start_unpinned(s, port)
    return server


def start_unpinned(server, port):
    server.port = port
    server.log_path = os.path.join(server.out_dir, f"{server.name}.log")
    server.log_file = open(server.log_path, "a")
    server.proc = subprocess.Popen(server.command(port), stdout=server.log_file,
                                   stderr=subprocess.STDOUT, cwd=server.out_dir)
    if not run_bench.wait_for_port(port, server.proc):
        server.stop()
        raise RuntimeError(f"{server.name} did not start: see {server.log_path}")


def metrics(port):
    """The node's Prometheus counters, {name: value} (labels kept in the name)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out


def wait_cluster_up(ports, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(metrics(p).get("wampd_cluster_redis_connected", 0) >= 1 for p in ports):
            return
        time.sleep(0.1)
    raise RuntimeError("the nodes did not connect to Redis")


def loadgen(build, args, *options):
    command = ["taskset", "-c", CLIENT_CORE, os.path.join(build, "bench", "wampd_loadgen"),
               "fanout"] + [str(o) for o in options] + [
        "--duration", str(args.duration), "--warmup", str(args.warmup), "--window", str(args.window)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=LOADGEN_TIMEOUT)
    lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
    failed = [l for l in lines if l.get("status") == "failed"]
    if failed or done.returncode != 0:
        raise RuntimeError(f"load client failed (exit {done.returncode}): "
                           f"{failed[0].get('reason') if failed else done.stderr[-300:]}")
    return [l for l in lines if l.get("scenario") == "fanout"]


def measure(build, args, config, redis, nodes, epoll=None):
    """One configuration: bursts (with Redis and node counters around them), then one at a
    time and latency at 50% of the burst maximum. Returns one result dict."""
    first = epoll or nodes[0]
    pids = [n.proc.pid for n in nodes[1:]] + ([redis.proc.pid] if redis else [])
    common = ["--port", first.port, "--label", config, "--server-pid", first.proc.pid,
              "--subscribers", args.subscribers, "--sizes", 64]
    if len(nodes) > 1:
        common += ["--remote-port", nodes[1].port, "--remote-subscribers",
                   args.subscribers - args.subscribers // 2]
    if pids:
        common += ["--other-pids", ",".join(map(str, pids))]
    result = {"config": config, "nodes": len(nodes) if not epoll else 0}
    stats0 = redis.commandstats() if redis else None
    m0 = metrics(nodes[0].port) if redis else None
    burst = loadgen(build, args, *common, "--modes", "burst")[0]
    if redis:
        stats1, m1 = redis.commandstats(), metrics(nodes[0].port)
        # The bench's own INFO is not the nodes'.
        commands = {k: stats1.get(k, 0) - stats0.get(k, 0) for k in stats1 if k != "info"}
        forwarded = m1["wampd_cluster_events_forwarded_total"] - m0["wampd_cluster_events_forwarded_total"]
        writes = m1["wampd_cluster_redis_writes_total"] - m0["wampd_cluster_redis_writes_total"]
        # Publications of the run: the load client's (bursts and its subscription probes).
        publications = m1["wampd_publications_total"] - m0["wampd_publications_total"]
        result.update({
            "redis_commands": commands,
            "redis_commands_total": sum(commands.values()),
            "publications": publications,
            "forwarded": forwarded,
            "redis_writes": writes,
            "redis_commands_per_publication": sum(commands.values()) / publications if publications else None,
            "redis_publish_per_publication": commands.get("publish", 0) / publications if publications else None,
            "publications_per_redis_write": forwarded / writes if writes else None,
        })
    result["burst"] = burst
    # One at a time, then open loop at 50% of this configuration's own burst maximum.
    # Latency at 50% of this configuration's own maximum, or at a rate given (equal load).
    rate = args.rate or 0.5 * burst["events_per_s"]
    m0 = metrics(nodes[0].port) if redis else None
    rest = loadgen(build, args, *common, "--modes", "one", "--latency-rates", f"{rate:.3f}")
    if redis:
        # The same counters over one at a time and the 50% rate: a publication per write is
        # the most there can be when the next waits for the previous one's deliveries.
        m1 = metrics(nodes[0].port)
        forwarded = m1["wampd_cluster_events_forwarded_total"] - m0["wampd_cluster_events_forwarded_total"]
        writes = m1["wampd_cluster_redis_writes_total"] - m0["wampd_cluster_redis_writes_total"]
        result.update({"forwarded_unhurried": forwarded, "redis_writes_unhurried": writes,
                       "publications_per_redis_write_unhurried": forwarded / writes if writes else None})
    for line in rest:
        if line["mode"] == "one":
            result["one"] = line
        elif line["mode"] == "rate":
            result["half"] = line
    return result


def cluster_run(args, build, out_dir):
    results = []
    started = time.time()
    for round_ in range(1, args.rounds + 1):
        for config in args.configs.split(","):
            busy = run_bench.cpu_busy(1.0)
            loadavg = run_bench.load_average()
            redis, nodes, epoll = None, [], None
            try:
                if config == "epoll-batch":
                    broadcaster = os.path.join(build, "bench", "wampd_epoll_broadcaster")
                    epoll = run_bench.Server("epoll-batch", lambda p: [broadcaster, "--port", str(p),
                                                                       "--mode", "batch"], out_dir)
                    epoll.start(free_port())
                elif config == "standalone":
                    nodes = [node_server(build, out_dir, "standalone", None, SERVER_CORE)]
                else:
                    # cluster-N, or cluster-N@base: the same with the --wampd-base binary.
                    redis = Redis(out_dir, args.redis_core)
                    count = int(config.split("@")[0].split("-")[1])
                    binary = args.wampd_base if config.endswith("@base") else None
                    nodes = [node_server(build, out_dir, f"node{i + 1}", redis.port, SERVER_CORE, binary)
                             for i in range(count)]
                for n in nodes:
                    n.start(free_port())
                if redis:
                    wait_cluster_up([n.port for n in nodes])
                log(f"round {round_}: {config}")
                r = measure(build, args, config, redis, nodes, epoll)
                r.update({"round": round_, "machine_busy_before": busy, "load_before": loadavg,
                          "builds_running": run_bench.builds_running()})
                results.append(r)
                b = r["burst"]
                log(f"  bursts {b['deliveries_per_s']:.0f} deliveries/s, server CPU {b['server_cpu']:.2f}"
                    + (f", {r['publications_per_redis_write']:.1f} publications per Redis write"
                       if r.get("publications_per_redis_write") else ""))
            finally:
                for n in nodes + ([epoll] if epoll else []):
                    if n.proc:
                        n.stop()
                if redis:
                    redis.stop()
            time.sleep(1)
    return {"kind": "cluster", "machine": run_bench.machine(), "started": started,
            "seconds": round(time.time() - started), "args": vars(args), "results": results}


def connections_run(args, build, out_dir):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    per_node = args.connections // args.nodes + 100
    per_process = args.connections // args.processes + 100
    if soft < max(per_node, per_process):
        sys.exit(f"bench: ulimit -n is {soft}; a node needs {per_node} and a client process "
                 f"{per_process} (more --nodes or --processes)")
    started = time.time()
    load_before = run_bench.load_average()
    redis = Redis(out_dir, None)
    nodes = [node_server(build, out_dir, f"node{i + 1}", redis.port, None, args.wampd_base)
             for i in range(args.nodes)]
    try:
        for n in nodes:
            n.start(free_port())
        wait_cluster_up([n.port for n in nodes])
        sources = [f"127.0.0.{2 + i % 8}" for i in range(args.processes)]
        command = [os.path.join(build, "bench", "wampd_loadgen"), "crowd",
                   "--port", str(nodes[0].port), "--label", f"cluster-{args.nodes}",
                   "--ports", ",".join(str(n.port) for n in nodes),
                   "--server-pids", ",".join(str(n.proc.pid) for n in nodes),
                   "--subscribers", str(args.connections), "--processes", str(args.processes),
                   "--sources", ",".join(sources), "--size", "64", "--window", str(args.window),
                   "--warmup", str(args.warmup), "--duration", str(args.duration),
                   "--singles", str(args.singles), "--settle", "2", "--no-spin"]
        log(f"{args.connections:,} subscribers over {args.nodes} nodes, {args.processes} client processes")
        cpu0 = {n.name: run_bench_cpu(n.proc.pid) for n in nodes}
        cpu0["redis"] = run_bench_cpu(redis.proc.pid)
        t0 = time.time()
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        wall = time.time() - t0
        cpu1 = {n.name: run_bench_cpu(n.proc.pid) for n in nodes}
        cpu1["redis"] = run_bench_cpu(redis.proc.pid)
        lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"wampd_loadgen crowd printed nothing (exit {done.returncode}): "
                               f"{done.stderr[-500:]}")
        result = lines[-1]
        result["cpu_seconds_whole_run"] = {k: round(cpu1[k] - cpu0[k], 2) for k in cpu0}
        result["client_seconds"] = round(wall, 1)
        result["node_counters"] = {n.name: {k: v for k, v in metrics(n.port).items()
                                            if k.startswith("wampd_cluster_") or k in
                                            ("wampd_deliveries_total", "wampd_connections_open")}
                                   for n in nodes}
    finally:
        for n in nodes:
            if n.proc:
                n.stop()
        redis.stop()
    return {"kind": "connections", "machine": run_bench.machine(), "started": started,
            "seconds": round(time.time() - started), "load_before": load_before,
            "load_after": run_bench.load_average(), "args": vars(args), "result": result}


def run_bench_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---- tables ----


def si(x):
    if x is None:
        return "—"
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= factor:
            return f"{x / factor:.3g}{suffix}"
    return f"{x:.3g}"


def ms(us):
    return "—" if us is None else (f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs")


def best(results, config):
    rs = [r for r in results if r["config"] == config]
    return max(rs, key=lambda r: r["burst"]["deliveries_per_s"]) if rs else None


def cpu_per_delivery(line, n_other):
    """µs of CPU per delivery: node 1 (the load client's server), the others, Redis last."""
    d = line["deliveries_per_s"]
    if not d:
        return []
    out = [line["server_cpu"] / d * 1e6]
    out += [line.get(f"other_cpu_{i}", -1) / d * 1e6 for i in range(n_other)]
    return out


def cluster_tables(doc):
    results = doc["results"]
    configs = [c for c in ("standalone", "cluster-1", "cluster-2", "cluster-1@base",
                           "cluster-2@base", "epoll-batch")
               if any(r["config"] == c for r in results)]
    rounds = sorted({r["round"] for r in results})
    out = ["| round | " + " | ".join(configs) + " | cluster-1 ÷ standalone | cluster-2 ÷ standalone | standalone ÷ epoll-batch |",
           "|---|" + "---:|" * (len(configs) + 3)]
    for n in rounds:
        row = {r["config"]: r["burst"]["deliveries_per_s"] for r in results if r["round"] == n}
        def ratio(a, b):
            return f"{row[a] / row[b]:.2f}×" if row.get(a) and row.get(b) else "—"
        out.append(f"| {n} | " + " | ".join(si(row.get(c)) for c in configs) + " | "
                   f"{ratio('cluster-1', 'standalone')} | {ratio('cluster-2', 'standalone')} | "
                   f"{ratio('standalone', 'epoll-batch')} |")
    out += ["", "Best round of each (bursts: deliveries/s; one at a time; latency at 50% of the "
            "configuration's own burst maximum, same-node and cross-node subscribers apart):", "",
            "| configuration | bursts deliveries/s | server CPU (node 1) | one at a time deliveries/s | one at a time p50 / p99 | 50% rate (events/s) | p50 / p99 same node | p50 / p99 cross node | cross − same p99 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in configs:
        r = best(results, c)
        b, one, half = r["burst"], r.get("one"), r.get("half")
        if c.startswith("cluster-2") and half:
            same = f"{ms(half['local_p50_us'])} / {ms(half['local_p99_us'])}"
            cross = f"{ms(half['remote_p50_us'])} / {ms(half['remote_p99_us'])}"
            diff = ms(half["remote_p99_us"] - half["local_p99_us"])
        else:
            same = f"{ms(half['p50_us'])} / {ms(half['p99_us'])}" if half else "—"
            cross, diff = "—", "—"
        out.append(f"| {c} | {si(b['deliveries_per_s'])} | {b['server_cpu']:.2f} | "
                   f"{si(one['deliveries_per_s']) if one else '—'} | "
                   f"{ms(one['p50_us']) + ' / ' + ms(one['p99_us']) if one else '—'} | "
                   f"{half['offered_events_per_s']:.0f} | {same} | {cross} | {diff} |" if half else
                   f"| {c} | {si(b['deliveries_per_s'])} | {b['server_cpu']:.2f} | — | — | — | — | — | — |")
    out += ["", "Redis under bursts (best round of each; counted over the whole bursts invocation: "
            "subscription probes, warm-up and measured time):", "",
            "| configuration | publications | Redis commands (by name) | commands per publication | PUBLISH per publication | Redis writes (node 1) | publications per Redis write | the same over one at a time + 50% rate | over both invocations |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for c in ("cluster-1", "cluster-2", "cluster-1@base", "cluster-2@base"):
        r = best(results, c)
        if not r:
            continue
        names = ", ".join(f"{k} {v}" for k, v in sorted(r["redis_commands"].items()) if v)
        out.append(f"| {c} | {r['publications']:.0f} | {names} | {r['redis_commands_per_publication']:.3f} | "
                   f"{r['redis_publish_per_publication']:.3f} | {r['redis_writes']:.0f} | "
                   f"**{r['publications_per_redis_write']:.1f}** | "
                   f"{r.get('publications_per_redis_write_unhurried') or 0:.2f} | "
                   f"{(r['forwarded'] + r.get('forwarded_unhurried', 0)) / max(1, r['redis_writes'] + r.get('redis_writes_unhurried', 0)):.2f} |")
    out += ["", "CPU per delivery under bursts, µs (user + kernel over the measured time, "
            "/proc/PID/stat; of the rounds, the one whose total is lowest: what a delivery costs "
            "whatever else ran on the machine). The last column is standalone's total over this "
            "configuration's: its bursts per CPU-second as a ratio to standalone.", "",
            "| configuration | node 1 | node 2 | Redis | all | ÷ standalone, per CPU-second |",
            "|---|---:|---:|---:|---:|---:|"]
    cheapest = {}
    for c in configs:
        n_other = (1 if c.startswith("cluster-1") else 2 if c.startswith("cluster-2") else 0)
        rounds_ = [cpu_per_delivery(r["burst"], n_other) for r in results if r["config"] == c]
        rounds_ = [x for x in rounds_ if x and min(x) > 0]
        if rounds_:
            cheapest[c] = min(rounds_, key=sum)
    for c, costs in cheapest.items():
        node2 = f"{costs[1]:.3f}" if c.startswith("cluster-2") else "—"
        redis_cost = f"{costs[-1]:.3f}" if len(costs) > 1 else "—"
        base = cheapest.get("standalone")
        out.append(f"| {c} | {costs[0]:.3f} | {node2} | {redis_cost} | {sum(costs):.3f} | "
                   f"{f'{sum(base) / sum(costs):.2f}×' if base else '—'} |")
    loads = [r.get("load_before", [0])[0] for r in results]
    out += ["", f"Load average (1 min) before each configuration: {min(loads):.2f}–{max(loads):.2f}; "
            f"other builds or tests running at the start of "
            f"{sum(1 for r in results if r.get('builds_running'))} of {len(results)}."]
    return "\n".join(out)


def connections_table(doc):
    r = doc["result"]
    nodes = doc["args"]["nodes"]
    out = ["| node | port | connections | RSS before | RSS held | KiB per connection |",
           "|---|---:|---:|---:|---:|---:|"]
    for i in range(nodes):
        k = f"_{i}"
        if f"node_connections{k}" not in r:
            continue
        out.append(f"| node{i + 1} | {r[f'node_port{k}']} | {r[f'node_connections{k}']:,} | "
                   f"{r[f'node_rss_kib_before{k}'] / 1024:.1f} MiB | {r[f'node_rss_kib_held{k}'] / 1024:.1f} MiB | "
                   f"{r[f'node_kib_per_connection{k}']:.2f} |")
    out += ["", "| | |", "|---|---|",
            f"| subscribers opened / failed | {r['opened']:,} / {r['failed']} |",
            f"| set-up | {r['setup_seconds']:.1f} s ({r['connections_per_s']:,.0f} connections/s) |",
            f"| one event to all {r['opened']:,} (one at a time, {r.get('singles', 0)} events) | "
            f"min {r.get('single_to_all_ms_min', 0):.1f} ms, median {r.get('single_to_all_ms_p50', 0):.1f} ms, "
            f"max {r.get('single_to_all_ms_max', 0):.1f} ms |",
            f"| bursts to all (window {r.get('window')}) | {si(r.get('deliveries_per_s'))} deliveries/s "
            f"({r.get('events_per_s', 0):.1f} events/s) over {r.get('seconds', 0):.1f} s |",
            f"| nodes' CPU while broadcasting (sum, cores) | {r.get('server_cpu', -1):.2f} ({r.get('server_sys_cpu', -1):.2f} kernel) |",
            f"| every event to every subscriber exactly once | {'yes' if r.get('all_delivered') else 'NO: ' + str(r.get('reason', r.get('close_reason')))} |",
            f"| CPU seconds over the whole client run | " +
            ", ".join(f"{k} {v}" for k, v in r["cpu_seconds_whole_run"].items()) + " |",
            f"| load average before / after | {doc['load_before']} / {doc['load_after']} |"]
    return "\n".join(out)


def render(path):
    with open(path) as f:
        doc = json.load(f)
    print(cluster_tables(doc) if doc["kind"] == "cluster" else connections_table(doc))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="the Release build tree")
    parser.add_argument("--out", help="results JSON to write")
    parser.add_argument("--render", metavar="JSON", help="print the tables of a results file and exit")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=1.5, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--window", type=int, default=32, help="events in flight in bursts")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--redis-core", default=SERVER_CORE,
                        help="the core Redis is pinned to (default: the nodes' core)")
    parser.add_argument("--rate", type=float, default=0,
                        help="events/s for the latency phase (default: 50%% of each "
                        "configuration's own burst maximum)")
    parser.add_argument("--configs", default="standalone,cluster-1,cluster-2,epoll-batch")
    parser.add_argument("--wampd-base", help="another wampd binary for the configurations "
                        "named cluster-N@base (e.g. one built before a change)")
    parser.add_argument("--connections", type=int, default=0,
                        help="the many-connections run instead: this many subscribers")
    parser.add_argument("--nodes", type=int, default=6)
    parser.add_argument("--processes", type=int, default=8,
                        help="load-client processes, one source address each (127.0.0.2-9)")
    parser.add_argument("--singles", type=int, default=20,
                        help="events one at a time (time to reach everyone)")
    args = parser.parse_args()
    if args.render:
        render(args.render)
        return 0
    build = os.path.abspath(args.build)
    if args.wampd_base:
        args.wampd_base = os.path.abspath(args.wampd_base)
    out_dir = os.path.join(build, "bench-out")
    os.makedirs(out_dir, exist_ok=True)
    if args.connections:
        args.duration = max(args.duration, 5.0)
        args.warmup = max(args.warmup, 1.0)
        doc = connections_run(args, build, out_dir)
        text = connections_table(doc)
        ok = doc["result"].get("all_delivered")
    else:
        doc = cluster_run(args, build, out_dir)
        text = cluster_tables(doc)
        ok = True
    if args.out:
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
