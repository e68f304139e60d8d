"""Reconnect storms with Oro tickets: what they do to a subscriber already connected, and how
many ticketed handshakes per second wampd completes.

A benchmark, not a test: it asserts nothing about speed, prints tables, and stops by itself.
Loopback only. Run it through `scripts/bench --tickets`.

For each verifier thread count (auth.verifier_threads) it starts wampd with the broadcast
plugin and a users file of USERS users, then a probe process in which a backend publisher
sends an event to oro/data/update every PERIOD ms and one subscriber records each event's
publish-to-delivery latency. Then it fires storms one after the other: every connection of a
storm opened at once, each a WAMP v1 upgrade with its own user's ticket (or none, for the
comparison), each done when its WELCOME arrived. It reports the subscriber's latency
p50/p99/max in the 2 s before the first storm and during each storm, and handshakes per
second. Last, the I/O stall of reloads with that users file (the server's own "I/O stalled").
"""

import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing
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
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "bench" / "reload"))
import wamp_raw  # noqa: E402

PYTHON = "/usr/bin/python3"
SECRET = "BenchKernelSecret-7a1f"
TOPIC = "oro/data/update"
START_TIMEOUT = 20.0
STORM_TIMEOUT = 120.0
STALL = re.compile(r"I/O stalled (\d+) us")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build")
    parser.add_argument("--threads", default="1,2", help="verifier thread counts, comma-separated")
    parser.add_argument("--storms", default="400,2000", help="storm sizes, comma-separated")
    parser.add_argument("--users", type=int, default=10000, help="users in the users file")
    parser.add_argument("--period-ms", type=float, default=5.0)
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    sub = parser.add_subparsers(dest="role")
    probe = sub.add_parser("probe")  # internal: the publisher and subscriber process
    probe.add_argument("port", type=int)
    probe.add_argument("period_ms", type=float)
    probe.add_argument("out")
    return parser.parse_args()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user(n):
    return f"user{n}", f"stored-hash-{n:06d}-0123456789abcdef"


def make_ticket(n):
    """Oro's ticket for user n: base64(digest;username;nonce;created)."""
    username, password = user(n)
    created = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    nonce = base64.b64encode(os.urandom(12)).decode()
    salted = f"{nonce}|{created}|{password}{{{SECRET}}}".encode()
    digest = hashlib.sha512(salted).digest()
    for _ in range(4999):
        digest = hashlib.sha512(digest + salted).digest()
    raw = f"{base64.b64encode(digest).decode()};{username};{nonce};{created}"
    return base64.b64encode(raw.encode()).decode()


# ---- the probe process: one publisher, one subscriber ----


async def probe_main(port, period_ms, out):
    subscriber = await wamp_raw.Connection.open("127.0.0.1", port)
    subscriber.send([5, TOPIC])
    publisher = await wamp_raw.Connection.open("127.0.0.1", port)
    samples = []
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def publish():
        period = period_ms / 1000
        next_at = time.monotonic()
        while not stop.is_set():
            publisher.send([7, TOPIC, {"t": time.monotonic()}])
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def receive():
        while True:
            opcode, payload = await subscriber.read_frame()
            if opcode != wamp_raw.OP_TEXT:
                return
            message = json.loads(payload)
            if message[0] == 8:
                now = time.monotonic()
                samples.append((now, now - message[2]["t"]))

    publishing = asyncio.create_task(publish())
    receiving = asyncio.create_task(receive())
    print("ready", flush=True)
    await stop.wait()
    publishing.cancel()
    receiving.cancel()
    with open(out, "w") as f:
        for at, latency in samples:
            f.write(f"{at:.6f} {latency:.6f}\n")


# ---- storms ----


async def one_handshake(port, path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    ok = b" 101 " in head.split(b"\r\n", 1)[0]
    if ok:
        first, second = await reader.readexactly(2)
        await reader.readexactly(second & 0x7F)  # the WELCOME
    return ok, writer


async def storm(port, paths):
    """Opens one connection per path at once; (seconds from first start to last WELCOME,
    accepted, refused)."""
    started = time.monotonic()
    results = await asyncio.wait_for(
        asyncio.gather(*(one_handshake(port, p) for p in paths), return_exceptions=True),
        STORM_TIMEOUT)
    elapsed = time.monotonic() - started
    accepted = sum(1 for r in results if not isinstance(r, BaseException) and r[0])
    for r in results:
        if not isinstance(r, BaseException):
            r[1].close()
    return started, started + elapsed, accepted, len(paths) - accepted


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def window(samples, began, ended):
    return [latency for at, latency in samples if began <= at <= ended]


def ms(seconds):
    return f"{seconds * 1000:.2f}"


class Server:
    def __init__(self, work, build_dir, users_file, threads, name, log_level="warn"):
        self.work = work
        self.port = free_port()
        self.log_path = work / f"wampd-{name}.log"
        plugins = work / "plugins"
        plugins.mkdir(exist_ok=True)
        for extension in (".so", ".yml"):
            shutil.copy(build_dir / "plugins" / f"broadcast{extension}", plugins)
        config = work / f"wampd-{name}.yml"
        config.write_text(
            "server: { host: 127.0.0.1, port: 8080 }\n"
            f"log_level: {log_level}\n"
            f"plugins: {{ directories: ['{plugins}'] }}\n"
            f"routing: ['{ROOT / 'plugins' / 'broadcast' / 'routing.yml'}']\n"
            f"auth: {{ secret: '{SECRET}', users_file: '{users_file}', "
            "trusted_addresses: [127.0.0.1], ticket_max_age: 3600, "
            f"verifier_threads: {threads}, verifier_queue: 100000, "
            "verifier_per_address: 100000 }\n")
        self.command = [str(build_dir / "bin" / "wampd"), "--config", str(config), "--port",
                        str(self.port)]
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                        stdout=open(self.log_path, "wb"),
                                        stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"bench-tickets: wampd exited:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        sys.exit("bench-tickets: wampd does not listen")

    def log(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_threads(options, work, users_file, tickets, threads, sizes):
    server = Server(work, options.build_dir, users_file, threads, f"threads-{threads}")
    samples_path = work / f"probe-{threads}.txt"
    probe = subprocess.Popen([PYTHON, __file__, "probe", str(server.port),
                              str(options.period_ms), str(samples_path)],
                             stdout=subprocess.PIPE, text=True)
    assert probe.stdout.readline().strip() == "ready"
    time.sleep(2.5)
    before_end = time.monotonic()
    rows = []
    for kind in ("ticket", "none"):
        for size in sizes:
            if kind == "ticket":
                paths = [f"/?ticket={quote(tickets[i % len(tickets)], safe='')}"
                         for i in range(size)]
            else:
                paths = ["/"] * size
            began, ended, accepted, refused = asyncio.run(storm(server.port, paths))
            rows.append((kind, size, began, ended, accepted, refused))
            time.sleep(1.0)
    probe.send_signal(signal.SIGTERM)
    probe.wait(30)
    server.stop()
    samples = [tuple(map(float, line.split())) for line in samples_path.read_text().splitlines()]
    before = window(samples, before_end - 2.0, before_end)
    results = {"threads": threads, "before": before, "storms": []}
    for kind, size, began, ended, accepted, refused in rows:
        results["storms"].append({
            "kind": kind, "size": size, "seconds": ended - began, "accepted": accepted,
            "refused": refused, "latency": window(samples, began, ended)})
    return results


def reload_stalls(options, work, users_file):
    server = Server(work, options.build_dir, users_file, 0, "reload", "info")
    stalls = []
    for _ in range(options.reloads):
        count = len(STALL.findall(server.log()))
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(STALL.findall(server.log())) == count:
            time.sleep(0.05)
        found = STALL.findall(server.log())
        if len(found) > count:
            stalls.append(int(found[-1]))
        time.sleep(0.3)
    server.stop()
    return stalls


def main():
    options = parse_arguments()
    if options.role == "probe":
        asyncio.run(probe_main(options.port, options.period_ms, options.out))
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    threads = [int(t) for t in options.threads.split(",")]
    sizes = [int(s) for s in options.storms.split(",")]
    work = Path(tempfile.mkdtemp(prefix="wampd-bench-tickets-"))
    try:
        users_file = work / "users.yml"
        with open(users_file, "w") as f:
            f.write("users:\n")
            for n in range(options.users):
                username, password = user(n)
                f.write(f"  - {{ username: {username}, id: {n + 1}, password: '{password}' }}\n")
        count = min(max(sizes), options.users)
        print(f"bench-tickets: making {count} tickets", file=sys.stderr)
        with multiprocessing.Pool() as pool:
            tickets = pool.map(make_ticket, range(count), chunksize=50)

        load = os.getloadavg()
        print(f"wampd: {options.build_dir / 'bin' / 'wampd'}; {os.cpu_count()} cores; "
              f"load average before: {load[0]:.2f}; users file: {options.users} users; "
              f"subscriber gets an event every {options.period_ms:g} ms")
        all_results = [run_threads(options, work, users_file, tickets, t, sizes)
                       for t in threads]
        print()
        print("subscriber latency (ms)      p50     p99     max   samples")
        for r in all_results:
            b = r["before"]
            print(f"threads {r['threads']} before storms  {ms(percentile(b, 50)):>7} "
                  f"{ms(percentile(b, 99)):>7} {ms(max(b) if b else float('nan')):>7} {len(b):>8}")
            for s in r["storms"]:
                lat = s["latency"]
                print(f"threads {r['threads']} {s['kind']:6} {s['size']:>5}  "
                      f"{ms(percentile(lat, 50)):>7} {ms(percentile(lat, 99)):>7} "
                      f"{ms(max(lat) if lat else float('nan')):>7} {len(lat):>8}")
        print()
        print("handshakes per second (completed / storm time)   ticket     none   "
              "(completed/failed: refused or dropped at the handshake timeout)")
        for r in all_results:
            for size in sizes:
                by = {s["kind"]: s for s in r["storms"] if s["size"] == size}
                t, n = by["ticket"], by["none"]
                print(f"threads {r['threads']} storm {size:>5}                        "
                      f"{t['accepted'] / t['seconds']:>8.0f} "
                      f"{n['accepted'] / n['seconds']:>8.0f}   ({t['accepted']}/{t['refused']}, "
                      f"{n['accepted']}/{n['refused']})")
        if len(all_results) >= 2:
            for size in sizes:
                rate = [next(s["accepted"] / s["seconds"] for s in r["storms"]
                             if s["kind"] == "ticket" and s["size"] == size) for r in all_results]
                print(f"ticketed storm {size}: threads {all_results[-1]['threads']} / threads "
                      f"{all_results[0]['threads']} = {rate[-1] / rate[0]:.2f}x")
        stalls = reload_stalls(options, work, users_file)
        print()
        if stalls:
            print(f"reload (SIGHUP) with {options.users} users: I/O stalled median "
                  f"{statistics.median(stalls) / 1000:.2f} ms, max {max(stalls) / 1000:.2f} ms "
                  f"({len(stalls)} reloads)")
        else:
            print("reload: no status line seen")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if options.keep:
            print(f"work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
