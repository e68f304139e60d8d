"""The WebSocket transport of a real wampd: subprotocol choice, URL paths, the handshake as
Oro's PHP backend client reads it, response headers, the message size limit, a signal with
no clients and a port that is already taken.

Oro's PHP client (Oro\\Bundle\\SyncBundle\\Client\\Wamp\\WampClient) is emulated with a raw
socket: it reads the 101 response on a non-blocking socket, stops at the first empty read
after some data and takes the first `[` ... `]` in those bytes as WELCOME. The server must
therefore send the 101 response and the WELCOME frame in one write.
"""

import base64
import hashlib
import json
import os
import signal
import socket
import time

import pytest
import websockets

from conftest import (BUILD_CONFIG, BUNDLED_PLUGIN_DIR, BUNDLED_ROUTING, TRUSTED_LOOPBACK,
                      WAMPD, WampdProcess)
from wamp_client import CALL, CALLRESULT, EVENT, WELCOME, WampV1Client, run

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 1.3
MAINTENANCE = "oro/maintenance"
DATA_UPDATE = "oro/data/update"
CLOSE_OPCODE = 0x8
TEXT_OPCODE = 0x1
MESSAGE_TOO_BIG = 1009


# ---- raw-socket helpers (the PHP client's view of the wire) ----


def upgrade_request(port, path="/", subprotocols=("wamp",), origin="127.0.0.1"):
    """An upgrade request as Oro's PHP client writes it, and its Sec-WebSocket-Key."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Pragma: no-cache",
        "Cache-Control: no-cache",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
    if origin is not None:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


def read_like_php(sock, timeout=5.0):
    """Oro's read loop: non-blocking reads, stopping at the first empty read once some data
    has arrived. Returns the bytes read."""
    sock.setblocking(False)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            chunk = b""
        if chunk:
            data += chunk
        elif data:
            return data
    raise AssertionError(f"no response within {timeout} s; read so far: {data!r}")


def php_handshake(port, path="/", subprotocols=("wamp",)):
    """Connects and upgrades as the PHP client does; returns (socket, key, bytes read)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    request, key = upgrade_request(port, path, subprotocols)
    sock.sendall(request)
    return sock, key, read_like_php(sock)


def split_response(data):
    """(status line, [(name, value)], rest after the header block) of an HTTP response."""
    head, separator, rest = data.partition(b"\r\n\r\n")
    assert separator, f"incomplete HTTP header block: {data!r}"
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        assert colon, f"malformed header line {line!r} in {data!r}"
        headers.append((name.strip(), value.strip()))
    return lines[0], headers, rest


def header(headers, name):
    values = [value for key, value in headers if key.lower() == name.lower()]
    return values[0] if values else None


def parse_frame(data):
    """(opcode, payload, rest) of the first server frame in `data`, or None when `data`
    does not hold a complete frame. Server frames are never masked (RFC 6455 5.1)."""
    if len(data) < 2:
        return None
    assert data[0] & 0x80, f"fragmented server frame: {data!r}"
    assert not data[1] & 0x80, f"masked server frame: {data!r}"
    length = data[1] & 0x7F
    position = 2
    if length == 126:
        if len(data) < 4:
            return None
        length, position = int.from_bytes(data[2:4], "big"), 4
    elif length == 127:
        if len(data) < 10:
            return None
        length, position = int.from_bytes(data[2:10], "big"), 10
    if len(data) < position + length:
        return None
    return data[0] & 0x0F, data[position:position + length], data[position + length:]


def client_frame(opcode, payload):
    """A masked client frame (payload shorter than 126 bytes)."""
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


def read_frame(sock, buffered=b"", timeout=5.0):
    """Blocks until one complete server frame arrived; returns (opcode, payload, rest)."""
    sock.setblocking(True)
    sock.settimeout(timeout)
    data = buffered
    while True:
        frame = parse_frame(data)
        if frame:
            return frame
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a complete frame: {data!r}"
        data += chunk


def close_code(payload):
    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None


def first_bracketed(data):
    """What Oro's client takes as WELCOME: the first `[` to the last `]` of the bytes."""
    text = data.decode("latin-1")
    start, end = text.find("["), text.rfind("]")
    assert 0 <= start < end, f"no [ ... ] in {data!r}"
    return json.loads(text[start:end + 1])


def assert_welcome(message):
    assert isinstance(message, list) and len(message) == 4, message
    assert message[0] == WELCOME and isinstance(message[1], str) and message[1], message
    assert message[2] == 1, message


def plain_config(max_message_size=65536):
    """The bundled plugins and routes, with the given message size limit."""
    return {
        "server": {"host": "127.0.0.1", "port": 8080, "max_message_size": max_message_size},
        "log_level": "debug",
        "plugins": {"directories": [str(BUNDLED_PLUGIN_DIR)]},
        "routing": [str(path) for path in BUNDLED_ROUTING],
        "auth": dict(TRUSTED_LOOPBACK),
    }


async def barrier(client):
    """Returns once the server handled everything `client` sent before (one connection's
    messages are handled in order, and `wampd.topics` is answered at once)."""
    await client.send([CALL, "barrier", "wampd.topics"])
    while True:
        message = await client.recv()
        if message[:2] == [CALLRESULT, "barrier"]:
            return


# ---- subprotocols ----


def test_wamp_subprotocol_is_selected(wampd):
    async def scenario():
        async with await WampV1Client.connect(wampd.url, subprotocols=("wamp",)) as client:
            return client.subprotocol, client.welcome

    subprotocol, welcome = run(scenario())
    assert subprotocol == "wamp"
    assert_welcome(welcome)


def test_wamp_is_chosen_among_other_offers(wampd):
    async def scenario():
        async with await WampV1Client.connect(
                wampd.url, subprotocols=("chat.example", "wamp")) as client:
            return client.subprotocol

    assert run(scenario()) == "wamp"


def test_client_offering_no_subprotocol_is_welcomed(wampd):
    async def scenario():
        async with await WampV1Client.connect(wampd.url, subprotocols=()) as client:
            return client.subprotocol, client.welcome

    subprotocol, welcome = run(scenario())
    assert subprotocol is None
    assert_welcome(welcome)


@pytest.mark.parametrize("offered", [("chat.example",), ("mqtt", "soap")])
def test_only_unsupported_subprotocols_are_refused_with_400(wampd, offered):
    sock = socket.create_connection(("127.0.0.1", wampd.port), timeout=5)
    with sock:
        request, _ = upgrade_request(wampd.port, subprotocols=offered)
        sock.sendall(request)
        data = b""
        # The server ends a refused connection after its response.
        while chunk := sock.recv(65536):
            data += chunk
    status, headers, body = split_response(data)
    assert status.startswith("HTTP/1.1 400"), data
    assert header(headers, "Upgrade") is None, data
    explanation = (status + " " + body.decode("latin-1")).lower()
    assert "subprotocol" in explanation and "wamp" in explanation, data

    # The same refusal as websockets sees it, and the server still serves others.
    async def scenario():
        with pytest.raises(websockets.InvalidStatusCode) as refused:
            await WampV1Client.connect(wampd.url, subprotocols=offered)
        async with await WampV1Client.connect(wampd.url) as client:
            return refused.value.status_code, client.welcome

    status_code, welcome = run(scenario())
    assert status_code == 400
    assert_welcome(welcome)


# ---- URL paths ----


@pytest.mark.parametrize(
    "path", ["/", "/some/path?foo=abc", "/ws", "/a/b/c/", "/?x=1&y=2", "/websocket/x?"])
def test_any_url_path_and_query_is_accepted(wampd, path):
    async def scenario():
        url = f"ws://127.0.0.1:{wampd.port}{path}"
        async with await WampV1Client.connect(url) as client:
            return client.welcome

    assert_welcome(run(scenario()))


# ---- the handshake as Oro's PHP client reads it ----


def test_101_and_welcome_arrive_in_one_read_every_time(wampd):
    session_ids = set()
    for attempt in range(30):
        sock, key, data = php_handshake(wampd.port, "/some/path?foo=abc")
        with sock:
            status, headers, rest = split_response(data)
            assert status.startswith("HTTP/1.1 101"), f"attempt {attempt}: {data!r}"
            expected_accept = base64.b64encode(
                hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            assert header(headers, "Sec-WebSocket-Accept") == expected_accept, data
            assert header(headers, "Sec-WebSocket-Protocol") == "wamp", data

            frame = parse_frame(rest)
            assert frame is not None, (
                f"attempt {attempt}: the first read held the 101 response but not the whole "
                f"WELCOME frame: {data!r}")
            opcode, payload, after = frame
            assert opcode == TEXT_OPCODE and after == b"", data
            welcome = json.loads(payload)
            assert_welcome(welcome)
            # What the PHP client actually parses: the first [ ... ] of everything read.
            assert first_bracketed(data) == welcome
            session_ids.add(welcome[1])

            # Oro's client closes with a close frame and reads the reply at once.
            sock.setblocking(True)
            sock.sendall(client_frame(CLOSE_OPCODE, (1000).to_bytes(2, "big")))
            opcode, payload, _ = read_frame(sock)
            assert opcode == CLOSE_OPCODE and close_code(payload) == 1000, payload
    assert len(session_ids) == 30, "every connection gets its own session id"


@pytest.mark.parametrize("subprotocols", [("wamp",), ()], ids=["wamp", "none"])
def test_no_response_header_contains_brackets(wampd, subprotocols):
    sock, _, data = php_handshake(wampd.port, subprotocols=subprotocols)
    with sock:
        status, headers, _ = split_response(data)
    assert status.startswith("HTTP/1.1 101"), data
    assert headers, data
    for name, value in [("status line", status)] + headers:
        assert "[" not in name + value and "]" not in name + value, (
            f"{name}: {value} would be taken for WELCOME by Oro's client")


# ---- message size ----


def test_message_over_the_limit_closes_only_that_connection_with_1009(wampd_factory):
    server = wampd_factory(config=plain_config(max_message_size=2048))

    def update(size):
        """A valid PUBLISH to oro/data/update whose JSON text is exactly `size` bytes."""
        message = [7, DATA_UPDATE, [{"username": None, "tagname": ""}]]
        padding = size - len(json.dumps(message))
        message[2][0]["tagname"] = "x" * padding
        assert len(json.dumps(message)) == size
        return message

    async def scenario():
        listener = await WampV1Client.connect(server.url)
        sender = await WampV1Client.connect(server.url)
        async with listener, sender:
            await listener.subscribe(DATA_UPDATE)
            await barrier(listener)

            # Just under the limit: delivered, so the limit is the configured one.
            small = update(2000)
            await sender.send(small)
            assert await listener.recv_event(DATA_UPDATE) == [EVENT, DATA_UPDATE, small[2]]

            await sender.send(update(4096))
            code = await sender.wait_closed()

            # The listener is untouched and still served.
            await listener.expect_no_message(0.3)
            async with await WampV1Client.connect(server.url) as other:
                after = update(100)
                await other.send(after)
                received = await listener.recv_event(DATA_UPDATE)
            return code, received, after

    code, received, after = run(scenario())
    assert code == MESSAGE_TOO_BIG
    assert received == [EVENT, DATA_UPDATE, after[2]]


def test_message_of_4_kib_is_fine_under_the_default_limit(wampd_factory):
    server = wampd_factory(config=plain_config())

    async def scenario():
        async with await WampV1Client.connect(server.url) as client:
            await client.subscribe(DATA_UPDATE)
            event = [{"username": None, "tagname": "y" * 4096}]
            await client.publish(DATA_UPDATE, event)
            return await client.recv_event(DATA_UPDATE), event

    received, event = run(scenario())
    assert received == [EVENT, DATA_UPDATE, event]


# ---- shutdown ----


# Draining clients on a signal: test_shutdown.py.


def test_signal_with_no_clients_exits_0_at_once(wampd_factory):
    server = wampd_factory()
    started = time.monotonic()
    server.signal(signal.SIGTERM)
    assert server.wait() == 0, server.log()
    assert time.monotonic() - started < 2.0


# ---- listening ----


def test_port_in_use_is_refused_naming_host_and_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WampdProcess(
            [str(WAMPD), "--config", str(BUILD_CONFIG), "--port", str(port)], port,
            tmp_path / "wampd.log", BUILD_CONFIG)
        code = server.wait()
    assert code not in (0, None) and code > 0, f"exit code {code}:\n{server.log()}"
    assert f"127.0.0.1:{port}" in server.log()

