"""RFC 6455 framing as a real wampd enforces it: ping/pong, fragmented messages, protocol
violations and their close codes, the closing handshake, refused and abandoned opening
handshakes, the message size limit applied to frame headers, and peers that stop reading
(the broker's 4 MiB bound on a subscriber's events, the transport's 16 MiB bound on any
send queue).

Every client here is a plain socket, so each test decides every byte on the wire (masking,
reserved bits, lengths, how frames are split across writes) and sees every byte the server
writes: "the next frame is X" proves that nothing came before X.

The protocol-level cases run against wampd and against wampd-ws-echo (the transport alone,
echoing every message, with 16 MiB messages: the conformance suites' testee) through the
`server` fixture; WAMP-specific ones run against wampd only.
"""

import datetime
import json
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import BUILD_DIR, SANITIZED, STOP_TIMEOUT, run_wampctl
from test_transport import DATA_UPDATE, header, parse_frame, plain_config, split_response
from wamp_client import CALL, CALLRESULT, EVENT, PUBLISH, SUBSCRIBE, WELCOME

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
GOING_AWAY, PROTOCOL_ERROR, INVALID_PAYLOAD, POLICY_VIOLATION, TOO_BIG = \
    1001, 1002, 1007, 1008, 1009
ABNORMAL = 1006  # what a server logs for a connection that ended with no close frame

# The server's TransportOptions: how long it waits for the peer's side of a closing
# handshake, and for a complete opening handshake.
CLOSE_TIMEOUT = 2.0
HANDSHAKE_TIMEOUT = 5.0
MAX_HANDSHAKE_BYTES = 16 * 1024
# The broker's bound on a subscriber's send queue.
SEND_QUEUE_LIMIT = 4 * 1024 * 1024

# wampd's default server.max_message_size, and wampd-ws-echo's.
WAMPD_MAX_MESSAGE = 64 * 1024
ECHO_MAX_MESSAGE = 16 * 1024 * 1024
WS_ECHO = BUILD_DIR / "bin" / "wampd-ws-echo"

# A v1 CALL the server answers at once, whatever the config.
TOPICS_CALL = json.dumps([CALL, "c", "wampd.topics"]).encode()


# ---- client frames ----


def masked(payload, key):
    if not payload:
        return b""
    stream = (key * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(
        len(payload), "big")


def length_field(length, mask_bit=0x80):
    if length < 126:
        return bytes([mask_bit | length])
    if length <= 0xFFFF:
        return bytes([mask_bit | 126]) + length.to_bytes(2, "big")
    return bytes([mask_bit | 127]) + length.to_bytes(8, "big")


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True):
    """A client frame; `rsv` is the three reserved bits as a number (4 is RSV1)."""
    first = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    if not mask:
        return first + length_field(len(payload), 0) + payload
    key = os.urandom(4)
    return first + length_field(len(payload)) + key + masked(payload, key)


def text(message):
    return frame(TEXT, json.dumps(message).encode())


def close_payload(code, reason=b""):
    return code.to_bytes(2, "big") + reason


# ---- server frames ----


def parse_server_frame(data):
    """(opcode, payload, bytes used) of the first frame in `data`, None when incomplete.
    Server frames are final (wampd never fragments), unmasked, without reserved bits."""
    if len(data) >= 1:
        assert data[0] & 0x70 == 0, f"reserved bits set: {bytes(data[:16])!r}"
    parsed = parse_frame(bytes(data))
    if parsed is None:
        return None
    opcode, payload, rest = parsed
    return opcode, bytes(payload), len(data) - len(rest)


class Peer:
    """A WAMP v1 client on a raw socket, upgraded and past WELCOME when constructed; with
    `wamp` false a plain WebSocket client (no subprotocol, no WELCOME)."""

    def __init__(self, port, rcvbuf=None, behind_request=b"", wamp=True):
        """`behind_request`: bytes sent in the same write as the upgrade request."""
        self.sock = socket.socket()
        if rcvbuf:
            # Before connect, so the window the server sees is small from the start.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(5.0)
        self.sock.connect(("127.0.0.1", port))
        self.buffer = bytearray()
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        self.send(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   "Sec-WebSocket-Version: 13\r\n"
                   + ("Sec-WebSocket-Protocol: wamp\r\n" if wamp else "") + "\r\n").encode()
                  + behind_request)
        deadline = time.monotonic() + 5.0
        while b"\r\n\r\n" not in self.buffer:
            self._fill(deadline)
        end = self.buffer.index(b"\r\n\r\n") + 4
        assert self.buffer.startswith(b"HTTP/1.1 101 "), bytes(self.buffer)
        del self.buffer[:end]
        self.session_id = None
        if not wamp:
            return
        welcome = self.recv_message()
        assert welcome[0] == WELCOME, welcome
        self.session_id = welcome[1]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = self.sock.recv(1 << 16)
        assert chunk, f"connection closed; unread: {bytes(self.buffer[:200])!r}"
        self.buffer += chunk

    def recv_frame(self, timeout=5.0):
        """The next frame as (opcode, payload)."""
        deadline = time.monotonic() + timeout
        while True:
            parsed = parse_server_frame(self.buffer)
            if parsed:
                opcode, payload, used = parsed
                del self.buffer[:used]
                return opcode, payload
            self._fill(deadline)

    def recv_message(self, timeout=5.0):
        opcode, payload = self.recv_frame(timeout)
        assert opcode == TEXT, (opcode, payload)
        return json.loads(payload)

    def expect_close(self, code, timeout=5.0):
        """The next frame is a close frame with `code` and a UTF-8 reason; returns the reason."""
        opcode, payload = self.recv_frame(timeout)
        assert opcode == CLOSE, (opcode, payload)
        assert int.from_bytes(payload[:2], "big") == code, payload
        return payload[2:].decode("utf-8")

    def expect_eof(self, timeout=3.0):
        """Nothing more arrives but the server's FIN, within `timeout` s."""
        assert not self.buffer, bytes(self.buffer)
        self.sock.settimeout(timeout)
        assert self.sock.recv(1 << 16) == b""

    def call_topics(self, call_id="c"):
        """A CALL the server answers at once; its answer must be the next frame."""
        self.send(text([CALL, call_id, "wampd.topics"]))
        reply = self.recv_message()
        assert reply[:2] == [CALLRESULT, call_id], reply


def subscriber(port, **options):
    """A Peer subscribed to oro/data/update (in place when this returns)."""
    peer = Peer(port, **options)
    peer.send(text([SUBSCRIBE, DATA_UPDATE]))
    peer.call_topics("subscribed")
    return peer


def assert_served(peer, tag):
    """`peer`, subscribed to oro/data/update, publishes there and gets its event next."""
    event = [{"username": None, "tagname": tag}]
    peer.send(text([PUBLISH, DATA_UPDATE, event]))
    assert peer.recv_message() == [EVENT, DATA_UPDATE, event]


class EchoProcess:
    """A running wampd-ws-echo on a free port."""

    def __init__(self):
        self.process = subprocess.Popen([str(WS_ECHO), "0"], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("wampd-ws-echo listening on ws://127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1].strip("/\n"))

    def stop(self):
        """SIGTERM, then the exit code."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.stdout.close()


class Server:
    """wampd or wampd-ws-echo, for the cases where the WebSocket protocol alone decides."""

    def __init__(self, kind, port, wampd=None):
        self.kind, self.port, self.wampd = kind, port, wampd
        self.max_message = WAMPD_MAX_MESSAGE if wampd else ECHO_MAX_MESSAGE

    def peer(self, **options):
        return Peer(self.port, wamp=self.wampd is not None, **options)

    def served_peer(self):
        """A connection `assert_served` works on."""
        return subscriber(self.port) if self.wampd else self.peer()

    def assert_served(self, peer, tag):
        if self.wampd:
            assert_served(peer, tag)
        else:
            peer.send(frame(TEXT, tag.encode()))
            assert peer.recv_frame() == (TEXT, tag.encode())

    def request(self, tag):
        """A text frame and the payload of the text frame the server answers it with."""
        if self.wampd:
            call = json.dumps([CALL, tag, "wampd.topics"]).encode()
            return frame(TEXT, call), lambda payload: json.loads(payload)[:2] == [CALLRESULT, tag]
        return frame(TEXT, tag.encode()), lambda payload: payload == tag.encode()

    def wait_closed(self, peer, code, timeout):
        """wampd logs the session's end; the echo server says nothing."""
        if self.wampd:
            self.wampd.wait_for_log(f"session {peer.session_id} closed ({code} ", timeout=timeout)


@pytest.fixture(scope="module")
def echo_process():
    echo = EchoProcess()
    yield echo
    assert echo.stop() == 0


@pytest.fixture(params=["wampd", "echo"])
def server(request):
    if request.param == "wampd":
        wampd = request.getfixturevalue("wampd")
        return Server("wampd", wampd.port, wampd)
    return Server("echo", request.getfixturevalue("echo_process").port)


def read_until_eof(sock, timeout=3.0):
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = sock.recv(1 << 16)
        if not chunk:
            return data
        data += chunk


def log_lines(server, needle):
    return [line for line in server.log().splitlines() if needle in line]


def log_time(line):
    """The timestamp wampd puts first on each line (millisecond resolution)."""
    return datetime.datetime.fromisoformat(line.split(" ", 1)[0])


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


# ---- ping and pong ----


def test_pings_are_answered_with_their_payload_and_unsolicited_pongs_ignored(server):
    payloads = [b"", b"\x00hello\xff", bytes(range(125))]
    with server.served_peer() as peer:
        peer.send(b"".join(frame(PING, payload) for payload in payloads))
        for payload in payloads:
            assert peer.recv_frame() == (PONG, payload)
        # Nothing answers a pong: the next frame is the request's answer.
        request, is_answer = server.request("c")
        peer.send(frame(PONG, b"unsolicited") + frame(PONG) + request)
        opcode, payload = peer.recv_frame()
        assert opcode == TEXT and is_answer(payload), (opcode, payload)
        server.assert_served(peer, "after pongs")


# ---- fragmentation ----


def test_frames_sent_in_the_same_write_as_the_upgrade_request_are_read(wampd):
    """Frames right behind the request (before the 101 was seen) are the first messages."""
    behind = frame(TEXT, json.dumps([CALL, "early-1", "wampd.topics"]).encode()) + \
        frame(PING, b"early") + frame(TEXT, json.dumps([CALL, "early-2", "wampd.topics"]).encode())
    with Peer(wampd.port, behind_request=behind) as peer:
        assert peer.recv_message()[:2] == [CALLRESULT, "early-1"]
        assert peer.recv_frame() == (PONG, b"early")
        assert peer.recv_message()[:2] == [CALLRESULT, "early-2"]
        peer.call_topics("after")


def test_fragmented_messages_with_a_ping_between_fragments_are_understood(wampd):
    with Peer(wampd.port) as peer:
        subscribe = json.dumps([SUBSCRIBE, DATA_UPDATE]).encode()
        peer.send(frame(TEXT, subscribe[:5], fin=False))
        peer.send(frame(PING, b"between"))
        peer.send(frame(CONTINUATION, subscribe[5:12], fin=False))
        peer.send(frame(CONTINUATION, subscribe[12:]))
        assert peer.recv_frame() == (PONG, b"between")

        # A publication whose fragments split a 4-byte UTF-8 character: each fragment is
        # validated as it comes, and a character may span two. One fragment is empty.
        event = [{"username": None, "tagname": "ok \U0001F600 \u00e9"}]
        publish = json.dumps([PUBLISH, DATA_UPDATE, event], ensure_ascii=False).encode()
        cut = publish.index("\U0001F600".encode()) + 2
        peer.send(frame(TEXT, publish[:cut], fin=False) + frame(CONTINUATION, b"", fin=False)
                  + frame(PING, b"again") + frame(CONTINUATION, publish[cut:]))
        assert peer.recv_frame() == (PONG, b"again")
        assert peer.recv_message() == [EVENT, DATA_UPDATE, event]

        # One frame written a byte at a time: headers and payloads split across reads.
        call = frame(TEXT, json.dumps([CALL, "bytewise", "wampd.topics"]).encode())
        for i in range(len(call)):
            peer.send(call[i:i + 1])
        assert peer.recv_message()[:2] == [CALLRESULT, "bytewise"]


# ---- protocol violations ----


VIOLATIONS = [
    ("unmasked text", frame(TEXT, TOPICS_CALL, mask=False), PROTOCOL_ERROR),
    ("unmasked ping", frame(PING, b"x", mask=False), PROTOCOL_ERROR),
    ("RSV1", frame(TEXT, TOPICS_CALL, rsv=4), PROTOCOL_ERROR),
    ("RSV2", frame(TEXT, TOPICS_CALL, rsv=2), PROTOCOL_ERROR),
    ("RSV3", frame(TEXT, TOPICS_CALL, rsv=1), PROTOCOL_ERROR),
    ("opcode 0x3", frame(0x3, TOPICS_CALL), PROTOCOL_ERROR),
    ("opcode 0xB", frame(0xB), PROTOCOL_ERROR),
    ("ping of 126 bytes", frame(PING, b"p" * 126), PROTOCOL_ERROR),
    ("fragmented ping", frame(PING, b"p", fin=False), PROTOCOL_ERROR),
    ("continuation first", frame(CONTINUATION, TOPICS_CALL), PROTOCOL_ERROR),
    ("text inside a fragmented text",
     frame(TEXT, TOPICS_CALL[:4], fin=False) + frame(TEXT, TOPICS_CALL), PROTOCOL_ERROR),
    ("16-bit length under 126",
     b"\x81\xfe\x00\x05" + b"\x00" * 4 + b"hello", PROTOCOL_ERROR),
    ("64-bit length under 65536",
     b"\x81\xff" + (200).to_bytes(8, "big") + b"\x00" * 4 + b"h" * 200, PROTOCOL_ERROR),
    ("64-bit length with the top bit set", b"\x81\xff" + (1 << 63).to_bytes(8, "big"),
     PROTOCOL_ERROR),
    ("close with a 1-byte payload", frame(CLOSE, b"\x03"), PROTOCOL_ERROR),
    ("close code 1005", frame(CLOSE, close_payload(1005)), PROTOCOL_ERROR),
    ("close code 1006", frame(CLOSE, close_payload(1006)), PROTOCOL_ERROR),
    ("close code 1015", frame(CLOSE, close_payload(1015)), PROTOCOL_ERROR),
    ("close code 1004", frame(CLOSE, close_payload(1004)), PROTOCOL_ERROR),
    ("close code 999", frame(CLOSE, close_payload(999)), PROTOCOL_ERROR),
    ("close code 2999", frame(CLOSE, close_payload(2999, b"x")), PROTOCOL_ERROR),
    ("close code 5000", frame(CLOSE, close_payload(5000)), PROTOCOL_ERROR),
    ("close reason not UTF-8", frame(CLOSE, close_payload(1000, b"\xff")), INVALID_PAYLOAD),
    ("text with 0xFF", frame(TEXT, b'["\xff"]'), INVALID_PAYLOAD),
    ("text with an overlong /", frame(TEXT, b'["\xc0\xaf"]'), INVALID_PAYLOAD),
    ("text with a surrogate", frame(TEXT, b'["\xed\xa0\x80"]'), INVALID_PAYLOAD),
    ("text above U+10FFFF", frame(TEXT, b'["\xf4\x90\x80\x80"]'), INVALID_PAYLOAD),
    ("text ending inside a character", frame(TEXT, b'["\xe2\x82'), INVALID_PAYLOAD),
    ("fragmented text not UTF-8",
     frame(TEXT, b'["\xe2', fin=False) + frame(CONTINUATION, b'\x28"]'), INVALID_PAYLOAD),
    # RFC 6455 8.1: refused at the fragment that carries the bad byte, though the message is
    # unfinished (nothing follows it).
    ("unfinished text whose first fragment is not UTF-8",
     frame(TEXT, b'["\xff', fin=False), INVALID_PAYLOAD),
    ("unfinished text whose second fragment is an overlong form",
     frame(TEXT, b'["ok \xe0', fin=False) + frame(CONTINUATION, b'\x80', fin=False),
     INVALID_PAYLOAD),
]


@pytest.mark.parametrize("data, code", [case[1:] for case in VIOLATIONS],
                         ids=[case[0] for case in VIOLATIONS])
def test_violation_closes_with_its_code_and_spares_other_connections(server, data, code):
    with server.served_peer() as bystander, server.peer() as peer:
        peer.send(data)
        peer.expect_close(code)
        peer.expect_eof()
        # Our EOF ends the closing handshake; the server then lets the session go.
        peer.sock.close()
        server.wait_closed(peer, code, timeout=CLOSE_TIMEOUT)
        server.assert_served(bystander, "still served")


def test_peer_that_never_answers_the_close_frame_is_cut_off_at_the_close_timeout(server):
    with server.served_peer() as bystander, server.peer() as peer:
        peer.send(frame(TEXT, TOPICS_CALL, mask=False))
        started = time.monotonic()
        peer.expect_close(PROTOCOL_ERROR)
        peer.expect_eof()
        server.wait_closed(peer, PROTOCOL_ERROR, timeout=CLOSE_TIMEOUT + 1.5)
        # Once the server has closed its socket, what we send is answered with a reset, which
        # a later send reports (recv keeps reporting the FIN it saw first). The echo server
        # logs nothing, so this is also how its close timeout is seen.
        deadline = started + CLOSE_TIMEOUT + 2.0
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            while time.monotonic() < deadline:
                peer.send(frame(CLOSE, close_payload(1000)))
                time.sleep(0.01)
        assert time.monotonic() - started < CLOSE_TIMEOUT + 1.0
        server.assert_served(bystander, "still served")


# ---- closing handshake started by the client ----


@pytest.mark.parametrize("payload, logged", [
    (close_payload(1000, b"bye now"), "1000 bye now"),
    (b"", "1005 "),
    (close_payload(1001), "1001 "),
    (close_payload(4000, "fin \u2713".encode()), "4000 fin \u2713"),
], ids=["1000 with a reason", "no code", "1001", "4000 with a UTF-8 reason"])
def test_client_close_is_echoed_and_the_connection_ends_at_once(server, payload, logged):
    with server.peer() as peer:
        # What precedes the close frame is handled; what follows it is not.
        started = time.monotonic()
        before, is_answer = server.request("c")
        after, _ = server.request("after-close")
        peer.send(before + frame(CLOSE, payload) + after)
        opcode, answer = peer.recv_frame()
        assert opcode == TEXT and is_answer(answer), (opcode, answer)
        assert peer.recv_frame() == (CLOSE, payload)
        # Well before the close timeout: the server does not wait once both sides closed.
        peer.expect_eof(timeout=CLOSE_TIMEOUT - 0.5)
        assert time.monotonic() - started < CLOSE_TIMEOUT - 0.5
        if server.wampd:
            server.wampd.wait_for_log(f"session {peer.session_id} closed ({logged})", timeout=1.0)


# ---- refused opening handshakes ----


def handshake_request(method="GET", version="HTTP/1.1", ws_version="13", key=True, extra=()):
    lines = [f"{method} / {version}", "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade"]
    if key:
        lines.append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")
    if ws_version:
        lines.append(f"Sec-WebSocket-Version: {ws_version}")
    lines += ["Sec-WebSocket-Protocol: wamp", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


REFUSALS = [
    ("plain GET", b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "426 Upgrade Required", "Upgrade"),
    ("Connection without upgrade",
     handshake_request().replace(b"Connection: Upgrade", b"Connection: keep-alive"),
     "426 Upgrade Required", "Upgrade"),
    ("POST", handshake_request(method="POST"), "405 Method Not Allowed", "GET"),
    ("version 8", handshake_request(ws_version="8"), "426 Upgrade Required", "13"),
    ("no version", handshake_request(ws_version=None), "426 Upgrade Required", "13"),
    ("no key", handshake_request(key=False), "400 Bad Request", "Sec-WebSocket-Key"),
    ("HTTP/1.0", handshake_request(version="HTTP/1.0"), "400 Bad Request", "HTTP/1.1"),
    ("header block over 16 KiB", handshake_request(extra=["X-Padding: " + "a" * 17000]),
     "431 Request Header Fields Too Large", "large"),
    ("unterminated header over 16 KiB",
     b"GET / HTTP/1.1\r\nX-Padding: " + b"a" * 17000, "431 Request Header Fields Too Large",
     "large"),
]


@pytest.mark.parametrize("request_bytes, status, mention", [case[1:] for case in REFUSALS],
                         ids=[case[0] for case in REFUSALS])
def test_refused_handshake_gets_a_plain_text_answer_and_the_connection_ends(
        server, request_bytes, status, mention):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(request_bytes)
        response = read_until_eof(sock)
    status_line, headers, body = split_response(response)
    assert status_line == f"HTTP/1.1 {status}", response
    assert header(headers, "Content-Length") == str(len(body)), response
    assert header(headers, "Content-Type") == "text/plain; charset=utf-8", response
    assert header(headers, "Connection") == "close", response
    assert header(headers, "Sec-WebSocket-Version") == (
        "13" if status.startswith("426") else None), response
    assert header(headers, "Upgrade") is None and header(headers, "Sec-WebSocket-Accept") is None
    reason = body.decode("utf-8")
    assert reason.endswith("\n") and mention in reason, response


def test_handshake_of_exactly_16_KiB_is_accepted_and_one_byte_more_refused(server):
    def padded(size):
        bare = handshake_request(extra=["X-Padding: "])
        request = handshake_request(extra=["X-Padding: " + "a" * (size - len(bare))])
        assert len(request) == size
        return request

    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(padded(MAX_HANDSHAKE_BYTES))
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(1 << 16)
            assert chunk, response
            response += chunk
        assert response.startswith(b"HTTP/1.1 101 "), response
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(padded(MAX_HANDSHAKE_BYTES + 1))
        response = read_until_eof(sock)
    assert response.startswith(b"HTTP/1.1 431 "), response


# ---- handshake timeout ----


def test_connections_without_a_complete_handshake_are_dropped_after_5_s(wampd):
    silent = socket.create_connection(("127.0.0.1", wampd.port), timeout=10)
    half = socket.create_connection(("127.0.0.1", wampd.port), timeout=10)
    with silent, half, subscriber(wampd.port) as opened:
        half.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
        started = time.monotonic()
        for sock in (silent, half):
            sock.settimeout(HANDSHAKE_TIMEOUT + 3.0)
            # Dropped without a word: no HTTP response.
            assert sock.recv(1 << 16) == b""
            assert HANDSHAKE_TIMEOUT - 1.0 <= time.monotonic() - started <= HANDSHAKE_TIMEOUT + 3.0
        # The deadline is for the handshake only: an opened connection outlives it.
        assert_served(opened, "still open")


# ---- message size limit ----


@pytest.mark.parametrize("data", [
    b"\x81\xfe" + (2048).to_bytes(2, "big"),
    b"\x81\xff" + (1 << 40).to_bytes(8, "big"),
    frame(TEXT, b"[" * 600, fin=False) + b"\x80\xfe" + (600).to_bytes(2, "big"),
], ids=["16-bit length", "64-bit length", "fragments adding up"])
def test_frame_announcing_more_than_the_limit_is_refused_before_its_payload(
        wampd_factory, data):
    server = wampd_factory(config=plain_config(max_message_size=1024))
    with subscriber(server.port) as bystander, Peer(server.port) as peer:
        # Only the header is sent (not even the masking key): the server must decide on it.
        peer.send(data)
        peer.expect_close(TOO_BIG)
        peer.expect_eof()
        assert_served(bystander, "still served")


def test_message_of_exactly_the_limit_is_accepted_whole_or_fragmented(wampd_factory):
    server = wampd_factory(config=plain_config(max_message_size=1024))
    with subscriber(server.port) as peer:
        message = [PUBLISH, DATA_UPDATE, [{"username": None, "tagname": ""}]]
        message[2][0]["tagname"] = "x" * (1024 - len(json.dumps(message)))
        data = json.dumps(message).encode()
        assert len(data) == 1024
        peer.send(frame(TEXT, data))
        assert peer.recv_message() == [EVENT, DATA_UPDATE, message[2]]
        peer.send(frame(TEXT, data[:700], fin=False) + frame(CONTINUATION, data[700:]))
        assert peer.recv_message() == [EVENT, DATA_UPDATE, message[2]]


def test_invalid_utf8_in_a_middle_fragment_is_refused_before_the_final_one(server):
    """RFC 6455 8.1: the fragment carrying the bad byte fails the connection; the test never
    sends the rest of the message."""
    size = server.max_message // 8
    with server.served_peer() as bystander, server.peer() as peer:
        # A character split across the first two fragments is fine.
        peer.send(frame(TEXT, b"a" * (size - 1) + b"\xe2", fin=False)
                  + frame(CONTINUATION, b"\x82\xac" + b"b" * (size - 2), fin=False))
        peer.send(frame(CONTINUATION, b"c" * (size // 2) + b"\xff" + b"d" * (size // 2),
                        fin=False))
        peer.expect_close(INVALID_PAYLOAD)
        peer.expect_eof()
        server.assert_served(bystander, "still served")


def recv_large_frame(peer, timeout=30.0):
    """The next frame as (opcode, payload), read into one buffer: for payloads of megabytes,
    which Peer.recv_frame would copy at every read."""
    deadline = time.monotonic() + timeout
    while len(peer.buffer) < 10:
        peer._fill(deadline)
    assert peer.buffer[0] & 0x80 and not peer.buffer[1] & 0x80, bytes(peer.buffer[:10])
    opcode = peer.buffer[0] & 0x0F
    length, position = peer.buffer[1] & 0x7F, 2
    if length == 126:
        length, position = int.from_bytes(peer.buffer[2:4], "big"), 4
    elif length == 127:
        length, position = int.from_bytes(peer.buffer[2:10], "big"), 10
    payload = bytearray(length)
    have = min(length, len(peer.buffer) - position)
    payload[:have] = peer.buffer[position:position + have]
    del peer.buffer[:position + have]
    view = memoryview(payload)
    while have < length:
        peer.sock.settimeout(max(0.01, deadline - time.monotonic()))
        got = peer.sock.recv_into(view[have:])
        assert got, f"connection closed after {have} of {length} bytes"
        have += got
    return opcode, payload


def test_echo_returns_a_16_MiB_fragmented_text_message_byte_for_byte(echo_process):
    # 8 bytes of ASCII, a 2-byte and a 4-byte character; fragments of an odd size split them.
    message = ("ab\u00e9\U0001F600".encode() * (ECHO_MAX_MESSAGE // 8))
    assert len(message) == ECHO_MAX_MESSAGE
    step = 1_000_003
    with Peer(echo_process.port, wamp=False) as peer:
        for start in range(0, len(message), step):
            final = start + step >= len(message)
            peer.send(frame(TEXT if start == 0 else CONTINUATION, message[start:start + step],
                            fin=final))
        opcode, payload = recv_large_frame(peer)
        assert opcode == TEXT
        assert len(payload) == len(message) and payload == message
        peer.send(frame(BINARY, b"\xff\x00after"))
        assert peer.recv_frame() == (BINARY, b"\xff\x00after")


def test_echo_refuses_a_message_over_16_MiB_with_1009(echo_process):
    """Fragments adding up to 16 MiB are fine; the header of one more byte is refused."""
    chunk = frame(BINARY, b"x" * (1 << 20), fin=False)
    more = frame(CONTINUATION, b"x" * (1 << 20), fin=False)
    with Peer(echo_process.port, wamp=False) as bystander, \
            Peer(echo_process.port, wamp=False) as peer:
        peer.send(chunk + more * 15)
        peer.send(b"\x80\x81")
        peer.expect_close(TOO_BIG)
        peer.expect_eof()
        bystander.send(frame(TEXT, b"still served"))
        assert bystander.recv_frame() == (TEXT, b"still served")


def test_echo_closes_every_connection_with_1001_on_sigterm():
    echo = EchoProcess()
    try:
        with Peer(echo.port, wamp=False) as peer:
            peer.send(frame(TEXT, b"hello"))
            assert peer.recv_frame() == (TEXT, b"hello")
            echo.process.send_signal(signal.SIGTERM)
            peer.expect_close(GOING_AWAY)
            peer.send(frame(CLOSE, close_payload(GOING_AWAY)))
            peer.expect_eof()
        # It exits by itself once the last connection is gone; a second SIGTERM could land
        # after its handler is uninstalled on the way out and kill it.
        assert echo.process.wait(STOP_TIMEOUT) == 0
    finally:
        if echo.process.poll() is None:
            echo.stop()


# ---- peers that stop reading ----


def tcp_queues(local_port, remote_port):
    """(tx_queue, rx_queue) of the IPv4 socket local_port -> remote_port: bytes written and
    not yet acknowledged, bytes received and not yet read."""
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
            if (local, remote) == (local_port, remote_port):
                tx, rx = fields[4].split(":")
                return int(tx, 16), int(rx, 16)
    raise AssertionError(f"no socket {local_port} -> {remote_port} in /proc/net/tcp")


def held_by_kernels(server, peer):
    """What the server already handed to TCP for `peer` and `peer` has not read yet. While
    `peer` does not read, this cannot grow: its window is closed."""
    port = peer.sock.getsockname()[1]
    server_side, _ = tcp_queues(server.port, port)
    _, peer_side = tcp_queues(port, server.port)
    return server_side + peer_side + len(peer.buffer)


def frame_size(payload):
    return len(payload) + (2 if len(payload) < 126 else 4 if len(payload) <= 0xFFFF else 10)


def drain_until_eof(peer, timeout=5.0):
    """Reads frames up to the server's FIN, which must come with no close frame before it:
    (text payloads, their size on the wire)."""
    texts, size = [], 0
    deadline = time.monotonic() + timeout
    while True:
        parsed = parse_server_frame(peer.buffer)
        if parsed:
            opcode, payload, used = parsed
            del peer.buffer[:used]
            assert opcode == TEXT, (opcode, payload[:100])
            texts.append(payload)
            size += frame_size(payload)
            continue
        peer.sock.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = peer.sock.recv(1 << 16)
        if not chunk:
            assert not peer.buffer, f"a frame cut short: {bytes(peer.buffer[:100])!r}"
            return texts, size
        peer.buffer += chunk


def test_slow_v1_subscriber_is_dropped_without_a_close_frame_and_its_backlog_dropped(wampd):
    # Without a close frame the browser's close is not clean, so Oro's page reconnects.
    count, size, batch = 2000, 4096, 100
    rss_start = rss_bytes(wampd.pid)
    frames = [text([PUBLISH, DATA_UPDATE,
                    [{"username": None, "tagname": f"{i:05d}" + "x" * size}]])
              for i in range(count)]

    def index(message):
        assert message[:2] == [EVENT, DATA_UPDATE], str(message)[:200]
        return int(message[2][0]["tagname"][:5])

    with subscriber(wampd.port) as reader, subscriber(wampd.port, rcvbuf=4096) as slow, \
            Peer(wampd.port) as publisher:
        rss_peak = rss_start
        drained = None
        for start in range(0, count, batch):
            publisher.send(b"".join(frames[start:start + batch]))
            # The reader keeps up, so only the slow subscriber's queue grows.
            for i in range(start, start + batch):
                assert index(reader.recv_message()) == i
            rss_peak = max(rss_peak, rss_bytes(wampd.pid))
            if drained is None and log_lines(wampd, "send queue over"):
                # Read at once, well inside the close timeout: the FIN must follow what the
                # kernels held and the rest of a frame begun, not the backlog.
                held = held_by_kernels(wampd, slow)
                texts, drained_size = drain_until_eof(slow)
                drained = [index(json.loads(payload)) for payload in texts]
                assert drained_size <= held + len(frames[0]), (drained_size, held)
        assert drained is not None, "the slow subscriber was never cut off:\n" + wampd.log()

        assert drained == list(range(len(drained)))
        cut = log_lines(wampd, "send queue over")
        assert len(cut) == 1 and f"session {slow.session_id} (" in cut[0], cut
        assert "(1 slow subscribers disconnected since start)" in cut[0], cut
        rc, out, err = run_wampctl("--url", wampd.url, "stats")
        assert rc == 0 and "\nslow_subscribers_disconnected: 1\n" in out, (rc, out, err)
        # The server ends the connection by its close timeout though we never answered.
        wampd.wait_for_log(f"session {slow.session_id} closed ({ABNORMAL} ",
                           timeout=CLOSE_TIMEOUT + 1.5)
        closed = log_lines(wampd, f"session {slow.session_id} closed (")
        assert (log_time(closed[0]) - log_time(cut[0])).total_seconds() <= CLOSE_TIMEOUT + 1.0
        assert_served(reader, "reader still served")
    rss_peak = max(rss_peak, rss_bytes(wampd.pid))
    if not SANITIZED:
        assert rss_peak - rss_start < 64 * 1024 * 1024, (rss_start, rss_peak)


def test_answers_piling_up_unread_are_bounded_at_16_MiB_without_a_close_frame(wampd):
    with subscriber(wampd.port) as bystander:
        bystander.send(frame(TEXT, TOPICS_CALL))
        answer_size = frame_size(bystander.recv_frame()[1])

        def pile_up(peer, size):
            """Sends CALLs whose answers add up to `size` bytes and waits (without reading)
            until the server has read them all; returns how many."""
            calls = size // answer_size + 1
            peer.send(b"".join(frame(TEXT, json.dumps([CALL, f"{i}", "wampd.topics"]).encode())
                               for i in range(calls)))
            port = peer.sock.getsockname()[1]
            deadline = time.monotonic() + 10.0
            while tcp_queues(wampd.port, port)[1] or tcp_queues(port, wampd.port)[0]:
                assert time.monotonic() < deadline, "the server stopped reading"
                time.sleep(0.01)
            return calls

        def answer_ids(texts):
            answers = [json.loads(payload) for payload in texts]
            assert all(answer[0] == CALLRESULT for answer in answers), answers[-1]
            return [answer[1] for answer in answers]

        # 12 MiB waiting is under the bound (kernel buffers hold some of it besides).
        with Peer(wampd.port, rcvbuf=4096) as peer:
            calls = pile_up(peer, 12 * 1024 * 1024)
            texts = [peer.recv_frame()[1] for _ in range(calls)]
            assert answer_ids(texts) == [f"{i}" for i in range(calls)]
            peer.call_topics("after")

        # 24 MiB is not: the connection is cut off, with no close frame (the client is wanted
        # back), and its backlog dropped.
        with Peer(wampd.port, rcvbuf=4096) as peer:
            pile_up(peer, 24 * 1024 * 1024)
            held = held_by_kernels(wampd, peer)
            texts, drained_size = drain_until_eof(peer)
            assert answer_ids(texts) == [f"{i}" for i in range(len(texts))]
            assert drained_size <= held + answer_size, (drained_size, held)
            peer.sock.close()
            wampd.wait_for_log(f"session {peer.session_id} closed ({ABNORMAL} ",
                               timeout=CLOSE_TIMEOUT)
        assert_served(bystander, "still served")
