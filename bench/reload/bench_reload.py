"""How long a hot reload stalls wampd's I/O thread, with many routes and subscribers.

A benchmark, not a test: it asserts nothing about speed, prints a table, and stops by itself.
Loopback only. Run it through scripts/bench-reload.

It writes a routing file of ROUTES routes (bench/room0 ... served by the broadcast plugin's
handler), starts wampd on it, connects SUBSCRIBERS WAMP v1 subscribers spread evenly over
the routes (several client processes), starts a probe that calls a procedure every 1 ms, and
triggers reloads of two kinds:
  touch         the routing file's time stamp changes, nothing else: every topic is kept
  one route     one route is repointed to another handler: its topic moves (its
                subscribers see onUnSubscribe / onSubscribe), every other topic is kept
For each reload it reports the server's own "I/O stalled N us" (from the status line) and
the longest a probe call took while the reload ran (from the trigger to the status line).
"""

import argparse
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYTHON = "/usr/bin/python3"
STATUS = re.compile(r"reload \((?P<trigger>[^\n]*)\): generation (?P<generation>\d+) "
                    r"[^\n]*topics (?P<kept>\d+) kept (?P<moved>\d+) moved (?P<dropped>\d+) "
                    r"dropped; I/O stalled (?P<stalled>\d+) us")
START_TIMEOUT = 20.0
RELOAD_TIMEOUT = 20.0
SUBSCRIBE_TIMEOUT = 180.0
# Between reloads: the probe's windows do not overlap, and the server is idle again.
SETTLE = 0.5


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--routes", type=int, default=1000)
    parser.add_argument("--subscribers", type=int, default=10000)
    parser.add_argument("--processes", type=int, default=4,
                        help="client processes the subscribers are spread over")
    parser.add_argument("--reloads", type=int, default=10, help="reloads of each kind")
    parser.add_argument("--probe", default="wampd.topics",
                        help="procedure the probe calls every 1 ms")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_file_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit(f"bench-reload: needs {needed} open files, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def routing_text(routes, room0_callback):
    lines = []
    for n in range(routes):
        callback = room0_callback if n == 0 else "oro_sync.data_update"
        lines.append(f"bench.room{n}:\n  channel: 'bench/room{n}'\n"
                     f"  handler: {{ callback: '{callback}' }}\n")
    return "".join(lines)


class Bench:
    def __init__(self, options):
        self.options = options
        self.work = Path(tempfile.mkdtemp(prefix="wampd-bench-reload-"))
        self.plugins = self.work / "plugins"
        self.routing = self.work / "routing" / "bench.yml"
        self.staging = self.work / "staging"
        self.log_path = self.work / "wampd.log"
        self.port = free_port()
        self.server = None
        self.clients = []
        self.probe = None
        self.room0 = "oro_sync.data_update"

    # ---- set-up ----

    def write_files(self):
        wampd_plugins = self.options.build_dir / "plugins"
        for directory in (self.plugins, self.routing.parent, self.staging):
            directory.mkdir()
        for extension in (".so", ".yml"):
            shutil.copy(wampd_plugins / f"broadcast{extension}", self.plugins)
        self.routing.write_text(routing_text(self.options.routes, self.room0))
        config = self.work / "wampd.yml"
        config.write_text(
            "server: { host: 127.0.0.1, port: 8080, max_message_size: 1048576 }\n"
            "log_level: info\n"
            f"plugins: {{ directories: ['{self.plugins}'] }}\n"
            f"routing: ['{self.routing}']\n"
            "auth: { trusted_addresses: [127.0.0.1] }\n")
        return config

    def start_server(self, config):
        wampd = self.options.build_dir / "bin" / "wampd"
        self.command = [str(wampd), "--config", str(config), "--port", str(self.port)]
        self.server = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                       stdout=open(self.log_path, "wb"),
                                       stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                sys.exit(f"bench-reload: wampd exited:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        sys.exit(f"bench-reload: wampd does not listen after {START_TIMEOUT} s")

    def connect_subscribers(self):
        total, processes = self.options.subscribers, self.options.processes
        share = -(-total // processes)
        for first in range(0, total, share):
            count = min(share, total - first)
            self.clients.append(subprocess.Popen(
                [PYTHON, str(HERE / "subscribers.py"), "127.0.0.1", str(self.port), str(first),
                 str(count), str(self.options.routes)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for client in self.clients:
            line = client.stdout.readline().strip()
            if line != "ready":
                sys.exit(f"bench-reload: a subscriber process failed ({line!r})")
        # SUBSCRIBE is not acknowledged: wait until the server counts them all.
        deadline = time.monotonic() + SUBSCRIBE_TIMEOUT
        while self.subscribed() < total:
            if time.monotonic() > deadline:
                sys.exit(f"bench-reload: only {self.subscribed()} of {total} subscribed")
            time.sleep(0.5)

    def subscribed(self):
        output = subprocess.run(
            [PYTHON, "-c", _COUNT_SUBSCRIBERS, "127.0.0.1", str(self.port)],
            capture_output=True, text=True, timeout=30, cwd=HERE).stdout.strip()
        return int(output or 0)

    def start_probe(self, samples):
        self.probe = subprocess.Popen(
            [PYTHON, str(HERE / "probe.py"), "127.0.0.1", str(self.port), self.options.probe,
             "1", "600", str(samples)], stdin=subprocess.PIPE, text=True)

    # ---- reloads ----

    def log(self):
        return self.log_path.read_text(errors="replace")

    def statuses(self):
        return [m.groupdict() for m in STATUS.finditer(self.log())]

    def touch(self):
        os.utime(self.routing)

    def change_one_route(self):
        self.room0 = ("oro_sync.maintenance" if self.room0 == "oro_sync.data_update"
                      else "oro_sync.data_update")
        staged = self.staging / self.routing.name
        staged.write_text(routing_text(self.options.routes, self.room0))
        os.rename(staged, self.routing)

    def reload(self, trigger):
        """Triggers one reload; returns (trigger time, status seen time, status fields)."""
        seen = len(self.statuses())
        began = time.monotonic()
        trigger()
        deadline = began + RELOAD_TIMEOUT
        while True:
            statuses = self.statuses()
            if len(statuses) > seen:
                return began, time.monotonic(), statuses[seen]
            if time.monotonic() > deadline:
                sys.exit(f"bench-reload: no reload status within {RELOAD_TIMEOUT} s:\n"
                         f"{self.log()[-3000:]}")
            time.sleep(0.002)

    # ---- tear-down ----

    def stop(self):
        dropped = 0
        for client in self.clients:
            client.stdin.close()
            line = client.stdout.readline().split()
            dropped += int(line[1]) if len(line) == 2 else 0
            client.wait(30)
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        return dropped

    def kill_all(self):
        for process in [self.probe, self.server, *self.clients]:
            if process and process.poll() is None:
                process.kill()
                process.wait()


_COUNT_SUBSCRIBERS = """
import asyncio, json, sys
from wamp_raw import Connection
async def main(host, port):
    c = await Connection.open(host, port)
    c.send([2, "count", "wampd.topics"])
    while True:
        _, payload = await c.read_frame()
        message = json.loads(payload)
        if message[:2] == [3, "count"]:
            print(sum(route["subscribers"] for route in message[2]))
            break
    await c.close()
asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def build_type(build_dir):
    cache = build_dir / "CMakeCache.txt"
    if cache.exists():
        match = re.search(r"^CMAKE_BUILD_TYPE:STRING=(.*)$", cache.read_text(), re.M)
        if match:
            return match.group(1) or "default"
    return "unknown"


def read_samples(path):
    samples = []
    for line in Path(path).read_text().splitlines():
        sent, latency = line.split()
        samples.append((float(sent), float(latency)))
    return samples


def worst_in(samples, began, ended):
    """The longest call that was in flight at some point between `began` and `ended`."""
    inside = [latency for sent, latency in samples if sent <= ended and sent + latency >= began]
    return max(inside) if inside else float("nan")


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def main():
    options = parse_arguments()
    raise_file_limit(options.subscribers + 1024)
    load = os.getloadavg()
    bench = Bench(options)
    try:
        config = bench.write_files()
        bench.start_server(config)
        began = time.monotonic()
        bench.connect_subscribers()
        connected = time.monotonic() - began
        samples_path = bench.work / "probe.txt"
        bench.start_probe(samples_path)
        time.sleep(2.0)  # a baseline before the first reload

        results = {}
        windows = []
        for name, trigger in (("touch", bench.touch), ("one route", bench.change_one_route)):
            results[name] = []
            for _ in range(options.reloads):
                began_at, seen_at, status = bench.reload(trigger)
                windows.append((began_at, seen_at))
                results[name].append((began_at, seen_at, status))
                time.sleep(SETTLE)
        bench.probe.stdin.close()
        bench.probe.wait(30)
        samples = read_samples(samples_path)
        dropped = bench.stop()
        log = bench.log()
    finally:
        bench.kill_all()
        if not options.keep:
            shutil.rmtree(bench.work, ignore_errors=True)

    outside = sorted(latency for sent, latency in samples
                     if not any(sent <= end and sent + latency >= start
                                for start, end in windows))
    print(f"wampd: {bench.command[0]} ({build_type(options.build_dir)} build); "
          f"{os.cpu_count()} CPUs, load average before the run {load[0]:.2f}")
    print(f"wampd reload stall: {options.routes} routes, {options.subscribers} subscribers "
          f"({options.processes} client processes, connected in {connected:.1f} s), "
          f"{options.reloads} reloads of each kind; probe: {options.probe} every 1 ms "
          f"({len(samples)} calls)")
    print(f"probe outside reloads: median {ms(statistics.median(outside))} ms, "
          f"p99 {ms(outside[int(len(outside) * 0.99)])} ms, max {ms(outside[-1])} ms")
    print()
    header = (f"{'reload':<10} {'topics kept/moved/dropped':>26} {'I/O stalled (us)':>22} "
              f"{'probe worst call (ms)':>24} {'trigger->status (ms)':>22}")
    print(header)
    print(f"{'':<10} {'':>26} {'median':>11}{'max':>11} {'median':>12}{'max':>12} "
          f"{'median':>11}{'max':>11}")
    for name, runs in results.items():
        stalls = [int(status["stalled"]) for _, _, status in runs]
        worst = [worst_in(samples, start, end) for start, end, _ in runs]
        spans = [end - start for start, end, _ in runs]
        last = runs[-1][2]
        topics = f"{last['kept']}/{last['moved']}/{last['dropped']}"
        print(f"{name:<10} {topics:>26} {statistics.median(stalls):>11.0f}{max(stalls):>11} "
              f"{ms(statistics.median(worst)):>12}{ms(max(worst)):>12} "
              f"{ms(statistics.median(spans)):>11}{ms(max(spans)):>11}")
    print()
    print(f"subscribers dropped: {dropped}; reload failures logged: "
          f"{log.count('reload failed')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
