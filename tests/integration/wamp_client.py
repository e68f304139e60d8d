"""A raw WAMP v1 client for tests: JSON lists in and out, nothing interpreted behind the
test's back, every wait bounded.

Uses Debian's python3-websockets 10.4 (asyncio). Tests are plain functions that drive a
coroutine with run(): pytest-asyncio is not a Debian package here.
"""

import asyncio
import itertools
import json
import os
import weakref

import websockets
import websockets.legacy.protocol

WELCOME, PREFIX, CALL, CALLRESULT, CALLERROR, SUBSCRIBE, UNSUBSCRIBE, PUBLISH, EVENT = range(9)

_call_ids = itertools.count(1)

# Bounds every wait unless a test passes its own.
# A ThreadSanitizer build serves several times slower (scripts/test scales it there).
DEFAULT_TIMEOUT = 5.0 * float(os.environ.get("WAMPD_TEST_TIMEOUT_SCALE", "1"))


def run(coroutine, timeout=60.0):
    """Runs a test scenario to completion; a scenario that hangs fails after `timeout` s."""

    async def scenario():
        try:
            return await asyncio.wait_for(coroutine, timeout)
        finally:
            _abort_open_websockets()

    return asyncio.run(scenario())


# Every WebSocket a scenario opened. Connections left open when the scenario ends cost
# asyncio.run 5 s at its end with websockets 10.4 (measured: test_reload went from 205 s to 25 s
# without that wait), so run() drops them the way a closed browser tab does.
_open_websockets = weakref.WeakSet()
_connection_made = websockets.legacy.protocol.WebSocketCommonProtocol.connection_made


def _track(protocol, transport):
    _open_websockets.add(protocol)
    _connection_made(protocol, transport)


websockets.legacy.protocol.WebSocketCommonProtocol.connection_made = _track


def _abort_open_websockets():
    for protocol in list(_open_websockets):
        if protocol.transport is not None and not protocol.transport.is_closing():
            protocol.transport.abort()
    _open_websockets.clear()


class WampV1Client:
    """One connection. Create it with `await WampV1Client.connect(url)`, which reads the
    WELCOME; use it as `async with` to close it at the end."""

    def __init__(self, ws, welcome):
        self.ws = ws
        self.welcome = welcome
        self.session_id = welcome[1] if welcome else None

    @classmethod
    async def connect(cls, url, subprotocols=("wamp",), expect_welcome=True,
                      timeout=DEFAULT_TIMEOUT, **options):
        """Opens a WebSocket offering `subprotocols` (empty: none) and, unless told not to,
        reads the WELCOME and checks its shape."""
        ws = await websockets.connect(
            url,
            subprotocols=list(subprotocols) or None,
            open_timeout=timeout,
            close_timeout=timeout,
            ping_interval=None,
            max_size=None,
            **options,
        )
        client = cls(ws, None)
        if expect_welcome:
            welcome = await client.recv(timeout)
            assert isinstance(welcome, list) and len(welcome) == 4, welcome
            assert welcome[0] == WELCOME and isinstance(welcome[1], str), welcome
            assert welcome[2] == 1, welcome
            client.welcome = welcome
            client.session_id = welcome[1]
        return client

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    @property
    def subprotocol(self):
        return self.ws.subprotocol

    async def send(self, message):
        """Sends a list (or any JSON value) as one text frame."""
        await self.ws.send(json.dumps(message))

    async def send_raw(self, data):
        """Sends text or bytes exactly as given."""
        await self.ws.send(data)

    async def recv_raw(self, timeout=DEFAULT_TIMEOUT):
        """The next frame's payload; raises asyncio.TimeoutError or ConnectionClosed."""
        return await asyncio.wait_for(self.ws.recv(), timeout)

    async def recv(self, timeout=DEFAULT_TIMEOUT):
        """The next message, parsed from JSON."""
        return json.loads(await self.recv_raw(timeout))

    async def expect_no_message(self, timeout=0.5):
        """Asserts that nothing arrives within `timeout` s and the connection stays open."""
        try:
            message = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            return
        except websockets.ConnectionClosed as closed:
            raise AssertionError(f"expected no message, but the connection closed: {closed}")
        raise AssertionError(f"expected no message, got {message!r}")

    async def wait_closed(self, timeout=DEFAULT_TIMEOUT):
        """Waits for the connection to end and returns the peer's close code (1006 when it
        dropped without a close frame). Messages still queued are discarded."""

        async def drain():
            try:
                while True:
                    await self.ws.recv()
            except websockets.ConnectionClosed:
                pass

        await asyncio.wait_for(drain(), timeout)
        await asyncio.wait_for(self.ws.wait_closed(), timeout)
        return self.ws.close_code

    @property
    def close_reason(self):
        return self.ws.close_reason

    async def close(self, code=1000):
        await self.ws.close(code)

    # ---- WAMP v1 messages ----

    async def prefix(self, prefix, uri):
        await self.send([PREFIX, prefix, uri])

    async def subscribe(self, topic):
        await self.send([SUBSCRIBE, topic])

    async def unsubscribe(self, topic):
        await self.send([UNSUBSCRIBE, topic])

    async def publish(self, topic, event, *rest):
        """`rest` is exclude (True or a list of session ids) and eligible, as the client
        wants them on the wire."""
        await self.send([PUBLISH, topic, event, *rest])

    async def call(self, procedure, *args, call_id=None, timeout=DEFAULT_TIMEOUT):
        """Sends a CALL and returns its CALLRESULT or CALLERROR as a list; other messages
        arriving meanwhile are skipped."""
        call_id = call_id or f"call-{next(_call_ids)}"
        await self.send([CALL, call_id, procedure, *args])
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise asyncio.TimeoutError(f"no answer to call {procedure}")
            message = await self.recv(left)
            if (isinstance(message, list) and len(message) >= 2
                    and message[0] in (CALLRESULT, CALLERROR) and message[1] == call_id):
                return message

    async def recv_event(self, topic=None, timeout=DEFAULT_TIMEOUT):
        """The next EVENT (for `topic`, when given) as [8, topic, event]; other messages
        arriving meanwhile are skipped."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise asyncio.TimeoutError(f"no EVENT for {topic}")
            message = await self.recv(left)
            if message[0] == EVENT and (topic is None or message[1] == topic):
                return message
