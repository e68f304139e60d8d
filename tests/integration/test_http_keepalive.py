"""HTTP keep-alive on the WebSocket port: several requests on one connection (Python's
http.client), pipelined requests answered in order, Connection: close, HTTP/1.0, the idle
timeout, a malformed request behind a good one, the per-connection request bound, and the
drain (a kept-alive connection is closed, never left to hold the exit up)."""

import http.client
import json
import signal
import socket
import time

from conftest import default_config

KEEPALIVE = 0.5  # server.http_keepalive_timeout in these tests' config


def keepalive_server(wampd_factory, **server):
    settings = {"host": "127.0.0.1", "port": 8080, "http_keepalive_timeout": KEEPALIVE}
    settings.update(server)
    return wampd_factory(config=default_config(server=settings))


def read_responses(sock, count, timeout=5.0, heads=()):
    """`count` responses (status, headers, body) read off `sock`, and the bytes after them;
    those whose index is in `heads` answer HEAD requests (no body)."""
    sock.settimeout(timeout)
    data = b""
    responses = []
    while len(responses) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode()
            lines = head.split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = 0 if len(responses) in heads else int(headers.get("content-length", "0"))
            if len(data) >= end + 4 + length:
                status = int(lines[0].split(" ")[1])
                responses.append((status, headers, data[end + 4:end + 4 + length]))
                data = data[end + 4 + length:]
                continue
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"EOF after {len(responses)} responses: {data!r}")
        data += chunk
    return responses, data


def closed_by_server(sock, timeout):
    """True when the server closes `sock` (EOF) within `timeout` seconds, sending nothing."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_several_requests_on_one_connection(wampd_factory):
    server = keepalive_server(wampd_factory)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        ports = set()
        for path in ("/health", "/metrics", "/health?again", "/nothing-here"):
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            if connection.sock is not None:
                ports.add(connection.sock.getsockname()[1])
            if path == "/nothing-here":
                assert response.status == 426  # a WebSocket answer: it closes the connection
                assert response.getheader("Connection") == "close"
            else:
                assert response.status == 200, body
                assert response.getheader("Connection") == "keep-alive"
                assert response.getheader("Keep-Alive", "").startswith("timeout=1, max=")
        assert len(ports) == 1, "http.client had to reconnect: the connection was not kept"
    finally:
        connection.close()


def test_pipelined_requests_are_answered_in_order(wampd_factory):
    server = keepalive_server(wampd_factory)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        # Three requests in one segment; the last names a path the API 404s with JSON.
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /health?second HTTP/1.1\r\nHost: x\r\n\r\n")
        responses, rest = read_responses(s, 3, heads={1})
        assert rest == b""
        assert [status for status, _, _ in responses] == [200, 200, 200]
        assert json.loads(responses[0][2])["status"] == "ok"
        assert responses[1][1]["content-type"].startswith("text/plain; version=0.0.4")
        assert responses[1][2] == b""  # HEAD: no body, though Content-Length says its size
        assert json.loads(responses[2][2])["status"] == "ok"
        # A request split across writes, body included, on the same connection.
        s.sendall(b"POST /api/stats HTTP/1.1\r\nHost: x\r\nContent-Le")
        time.sleep(0.05)
        s.sendall(b"ngth: 2\r\n\r\n{")
        time.sleep(0.05)
        s.sendall(b"}")
        (status, headers, body), = read_responses(s, 1)[0]
        assert status == 401 and headers["connection"] == "keep-alive", (status, headers, body)


def test_connection_close_is_honoured(wampd_factory):
    server = keepalive_server(wampd_factory)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        (status, headers, _), = read_responses(s, 1)[0]
        assert status == 200 and headers["connection"] == "close"
        assert closed_by_server(s, 2.0), "the connection stayed open after Connection: close"


def test_http_1_0_closes_unless_it_asks_for_keep_alive(wampd_factory):
    server = keepalive_server(wampd_factory)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        (status, headers, body), = read_responses(s, 1)[0]
        assert status == 200 and json.loads(body)["status"] == "ok"
        assert headers["connection"] == "close"
        assert closed_by_server(s, 2.0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        (status, headers, _), = read_responses(s, 1)[0]
        assert status == 200 and headers["connection"] == "keep-alive"
        s.sendall(b"GET /health HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
        assert read_responses(s, 1)[0][0][0] == 200
    # A WebSocket handshake still needs HTTP/1.1.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        (status, _, body), = read_responses(s, 1)[0]
        assert status == 400 and b"HTTP/1.1" in body


def test_an_idle_connection_is_closed_after_the_keepalive_timeout(wampd_factory):
    server = keepalive_server(wampd_factory)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_responses(s, 1)[0][0][0] == 200
        started = time.monotonic()
        assert closed_by_server(s, 3.0), "an idle kept-alive connection was never closed"
        waited = time.monotonic() - started
        assert KEEPALIVE * 0.8 <= waited < KEEPALIVE + 1.0, waited


def test_a_malformed_second_request_gets_400_and_the_connection_closes(wampd_factory):
    server = keepalive_server(wampd_factory)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        responses, _ = read_responses(s, 2)
        assert [status for status, _, _ in responses] == [200, 400]
        assert responses[1][1]["connection"] == "close"
        assert closed_by_server(s, 2.0)
    # An oversized second request: 431, as for a first one.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /health HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
        responses, _ = read_responses(s, 2)
        assert [status for status, _, _ in responses] == [200, 431]
        assert closed_by_server(s, 2.0)


def test_a_slow_second_request_is_dropped_by_the_handshake_timeout(wampd_factory):
    # The idle timeout is long here: only the request timeout can end this connection.
    server = keepalive_server(wampd_factory, http_keepalive_timeout=30)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_responses(s, 1)[0][0][0] == 200
        s.sendall(b"GET /health HTTP/1.1\r\n")  # and never the rest
        started = time.monotonic()
        assert closed_by_server(s, 8.0), "half a request held the connection"
        assert time.monotonic() - started < 6.5


def test_the_requests_per_connection_are_bounded(wampd_factory):
    server = keepalive_server(wampd_factory)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n" * 1001)
        responses, rest = read_responses(s, 1000, heads=range(1000))
        assert rest == b""
        assert all(status == 200 for status, _, _ in responses)
        assert all(h["connection"] == "keep-alive" for _, h, _ in responses[:999])
        assert responses[999][1]["connection"] == "close"
        assert closed_by_server(s, 2.0)


def test_keepalive_off_closes_after_each_response(wampd_factory):
    server = keepalive_server(wampd_factory, http_keepalive_timeout=0)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        (status, headers, _), = read_responses(s, 1)[0]
        assert status == 200 and headers["connection"] == "close"
        assert closed_by_server(s, 2.0)


def test_kept_alive_connections_count_against_the_limits(wampd_factory):
    server = keepalive_server(wampd_factory, max_connections_per_ip=1)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_responses(s, 1)[0][0][0] == 200
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as ws:
            ws.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            (status, _, body), = read_responses(ws, 1)[0]
            assert status == 503 and b"max_connections_per_ip" in body


def test_the_drain_closes_idle_kept_alive_connections(wampd_factory):
    server = keepalive_server(wampd_factory, http_keepalive_timeout=30)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_responses(s, 1)[0][0][0] == 200
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=5) == 0, server.log()
        assert time.monotonic() - started < 1.5, server.log()
        assert closed_by_server(s, 1.0)


def test_a_websocket_handshake_may_follow_on_a_kept_connection(wampd_factory):
    server = keepalive_server(wampd_factory)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_responses(s, 1)[0][0][0] == 200
        time.sleep(KEEPALIVE / 2)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        s.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < 2:
            data += s.recv(65536)
        assert data.startswith(b"HTTP/1.1 101 "), data
        # WELCOME in the same write, and the session outlives the keep-alive timeout.
        assert b'[0,"' in data.partition(b"\r\n\r\n")[2], data
        time.sleep(KEEPALIVE * 2)
        assert not closed_by_server(s, 0.1)
