"""Dead peers and connection limits on a real wampd: server pings (server.ping_interval,
server.pong_timeout), the write timeout (server.write_timeout), HTTP 503 for the connection
limits and 429 for the handshake rate, the back-off when accept runs out of descriptors, and
the open files limit raised at start.

A dead peer is a raw socket that completes the handshake and then neither reads nor writes
(as if its packets were dropped); a stalled one has a tiny receive buffer and never reads.
Dropped peers must see their stream end with no close frame: that is what makes Oro's
AutobahnJS 0.8 pages (and every WAMP v2 client) reconnect.
"""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import websockets

from conftest import (SANITIZED, SOURCE_DIR, WAMPD, WampdProcess, _write_config, default_config,
                      free_port, run_wampctl)
from test_transport import DATA_UPDATE, split_response
from test_websocket_framing import (CLOSE, PING, PONG, TEXT, Peer, frame, log_lines,
                                    parse_server_frame, subscriber, text)
from wamp_client import EVENT, PUBLISH, WampV1Client, run

sys.path.insert(0, str(SOURCE_DIR / "tests" / "interop" / "python"))
from autobahn_client import Clients, EventLog  # noqa: E402

DROPPED_SILENT = "nothing received within"
DROPPED_STALLED = "have not moved for"


def liveness_config(**server):
    config = default_config()
    config["server"].update(server)
    return config


def stats(server):
    rc, out, err = run_wampctl("--url", server.url, "stats")
    assert rc == 0, (rc, out, err)
    return {name: json.loads(value) for name, value in
            (line.split(": ", 1) for line in out.splitlines())}


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} within {timeout} s")


def frames_until_end(sock, timeout=3.0):
    """Opcodes of every frame the server sent before its end of the stream (FIN or reset)."""
    data = bytearray()
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    opcodes = []
    while True:
        parsed = parse_server_frame(data)
        if not parsed:
            break
        opcode, _, used = parsed
        del data[:used]
        opcodes.append(opcode)
    return opcodes


# ---- pings ----


def test_a_peer_that_answers_pings_is_pinged_and_kept(wampd_factory):
    server = wampd_factory(config=liveness_config(ping_interval=0.3, pong_timeout=0.3))
    with Peer(server.port) as peer:
        pings = 0
        started = time.monotonic()
        while time.monotonic() - started < 2.0:
            opcode, payload = peer.recv_frame(timeout=1.0)
            assert opcode == PING, (opcode, payload)
            pings += 1
            peer.send(frame(PONG, payload))
        # A ping each quiet interval (0.3 s, and up to a tick of 75 ms later).
        assert 3 <= pings <= 7, pings
        peer.call_topics()
    assert not log_lines(server, "dropped the connection"), server.log()


def test_websockets_and_autobahn_clients_survive_many_ping_intervals(wampd_factory):
    server = wampd_factory(config=liveness_config(ping_interval=0.3, pong_timeout=0.3))

    async def scenario():
        # websockets answers pings by itself (its own keep-alive pings are off here).
        v1 = await WampV1Client.connect(server.url)
        async with Clients() as clients:
            v2 = await clients.connect(server.url)
            events = EventLog()
            await v2.subscribe(events, DATA_UPDATE)
            await v1.subscribe(DATA_UPDATE)
            await asyncio.sleep(2.5)  # about eight ping intervals without a message
            await v1.publish(DATA_UPDATE, ["after the quiet"])
            assert (await v1.recv_event(DATA_UPDATE))[2] == ["after the quiet"]
            await events.at_least(1)
            assert v2.is_attached()
        await v1.close()

    run(scenario())
    assert not log_lines(server, "dropped the connection"), server.log()
    assert stats(server)["dropped_unresponsive"] == 0


def test_a_silent_peer_is_dropped_after_ping_interval_and_pong_timeout_without_a_close_frame(
        wampd_factory):
    server = wampd_factory(config=liveness_config(ping_interval=0.5, pong_timeout=0.5))
    with Peer(server.port) as silent:
        opened = time.monotonic()
        wait_until(lambda: log_lines(server, DROPPED_SILENT), 4.0, "the silent peer not dropped")
        elapsed = time.monotonic() - opened
        # ping_interval + pong_timeout, each late by at most a tick (125 ms here), and the
        # log polled every 20 ms.
        assert 0.9 <= elapsed <= 2.0, elapsed
        line = log_lines(server, DROPPED_SILENT)[0]
        assert "from 127.0.0.1:" in line, line
        # What it finds when it looks: the pings, then the end; never a close frame.
        opcodes = frames_until_end(silent.sock)
        assert CLOSE not in opcodes and set(opcodes) <= {PING}, opcodes
    counters = stats(server)
    assert counters["dropped_unresponsive"] >= 1
    assert f"session {silent.session_id} closed (1006 No answer to a ping)" in server.log()


def test_a_dropped_v1_client_sees_no_close_frame_and_comes_back(wampd_factory):
    server = wampd_factory(config=liveness_config(ping_interval=0.3, pong_timeout=0.3))

    async def scenario():
        client = await WampV1Client.connect(server.url)
        first = client.session_id
        # The client's packets stop: it neither reads pings nor answers them.
        client.ws.transport.pause_reading()
        await asyncio.get_running_loop().run_in_executor(
            None, wait_until, lambda: log_lines(server, DROPPED_SILENT), 4.0, "no drop")
        client.ws.transport.resume_reading()
        # No close frame: the close is not clean (1006), which AutobahnJS 0.8 reconnects after.
        assert await client.wait_closed() == 1006
        # And it comes back (Oro's page reconnects by itself).
        again = await WampV1Client.connect(server.url)
        assert again.session_id != first
        await again.subscribe(DATA_UPDATE)
        await again.publish(DATA_UPDATE, ["back"])
        assert (await again.recv_event(DATA_UPDATE))[2] == ["back"]
        await again.close()

    run(scenario())


def test_a_peer_that_stops_reading_is_dropped_after_write_timeout_others_keep_receiving(
        wampd_factory):
    server = wampd_factory(config=liveness_config(write_timeout=1, ping_interval=0))
    payload = "x" * 4096
    with subscriber(server.port, rcvbuf=4096) as stalled, subscriber(server.port) as reader, \
            Peer(server.port) as publisher:
        # A burst under the broker's 4 MiB bound on a subscriber's events, far over what the
        # kernels' buffers take from a reader with a 4 KiB window; then nothing more.
        count = 700
        for start in range(0, count, 50):
            publisher.send(b"".join(
                text([PUBLISH, DATA_UPDATE, [{"username": None, "tagname": f"{i:04d}" + payload}]])
                for i in range(start, start + 50)))
            for i in range(start, start + 50):
                message = reader.recv_message()
                assert message[0] == EVENT and message[2][0]["tagname"].startswith(f"{i:04d}x")
        burst_end = time.monotonic()
        wait_until(lambda: log_lines(server, DROPPED_STALLED), 4.0,
                   "the stalled peer was not dropped")
        elapsed = time.monotonic() - burst_end
        # write_timeout (1 s) after the queue stopped moving, which was at most at the burst's
        # end, plus a tick (250 ms), and some slack for a loaded machine.
        assert elapsed <= 2.0, elapsed
        # Still served after the drop.
        publisher.send(text([PUBLISH, DATA_UPDATE, ["after"]]))
        assert reader.recv_message() == [EVENT, DATA_UPDATE, ["after"]]
        opcodes = frames_until_end(stalled.sock)
        assert CLOSE not in opcodes and set(opcodes) <= {TEXT}, opcodes
    line = log_lines(server, DROPPED_STALLED)[0]
    assert "from 127.0.0.1: " in line and "bytes queued" in line, line
    counters = stats(server)
    assert counters["dropped_write_stalled"] == 1
    assert counters["slow_subscribers_disconnected"] == 0


def test_zero_disables_pings_and_the_write_timeout(wampd_factory):
    server = wampd_factory(config=liveness_config(ping_interval=0, pong_timeout=0.2,
                                                  write_timeout=0))
    with Peer(server.port) as silent:
        silent.sock.settimeout(1.5)
        with pytest.raises(socket.timeout):
            silent.sock.recv(1)  # no ping, no drop
        silent.call_topics()
    assert not log_lines(server, "dropped the connection")


def test_fractional_and_bad_values_are_checked(wampd_factory, tmp_path):
    config = liveness_config(ping_interval="soon")
    path = tmp_path / "bad.yml"
    path.write_text(json.dumps(config))
    completed = subprocess.run([str(WAMPD), "--config", str(path), "--check-config"],
                               capture_output=True, text=True, timeout=30)
    assert completed.returncode != 0
    assert "server.ping_interval must be a number of seconds from 0 to 86400" in \
        completed.stderr, completed.stderr
    assert f"{path}:" in completed.stderr


def test_reload_applies_new_timeouts_to_open_connections(wampd_factory):
    config = liveness_config(ping_interval=0)
    server = wampd_factory(config=config)
    with Peer(server.port) as silent:
        time.sleep(0.6)
        config["server"].update(ping_interval=0.3, pong_timeout=0.3)
        server.config_path.write_text(json.dumps(config))
        server.signal(signal.SIGHUP)
        server.wait_for_log("generation 2 serving")
        wait_until(lambda: log_lines(server, DROPPED_SILENT), 3.0, "not dropped after reload")
        assert CLOSE not in frames_until_end(silent.sock)


# ---- limits ----


UPGRADE = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Protocol: wamp\r\n\r\n")


def handshake(port, source="127.0.0.1"):
    """A raw upgrade from `source`; returns (status line, headers, body or rest, socket)."""
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(5.0)
    sock.connect(("127.0.0.1", port))
    sock.sendall(UPGRADE)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1 << 16)
        assert chunk, data
        data += chunk
    status, headers, rest = split_response(data)
    if not status.startswith("HTTP/1.1 101"):
        length = int(dict((k.lower(), v) for k, v in headers)["content-length"])
        while len(rest) < length:
            rest += sock.recv(1 << 16)
    return status, dict((k.lower(), v) for k, v in headers), rest, sock


def admitted(port, source="127.0.0.1"):
    status, _, _, sock = handshake(port, source)
    sock.close()
    return status.startswith("HTTP/1.1 101")


def test_max_connections_answers_503_with_a_body_and_counts(wampd_factory):
    server = wampd_factory(config=liveness_config(max_connections=2))
    held = [handshake(server.port)[3] for _ in range(2)]
    status, headers, body, sock = handshake(server.port, "127.0.0.2")
    sock.close()
    assert status == "HTTP/1.1 503 Service Unavailable", status
    assert b"server.max_connections" in body, body
    for s in held:
        s.close()
    wait_until(lambda: admitted(server.port), 3.0, "not admitted once connections closed")
    assert stats(server)["refused_max_connections"] == 1


def test_max_connections_per_ip_spares_other_addresses(wampd_factory):
    server = wampd_factory(config=liveness_config(max_connections_per_ip=2))
    held = [handshake(server.port)[3] for _ in range(2)]
    status, _, body, sock = handshake(server.port)
    sock.close()
    assert status.startswith("HTTP/1.1 503"), status
    assert b"server.max_connections_per_ip" in body, body
    status, _, _, other = handshake(server.port, "127.0.0.2")
    assert status.startswith("HTTP/1.1 101"), status
    other.close()
    held.pop().close()
    wait_until(lambda: admitted(server.port), 3.0, "not admitted once one closed")
    for s in held:
        s.close()
    counters = stats(server)
    assert counters["refused_max_connections_per_ip"] == 1
    assert counters["refused_max_connections"] == 0


def test_handshake_rate_per_ip_answers_429_with_retry_after(wampd_factory):
    server = wampd_factory(config=liveness_config(handshake_rate_per_ip=2))
    # wait_ready's probe connected without a handshake: it drew no token.
    answers = [handshake(server.port) for _ in range(3)]
    assert [a[0].split()[1] for a in answers] == ["101", "101", "429"], [a[0] for a in answers]
    status, headers, body, _ = answers[2]
    assert status == "HTTP/1.1 429 Too Many Requests"
    assert headers["retry-after"] == "1", headers
    assert b"server.handshake_rate_per_ip" in body, body
    assert admitted(server.port, "127.0.0.3")  # another address has its own bucket
    time.sleep(0.6)  # a token back
    assert admitted(server.port)
    for a in answers:
        a[3].close()
    time.sleep(1.1)  # and one for wampctl
    assert stats(server)["refused_handshake_rate"] == 1


def test_reload_applies_new_limits_to_new_connections(wampd_factory):
    config = liveness_config()
    server = wampd_factory(config=config)
    first = handshake(server.port)[3]
    config["server"]["max_connections_per_ip"] = 1
    server.config_path.write_text(json.dumps(config))
    server.signal(signal.SIGHUP)
    server.wait_for_log("generation 2 serving")
    status, _, body, sock = handshake(server.port)
    sock.close()
    assert status.startswith("HTTP/1.1 503"), status
    assert b"server.max_connections_per_ip" in body
    first.close()


# ---- the file limit ----


def start_limited(tmp_path, soft, hard, config=None):
    port = free_port()
    config_path = _write_config(config or liveness_config(), tmp_path, 90)
    args = ["prlimit", f"--nofile={soft}:{hard}", "--", str(WAMPD), "--config", str(config_path),
            "--port", str(port)]
    server = WampdProcess(args, port, tmp_path / "limited.log", config_path)
    server.wait_ready()
    return server


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_the_soft_open_files_limit_is_raised_to_the_hard_one(tmp_path):
    server = start_limited(tmp_path, 256, 4096)
    try:
        server.wait_for_log("open files limit: 4096 (soft limit was 256, hard limit 4096)")
        limits = open(f"/proc/{server.pid}/limits").read()
        line = next(l for l in limits.splitlines() if l.startswith("Max open files"))
        assert line.split()[3:5] == ["4096", "4096"], line
    finally:
        assert server.stop() == 0


@pytest.mark.skipif(SANITIZED, reason="ASan opens descriptors of its own at a 64-file limit")
def test_accept_out_of_descriptors_backs_off_logs_once_a_second_and_recovers(tmp_path):
    server = start_limited(tmp_path, 64, 64)
    clients = []
    try:
        server.wait_for_log("open files limit: 64 (soft limit was 64, hard limit 64)")
        # More connections than descriptors: the rest wait in the listen backlog. Each sends
        # its upgrade request, so the accepted ones stay open (no handshake timeout).
        for _ in range(80):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(UPGRADE)
            clients.append(sock)
        server.wait_for_log("Too many open files")
        cpu_before, started = cpu_seconds(server.pid), time.monotonic()
        lines_before = len(log_lines(server, "accepting a connection failed"))
        time.sleep(3.0)
        lines = len(log_lines(server, "accepting a connection failed")) - lines_before
        cpu = cpu_seconds(server.pid) - cpu_before
        elapsed = time.monotonic() - started
        # At most one line a second, each with its count; and no spinning meanwhile.
        assert 1 <= lines <= elapsed + 1, lines
        assert cpu < 0.2 * elapsed, cpu
        last = log_lines(server, "accepting a connection failed")[-1]
        assert re.search(r"\((\d+) failed attempts since the last report; retrying in \d+ ms\)",
                         last), last
        # Once descriptors are free again new connections are served.
        for sock in clients:
            sock.close()
        clients.clear()
        wait_until(lambda: "accepting connections again after" in server.log(), 3.0,
                   "accept never recovered")

        async def welcomed():
            client = await WampV1Client.connect(server.url)
            await client.close()

        run(welcomed())
        assert stats(server)["accept_failures"] >= 1
    finally:
        for sock in clients:
            sock.close()
        assert server.stop() == 0


def test_a_slow_reader_that_keeps_reading_is_kept(wampd_factory):
    # Its queue does not empty within write_timeout, but it moves.
    server = wampd_factory(config=liveness_config(write_timeout=1, ping_interval=0))
    payload = "y" * 4096
    count = 700  # more than the kernels take (see the test above), under the broker's bound
    with subscriber(server.port, rcvbuf=4096) as slow, Peer(server.port) as publisher:
        publisher.send(b"".join(
            text([PUBLISH, DATA_UPDATE, [{"username": None, "tagname": f"{i:04d}" + payload}]])
            for i in range(count)))
        started = time.monotonic()
        received = 0
        while time.monotonic() - started < 3.0:
            time.sleep(0.1)
            slow.sock.settimeout(1.0)
            received += len(slow.sock.recv(64 * 1024))
        assert received < count * 4096 * 0.75, received  # it really stayed behind
        assert not log_lines(server, "dropped the connection"), server.log()
        slow.buffer.clear()
