#!/usr/bin/env python3
"""Runs every benchmark measurement against wampd and the baselines, in one run, and writes
the results (one JSON document) for make_report.py. scripts/bench builds and calls this.

Each server runs pinned to one core and the load client to the other. A server is started
fresh, measured (idle memory first, then fan-out for each subscriber count, latency at fixed
rates, RPC, and for wampd the slow subscriber), and stopped before the next one starts.
"""
import argparse
import datetime
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER_CORE = "1"
# wampd's TLS listener is at its plain port + this.
TLS_PORT_OFFSET = 5000
CLIENT_CORE = "0"
# Seconds the load client may take for one invocation before it is stopped.
LOADGEN_TIMEOUT = 180


T0 = time.time()


def log(message):
    print(f"bench: [{time.time() - T0:5.0f} s] {message}", file=sys.stderr, flush=True)


def builds_running():
    """Another engineer's build skews every number: say so in the results."""
    out = subprocess.run(["pgrep", "-f", "ninja|cc1plus|pytest"], capture_output=True, text=True).stdout
    return len(out.split())


def cpu_busy(seconds=1.0):
    """The fraction of both cores busy over `seconds`, while no benchmark process runs."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 2)


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "node": node,
        "gxx": gxx,
        "server_core": SERVER_CORE,
        "client_core": CLIENT_CORE,
    }


def wait_for_port(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def terminate(proc, timeout=10):
    """SIGTERM, then SIGKILL if `proc` has not exited within `timeout` s; reaps it."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Server:
    def __init__(self, name, command, out_dir):
        self.name = name
        self.command = command  # a function of the port
        self.out_dir = out_dir
        self.proc = None

    def start(self, port):
        self.port = port
        self.log_path = os.path.join(self.out_dir, f"{self.name}.log")
        self.log_file = open(self.log_path, "a")
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CORE] + self.command(port),
                                     stdout=self.log_file, stderr=subprocess.STDOUT,
                                     cwd=self.out_dir)
        if not wait_for_port(port, self.proc):
            self.stop()
            raise RuntimeError(f"{self.name} did not start: see {self.log_path}")

    def stop(self):
        if self.proc:
            terminate(self.proc)
        self.proc = None
        self.log_file.close()


class Bench:
    def __init__(self, args):
        self.args = args
        self.loadgen = os.path.join(args.build, "bench", "wampd_loadgen")
        self.results = []
        self.notes = []
        self.load = []
        self.quiet_budget = args.wait_for_builds

    def run_loadgen(self, server, wamp, scenario, *options, duration=None, tls=False):
        label = server.name if wamp == "v1" else f"{server.name}-v2"
        port = server.port
        if tls:
            # wampd's TLS listener, beside the plain one (write_wampd_config).
            label, port = f"{label}-tls", server.port + TLS_PORT_OFFSET
            options = options + ("--tls",)
        command = ["taskset", "-c", CLIENT_CORE, self.loadgen, scenario, "--port", str(port),
                   "--wamp", wamp, "--label", label, "--server-pid", str(server.proc.pid),
                   "--duration", str(duration or self.args.duration), "--warmup", str(self.args.warmup),
                   "--realm", self.args.realm] + [str(o) for o in options]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=LOADGEN_TIMEOUT)
            out, code = done.stdout, done.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            code = "timeout"
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        for line in lines:
            line["server_name"] = server.name
            if line.get("status") == "failed":
                log(f"{label} {scenario}: FAILED: {line.get('reason')}")
        if code not in (0, 3) and not any(l.get("status") == "failed" for l in lines):
            lines.append({"scenario": scenario, "label": label, "wamp": wamp, "status": "failed",
                          "server_name": server.name,
                          "reason": f"load client exit {code}: {done.stderr[-300:] if code != 'timeout' else 'timed out'}"})
            log(f"{label} {scenario}: load client exit {code}")
        self.results.extend(lines)
        return lines

    def idle(self, server, wamp):
        self.run_loadgen(server, wamp, "idle", "--connections", self.args.idle)

    def fanout(self, server, wamp, subscribers, common_rates, full=True):
        """Returns the burst events/s at 64 B (the basis of the latency rates). Repeated rounds
        (not `full`) measure only what the targets compare: 64 B bursts and one at a time."""
        sizes = "64,1024" if full else "64"
        options = ["--subscribers", subscribers, "--sizes", sizes, "--window", self.args.window]
        if subscribers == 1000 and full:
            options += ["--latency-fractions", "0.5,0.8"]
            if common_rates:
                options += ["--latency-rates", ",".join(f"{r:.3f}" for r in common_rates)]
        burst = None
        for line in self.run_loadgen(server, wamp, "fanout", *options):
            if line.get("mode") == "burst" and line.get("size") == 64:
                burst = line["events_per_s"]
        if server.name == "wampd" and wamp == "v1" and subscribers == 1000:
            # Bursts over TLS, from the same server process right after the plain ones: every
            # subscriber's bytes encrypted separately.
            self.run_loadgen(server, wamp, "fanout", "--subscribers", subscribers, "--sizes", 64,
                             "--window", self.args.window, "--modes", "burst", tls=True)
        return burst

    def rpc(self, server, wamp):
        self.run_loadgen(server, wamp, "rpc", "--connections", 1, "--window", 1)
        self.run_loadgen(server, wamp, "rpc", "--connections", 8, "--window", 16)

    def supports_v2(self, server):
        probe = self.run_loadgen(server, "v2", "probe")
        if probe and probe[0].get("supported"):
            return True
        reason = probe[0].get("reason") if probe else "no answer"
        log(f"{server.name}: WAMP v2 not supported yet ({reason})")
        self.notes.append({"server": server.name, "wamp": "v2", "supported": False, "reason": reason})
        return False

    def slow(self, server):
        for subscribers in (100, 1000):
            log(f"{server.name}: slow subscriber among {subscribers}")
            self.run_loadgen(server, "v1", "slow", "--subscribers", subscribers, "--slow", 1,
                             "--size", 1024, "--stall", self.args.slow_duration)
        with open(server.log_path) as f:
            dropped = sum(1 for line in f if "send queue over" in line)
        self.notes.append({"server": server.name, "slow_consumer_log_lines": dropped})

    def wait_for_quiet(self):
        """Waits, within the run's budget, for other engineers' builds to end."""
        waited = 0
        while builds_running() and self.quiet_budget > 0:
            if waited == 0:
                log(f"waiting for running builds to end (at most {self.quiet_budget:.0f} s more)")
            time.sleep(5)
            waited += 5
            self.quiet_budget -= 5
        return waited

    def session(self, server, port, body, wamp="v1"):
        waited = self.wait_for_quiet()
        busy = builds_running()
        entry = {"server": server.name if wamp == "v1" else f"{server.name}-v2",
                 "waited_for_builds_s": waited, "builds_at_start": busy,
                 "cpu_busy_before": cpu_busy(), "load_at_start": load_average()}
        if busy:
            log(f"{server.name}: {busy} build processes are running: numbers will be skewed")
        began = time.time()
        server.start(port)
        try:
            return body()
        finally:
            server.stop()
            entry["seconds"] = round(time.time() - began, 1)
            entry["builds_at_end"] = builds_running()
            entry["load_at_end"] = load_average()
            self.load.append(entry)


def write_tls_certificate(out_dir):
    """A self-signed P-256 certificate for wampd's TLS listener (the load client does not
    verify it); made at run time, never committed."""
    key, cert = os.path.join(out_dir, "tls.key"), os.path.join(out_dir, "tls.crt")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "30", "-subj", "/CN=localhost"], check=True, capture_output=True)
    return cert, key


def write_wampd_config(build, out_dir, port):
    path = os.path.join(out_dir, "wampd-bench.yml")
    cert, key = write_tls_certificate(out_dir)
    with open(path, "w") as f:
        f.write(f"""# Written by bench/run_bench.py: the fan-out topic oro/data/update (broadcast plugin),
# the no-op procedure bench/noop, and 127.0.0.1 trusted as the backend so it may publish.
# The second listener speaks TLS (bursts over TLS); its certificate is self-signed.
server:
  host: 127.0.0.1
  max_message_size: 65536
  listen: [{{ port: {port} }}, {{ port: {port + TLS_PORT_OFFSET}, tls: true }}]
  tls: {{ certificate: '{cert}', private_key: '{key}' }}
log_level: warn
plugins:
  directories: ['{build}/plugins', '{build}/bench/plugins']
routing:
  - '{SOURCE}/plugins/broadcast/routing.yml'
  - '{SOURCE}/bench/plugin/routing.yml'
parameters:
  oro_sync.websocket_ping.interval: 50
auth: {{ trusted_addresses: ['127.0.0.1'] }}
""")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", required=True, help="the Release build tree")
    parser.add_argument("--out", required=True, help="results JSON to write")
    parser.add_argument("--duration", type=float, default=1.5, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=0.3)
    parser.add_argument("--slow-duration", type=float, default=10.0,
                        help="seconds measured while a subscriber does not read")
    parser.add_argument("--window", type=int, default=32, help="events in flight in bursts")
    parser.add_argument("--idle", type=int, default=10000, help="idle connections")
    parser.add_argument("--subscribers", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1, 100, 1000, 10000])
    parser.add_argument("--realm", default="realm1", help="realm for WAMP v2")
    parser.add_argument("--servers", default="ws,epoll-frame,epoll-batch,wampd")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds at 1,000 subscribers (the targets' point); the best counts")
    parser.add_argument("--wait-for-builds", type=float, default=60,
                        help="seconds, over the whole run, to wait for other builds to end")
    args = parser.parse_args()
    args.build = os.path.abspath(args.build)

    out_dir = os.path.join(args.build, "bench-out")
    os.makedirs(out_dir, exist_ok=True)
    for name in os.listdir(out_dir):
        if name.endswith(".log"):
            os.remove(os.path.join(out_dir, name))
    broadcaster = os.path.join(args.build, "bench", "wampd_epoll_broadcaster")
    wampd = os.path.join(args.build, "bin", "wampd")
    servers = {
        "ws": Server("ws", lambda p: ["node", os.path.join(SOURCE, "bench", "baselines", "ws-server.js"), str(p)], out_dir),
        "epoll-frame": Server("epoll-frame", lambda p: [broadcaster, "--port", str(p), "--mode", "frame"], out_dir),
        "epoll-batch": Server("epoll-batch", lambda p: [broadcaster, "--port", str(p), "--mode", "batch"], out_dir),
        "wampd": Server("wampd", lambda p: [wampd, "--config", write_wampd_config(args.build, out_dir, p)], out_dir),
    }
    bench = Bench(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.time()
    ports = iter(range(19100 + (os.getpid() % 50) * 40, 65000))
    names = args.servers.split(",")
    # (server, protocol) pairs; wampd's v2 joins when the server answers HELLO.
    targets = [(servers[n], "v1") for n in names]
    if "wampd" in names and bench.session(servers["wampd"], next(ports), lambda: bench.supports_v2(servers["wampd"])):
        targets.append((servers["wampd"], "v2"))

    def each(what, body):
        for server, wamp in targets:
            log(f"{server.name} ({wamp}): {what}")
            bench.session(server, next(ports), lambda: body(server, wamp), wamp)

    # Servers take turns at every step, so that whatever else loads the machine at a given
    # moment weighs on all of them alike; the ratios are what this benchmark is about.
    each(f"idle memory, {args.idle} connections", bench.idle)
    common_rates = None
    for subscribers in args.subscribers:
        for round_ in range(args.repeat if subscribers == 1000 else 1):
            for server, wamp in targets:
                log(f"{server.name} ({wamp}): fan-out to {subscribers} subscribers, round {round_ + 1}")
                burst = bench.session(server, next(ports), lambda: bench.fanout(
                    server, wamp, subscribers, common_rates, full=round_ == 0), wamp)
                if server.name == "ws" and subscribers == 1000 and burst and not common_rates:
                    # Latency at equal load: every other server is also driven at the ws
                    # baseline's 50% and 80% rates.
                    common_rates = [0.5 * burst, 0.8 * burst]
    each("RPC", bench.rpc)
    if "wampd" in names:
        log("wampd: slow subscribers")
        bench.session(servers["wampd"], next(ports), lambda: bench.slow(servers["wampd"]))

    document = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.time() - t0, 1),
        "machine": machine(),
        "settings": {"duration": args.duration, "warmup": args.warmup, "window": args.window,
                     "repeat": args.repeat,
                     "idle": args.idle, "subscribers": args.subscribers,
                     "common_rates": common_rates, "slow_duration": args.slow_duration},
        "load": bench.load,
        "notes": bench.notes,
        "results": bench.results,
    }
    with open(args.out, "w") as f:
        json.dump(document, f, indent=1)
    log(f"results in {args.out} ({document['seconds']} s)")


if __name__ == "__main__":
    main()
