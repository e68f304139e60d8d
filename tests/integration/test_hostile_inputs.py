"""Hostile opening handshakes and tickets against one wampd (docs/HOSTILE_INPUTS.md): each
is refused with its HTTP status and a plain-text reason, a subscriber connected before it is
still served after it, and once every case here has run a fresh client connects, subscribes
and receives an event (the last test).

Cases the other files already cover (test_websocket_framing.py's REFUSALS) run here again,
so that the handshake and ticket categories show the server serving everyone else afterwards
on one long-lived server, as the frame and WAMP categories do in their own files.
"""

import asyncio
import base64
import socket

import pytest

from conftest import serve_sample_config
from test_transport import header, split_response
from test_wamp2_violations import (ABORT, ERROR, HELLO, ROLES, SUBSCRIBE, RawV2, bystander,
                                   still_served)
from wamp_client import run
from test_websocket_framing import REFUSALS, Peer, assert_served, read_until_eof, subscriber


def upgrade(target="/", extra=(), key="dGhlIHNhbXBsZSBub25jZQ==", upgrade_to="websocket"):
    lines = [f"GET {target} HTTP/1.1", "Host: 127.0.0.1", f"Upgrade: {upgrade_to}",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             "Sec-WebSocket-Protocol: wamp", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def ticket_of(text):
    return base64.b64encode(text.encode()).decode()


# name -> (request bytes, status line, words of the plain-text reason)
HANDSHAKES = {
    "garbage request line": (b"BLAH\r\n\r\n", "400 Bad Request", "malformed request line"),
    "request line without an HTTP version": (b"GET /\r\n\r\n", "400 Bad Request",
                                             "malformed request line"),
    "header line without a colon": (upgrade(extra=["Nonsense"]), "400 Bad Request",
                                    "malformed header line"),
    "NUL byte in a header": (upgrade(extra=["X-Evil: a\x00b"]), "400 Bad Request",
                             "malformed header line"),
    "Sec-WebSocket-Key not 16 bytes": (upgrade(key="c2hvcnQ="), "400 Bad Request",
                                       "Sec-WebSocket-Key"),
    "Upgrade: h2c": (upgrade(upgrade_to="h2c"), "426 Upgrade Required", "Upgrade"),
    "HTTP/2 connection preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "400 Bad Request",
                                  "HTTP/1.1"),
    "only unsupported subprotocols": (
        upgrade().replace(b"Sec-WebSocket-Protocol: wamp", b"Sec-WebSocket-Protocol: mqtt"),
        "400 Bad Request", "subprotocol"),
}

# name -> (the ticket as it appears in the URL, words of the reason in the 403 body and log)
TICKETS = {
    "percent escape that is not hex": ("%zz", "ticket is not base64"),
    "5,000 characters": ("A" * 5000, "ticket is not base64"),
    "three fields": (ticket_of("digest;user;2024-01-02T03:04:05Z"), "four fields"),
    "five fields": (ticket_of("d;u;n;2024-01-02T03:04:05Z;extra"), "four fields"),
    "created not ISO-8601": (ticket_of("d;u;n;yesterday"), "ISO-8601"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One wampd for every case here: each case also proves it still serves."""
    directory = tmp_path_factory.mktemp("hostile-inputs")
    process = serve_sample_config(directory)
    yield process
    assert process.stop() == 0, process.log()


def refused(port, request):
    """Sends `request` on a new connection; (status line, headers, body) of the answer,
    which must end the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        response = read_until_eof(sock)
    status, headers, body = split_response(response)
    return status, headers, body.decode("utf-8")


def assert_plain_refusal(status_line, headers, body, status, words):
    assert status_line == f"HTTP/1.1 {status}", (status_line, body)
    assert header(headers, "Content-Type") == "text/plain; charset=utf-8", headers
    assert header(headers, "Sec-WebSocket-Accept") is None, headers
    assert words in body, body


@pytest.mark.parametrize("name", list(HANDSHAKES))
def test_hostile_handshake_is_refused_and_others_are_served(server, name):
    request, status, words = HANDSHAKES[name]
    with subscriber(server.port) as bystander:
        assert_plain_refusal(*refused(server.port, request), status, words)
        assert_served(bystander, f"after {name}")


@pytest.mark.parametrize("name", [case[0] for case in REFUSALS])
def test_refused_handshake_of_the_framing_tests_leaves_others_served(server, name):
    request = next(case[1] for case in REFUSALS if case[0] == name)
    with subscriber(server.port) as bystander:
        status_line, _, _ = refused(server.port, request)
        assert status_line.startswith("HTTP/1.1 4"), status_line
        assert_served(bystander, f"after {name}")


@pytest.mark.parametrize("name", list(TICKETS))
def test_malformed_ticket_is_refused_with_403_the_reason_logged_and_others_served(
        server, name):
    ticket, words = TICKETS[name]
    with subscriber(server.port) as bystander:
        status_line, headers, body = refused(server.port, upgrade(target=f"/?ticket={ticket}"))
        assert_plain_refusal(status_line, headers, body, "403 Forbidden", words)
        server.wait_for_log(f"refused handshake from 127.0.0.1: {body.strip()}")
        assert_served(bystander, f"after {name}")


@pytest.mark.parametrize("serializer", ["json", "msgpack"])
def test_hello_to_an_unknown_realm_is_aborted_and_others_served(server, serializer):
    async def scenario():
        watcher = await bystander(server.url)
        client = await RawV2.connect(server.url, serializer)
        try:
            await client.send([HELLO, "no.such.realm", ROLES])
            abort = await client.recv()
            await asyncio.wait_for(client.ws.wait_closed(), 5)
            await still_served(server.url, watcher)
            return abort, client.ws.close_code
        finally:
            await client.close()
            await watcher.close()

    abort, code = run(scenario())
    assert abort[0] == ABORT and abort[2] == "wamp.error.no_such_realm", abort
    assert code == 1000


@pytest.mark.parametrize("serializer", ["json", "msgpack"])
def test_v2_subscribe_to_a_topic_without_a_route_gets_error_and_the_session_stays(
        server, serializer):
    async def scenario():
        client = await RawV2.joined(server.url, serializer)
        try:
            request = client.request_id()
            await client.send([SUBSCRIBE, request, {}, "no/such/route"])
            error = await client.recv()
            # The session stays: it subscribes to a routed topic and is served.
            await client.send([SUBSCRIBE, client.request_id(), {}, "sample/throwing"])
            subscribed = await client.recv()
            client.subscription = subscribed[2]
            await still_served(server.url, client)
            return request, error
        finally:
            await client.close()

    request, error = run(scenario())
    assert error[:3] == [ERROR, SUBSCRIBE, request], error
    assert error[4] == "wamp.error.invalid_uri", error


def test_a_fresh_client_is_served_after_every_hostile_input_here(server):
    """Runs last in this file."""
    assert server.returncode is None, server.log()
    with Peer(server.port) as fresh:
        assert fresh.session_id
    with subscriber(server.port) as fresh:
        assert_served(fresh, "fresh after everything")
