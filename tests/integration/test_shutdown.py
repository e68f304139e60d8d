"""Draining on SIGTERM/SIGINT: every client is ended so that it comes back by itself to the
next wampd on the port, and the process exits 0 within server.shutdown_timeout.

WAMP v1 connections end with no close frame (Oro's AutobahnJS 0.8 reconnects only after a
close that is not clean, as Ratchet's exit gives it); WAMP v2 sessions get the closing
handshake and no GOODBYE (autobahn-js and wampy stop retrying after a router's GOODBYE);
calls waiting on a callee that is leaving get an ERROR first.
"""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
import websockets

from conftest import BUILD_CONFIG, STOP_TIMEOUT, WAMPD, WampdProcess, default_config
from test_transport import php_handshake, parse_frame, split_response
from wamp_client import CALL, CALLRESULT, WampV1Client, run

ABNORMAL = 1006  # what a client reports when the connection ended with no close frame
GOING_AWAY = 1001
HELLO, WELCOME, GOODBYE, ERROR = 1, 2, 6, 8
CALL2, REGISTER, REGISTERED, INVOCATION = 48, 64, 65, 68
ROLES = {"roles": {"caller": {}, "callee": {}}}


def read_to_eof(sock, timeout):
    """Everything `sock` receives until the server's FIN."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


async def barrier(client):
    """Returns once the server handled everything `client` sent before."""
    await client.send([CALL, "barrier", "wampd.topics"])
    while (await client.recv())[:2] != [CALLRESULT, "barrier"]:
        pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_drops_v1_clients_without_a_close_frame_and_exits_0(wampd_factory, signum):
    server = wampd_factory()
    # A PHP-style client that never closes its end: the server must not wait for it beyond
    # its own deadline.
    raw, _, data = php_handshake(server.port)
    _, _, rest = split_response(data)
    welcome = parse_frame(rest)
    assert welcome is not None, data

    async def scenario():
        clients = [
            await WampV1Client.connect(server.url),
            await WampV1Client.connect(server.url, subprotocols=()),
        ]
        await clients[0].subscribe("oro/maintenance")
        for client in clients:
            await barrier(client)
        started = time.monotonic()
        server.signal(signum)
        codes = await asyncio.gather(*(client.wait_closed() for client in clients))
        return codes, started

    with raw:
        codes, started = run(scenario())
        assert codes == [ABNORMAL] * 2, [(c, server.log()) for c in codes][:1]
        assert read_to_eof(raw, STOP_TIMEOUT) == welcome[2] == b""
        exit_code = server.wait(timeout=max(0.1, STOP_TIMEOUT - (time.monotonic() - started)))
    assert exit_code == 0, server.log()
    assert time.monotonic() - started < STOP_TIMEOUT


def test_shutdown_timeout_bounds_the_drain(wampd_factory):
    config = default_config()
    config["server"]["shutdown_timeout"] = 1
    server = wampd_factory(config=config)
    # Neither reads nor closes: only the deadline ends this drain early (the transport's own
    # close timeout is 2 s).
    raw, _, _ = php_handshake(server.port)
    with raw:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=STOP_TIMEOUT) == 0, server.log()
        assert time.monotonic() - started < 1.9, server.log()


def test_connections_without_a_handshake_do_not_hold_up_the_exit(wampd_factory):
    server = wampd_factory()
    # Silent, and half a request: each would be dropped by the 5 s handshake timeout.
    silent = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    half = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    with silent, half:
        half.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        server.wait_for_log("listening")
        time.sleep(0.1)  # both accepted
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=STOP_TIMEOUT) == 0, server.log()
        assert time.monotonic() - started < 1.0, server.log()
        assert read_to_eof(silent, 1.0) == read_to_eof(half, 1.0) == b""


class V2:
    """A WAMP v2 JSON session driven message by message."""

    def __init__(self, ws):
        self.ws = ws
        self.received = []

    @classmethod
    async def join(cls, url):
        ws = await websockets.connect(url, subprotocols=["wamp.2.json"], ping_interval=None,
                                      open_timeout=5, close_timeout=5)
        client = cls(ws)
        await client.send([HELLO, "realm1", ROLES])
        assert (await client.recv())[0] == WELCOME
        return client

    async def send(self, message):
        await self.ws.send(json.dumps(message))

    async def recv(self, timeout=5.0):
        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.received.append(message)
        return message

    async def until_closed(self, timeout=5.0):
        """Every message up to the end of the connection, and the close code."""
        try:
            while True:
                await self.recv(timeout)
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(self.ws.wait_closed(), timeout)
        return self.ws.close_code


def test_v2_pending_call_gets_an_error_and_no_session_gets_goodbye(wampd_factory):
    server = wampd_factory()

    async def scenario():
        callee = await V2.join(server.url)
        await callee.send([REGISTER, 1, {}, "com.example.never_answers"])
        assert (await callee.recv())[:2] == [REGISTERED, 1]
        caller = await V2.join(server.url)
        await caller.send([CALL2, 7, {}, "com.example.never_answers", [1]])
        assert (await callee.recv())[0] == INVOCATION
        server.signal(signal.SIGTERM)
        return await asyncio.gather(caller.until_closed(), callee.until_closed()), caller, callee

    (caller_code, callee_code), caller, callee = run(scenario())
    errors = [m for m in caller.received if m[0] == ERROR]
    assert len(errors) == 1 and errors[0][1:3] == [CALL2, 7], caller.received
    assert errors[0][4] == "wamp.error.canceled", errors
    for client in (caller, callee):
        assert not [m for m in client.received if m[0] == GOODBYE], client.received
    assert caller_code == callee_code == GOING_AWAY
    assert server.wait() == 0, server.log()


def health(port, timeout=2.0):
    """(status, body) of GET /health on a new connection; (None, error) when none opens."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = read_to_eof(s, timeout)
    except OSError as error:
        return None, str(error)
    status, _, body = split_response(data)
    return int(status.split(" ")[1]), body


def held_drain(server):
    """A WAMP v1 client that never closes its end: after SIGTERM it holds the drain for the
    transport's close timeout (2 s). Returns its socket."""
    raw, _, data = php_handshake(server.port)
    assert parse_frame(split_response(data)[2]) is not None, data
    return raw


def test_health_says_draining_and_handshakes_get_503_while_the_drain_lasts(wampd_factory):
    server = wampd_factory()
    assert health(server.port)[0] == 200
    with held_drain(server):
        server.signal(signal.SIGTERM)
        server.wait_for_log("shutting down")
        # The port is still open: a balancer's next check sees the drain, not a refusal.
        status, body = health(server.port)
        assert (status, json.loads(body)) == (503, {"status": "draining"}), server.log()
        raw, _, data = php_handshake(server.port)
        raw.close()
        assert data.startswith(b"HTTP/1.1 503 "), data
        assert server.wait() == 0, server.log()
    assert health(server.port)[0] is None  # closed with the drain


def test_a_new_wampd_binds_the_port_of_one_that_drains(wampd_factory, tmp_path):
    old = wampd_factory()
    with held_drain(old):
        old.signal(signal.SIGTERM)
        old.wait_for_log("shutting down")
        started = time.monotonic()
        new = WampdProcess([str(WAMPD), "--config", str(BUILD_CONFIG), "--port", str(old.port)],
                           old.port, tmp_path / "new.log", BUILD_CONFIG)
        try:
            new.wait_for_log("sharing the port until it exits")
            new.wait_for_log("listening on")
            # Both take connections until the old one exits: the kernel spreads them.
            answers = set()
            while old.returncode is None and time.monotonic() - started < 1.5:
                answers.add(health(old.port)[0])
            assert 200 in answers, (answers, new.log())
            assert old.wait() == 0, old.log()
            # Then the new one takes every connection, and its backend cookie (the same path)
            # outlived the old one's exit.
            assert {health(old.port)[0] for _ in range(20)} == {200}
            cookie = re.search(r"backend token for wampctl written to (\S+)", new.log()).group(1)
            assert os.path.exists(cookie), new.log()
        finally:
            assert new.stop() == 0, new.log()


def test_a_second_wampd_cannot_take_the_port_of_one_that_serves(wampd_factory, tmp_path):
    serving = wampd_factory()
    completed = subprocess.run(
        [str(WAMPD), "--config", str(BUILD_CONFIG), "--port", str(serving.port)],
        capture_output=True, text=True, timeout=10)
    assert completed.returncode != 0
    assert f"cannot listen on 127.0.0.1:{serving.port}: Address already in use" in \
        completed.stderr + completed.stdout
    assert health(serving.port)[0] == 200
