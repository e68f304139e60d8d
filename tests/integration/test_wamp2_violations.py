"""WAMP v2 protocol violations over real sockets, in both serializers: every class the spec
names (unknown type, wrong shape, a router-only type from a client, messages before WELCOME,
a second HELLO, AUTHENTICATE without CHALLENGE, request ids that do not grow, a frame of the
other serializer's kind, bytes that do not parse). Each gets
ABORT(wamp.error.protocol_violation) in the session's serializer and its connection closes,
while an established session beside it keeps being served (a CALL and an EVENT afterwards).

The messages are made by hand: JSON text frames for wamp.2.json, msgpack binary frames for
wamp.2.msgpack (Debian's python3-msgpack).
"""

import asyncio
import json

import msgpack
import pytest
import websockets

from conftest import serve_sample_config
from wamp_client import run

HELLO, WELCOME, ABORT, CHALLENGE, AUTHENTICATE, GOODBYE, ERROR = 1, 2, 3, 4, 5, 6, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, UNSUBSCRIBE, UNSUBSCRIBED, EVENT = (
    16, 17, 32, 33, 34, 35, 36)
CALL, CANCEL, RESULT = 48, 49, 50
REGISTER, REGISTERED, UNREGISTER, UNREGISTERED, INVOCATION, INTERRUPT, YIELD = (
    64, 65, 66, 67, 68, 69, 70)

VIOLATION = "wamp.error.protocol_violation"
# The WebSocket close code wampd ends a violating connection with (core/common/errors.cpp).
VIOLATION_CLOSE_CODE = 1002
TIMEOUT = 5.0
# A topic whose handler (the sample fixture's ThrowingTopic) broadcasts what anyone publishes.
TOPIC = "sample/throwing"
SERIALIZERS = ["json", "msgpack"]

ROLES = {"roles": {"subscriber": {}, "publisher": {}, "caller": {}, "callee": {}}}


def encode(message, serializer):
    if serializer == "json":
        return json.dumps(message)
    return msgpack.packb(message, use_bin_type=True)


class RawV2:
    """One WAMP v2 connection driven message by message; nothing checked behind the test's
    back except that every frame is of the session serializer's kind."""

    def __init__(self, ws, serializer):
        self.ws = ws
        self.serializer = serializer
        self.session_id = None
        self._request = 0

    @classmethod
    async def connect(cls, url, serializer):
        ws = await websockets.connect(url, subprotocols=[f"wamp.2.{serializer}"],
                                      open_timeout=TIMEOUT, close_timeout=TIMEOUT,
                                      ping_interval=None)
        assert ws.subprotocol == f"wamp.2.{serializer}"
        return cls(ws, serializer)

    @classmethod
    async def joined(cls, url, serializer):
        client = await cls.connect(url, serializer)
        await client.hello()
        return client

    def request_id(self):
        self._request += 1
        return self._request

    async def send(self, message):
        await self.ws.send(encode(message, self.serializer))

    async def send_raw(self, data):
        await self.ws.send(data)

    async def recv(self, timeout=TIMEOUT):
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        if self.serializer == "json":
            assert isinstance(frame, str), f"binary frame on a JSON session: {frame!r}"
            return json.loads(frame)
        assert isinstance(frame, bytes), f"text frame on a msgpack session: {frame!r}"
        return msgpack.unpackb(frame, raw=False)

    async def hello(self, details=None):
        await self.send([HELLO, "realm1", details or ROLES])
        welcome = await self.recv()
        assert welcome[0] == WELCOME, welcome
        self.session_id = welcome[1]
        return welcome

    async def expect_violation(self):
        """The ABORT for a protocol violation, then the server's close; returns the ABORT."""
        abort = await self.recv()
        assert abort[0] == ABORT and abort[2] == VIOLATION, abort
        assert isinstance(abort[1], dict) and abort[1].get("message"), abort
        try:
            extra = await asyncio.wait_for(self.ws.recv(), TIMEOUT)
            raise AssertionError(f"a message after ABORT: {extra!r}")
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(self.ws.wait_closed(), TIMEOUT)
        assert self.ws.close_code == VIOLATION_CLOSE_CODE, (self.ws.close_code,
                                                            self.ws.close_reason)
        return abort

    async def close(self):
        await self.ws.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One wampd (the bundled plugins and the sample fixture) for every case here: each
    case also proves the server still serves."""
    directory = tmp_path_factory.mktemp("wamp2-violations")
    process = serve_sample_config(directory)
    yield process
    assert process.stop() == 0, process.log()


async def bystander(url):
    """An established JSON session subscribed to TOPIC."""
    client = await RawV2.joined(url, "json")
    request = client.request_id()
    await client.send([SUBSCRIBE, request, {}, TOPIC])
    subscribed = await client.recv()
    assert subscribed[:2] == [SUBSCRIBED, request], subscribed
    client.subscription = subscribed[2]
    return client


async def still_served(url, client):
    """`client` still gets CALL results and EVENTs (published by a new msgpack session)."""
    request = client.request_id()
    await client.send([CALL, request, {}, "sample/sum", [20, 22]])
    result = await client.recv()
    assert result[:2] == [RESULT, request] and result[3] == [42], result
    publisher = await RawV2.joined(url, "msgpack")
    try:
        await publisher.send([PUBLISH, publisher.request_id(), {"acknowledge": True}, TOPIC,
                              ["still here"]])
        assert (await publisher.recv())[0] == PUBLISHED
    finally:
        await publisher.close()
    event = await client.recv()
    assert event[0] == EVENT and event[1] == client.subscription, event
    assert event[4] == ["still here"], event


class Reply:
    """In a violation's frames: read one message, which must be of `type`."""

    def __init__(self, type):
        self.type = type


def violation_case(url, serializer, phase, *frames):
    """Runs one violation: a violator in `phase` ("connected", "welcomed" or "challenged")
    sends `frames` (messages, or bytes/str sent as they are, or a Reply to read); it must
    then get the ABORT and be closed while a bystander keeps being served."""

    async def scenario():
        watcher = await bystander(url)
        violator = await RawV2.connect(url, serializer)
        try:
            if phase == "welcomed":
                await violator.hello()
            elif phase == "challenged":
                await violator.send([HELLO, "realm1", {**ROLES, "authmethods": ["ticket"],
                                                       "authid": "john"}])
                challenge = await violator.recv()
                assert challenge[:2] == [CHALLENGE, "ticket"], challenge
            for frame in frames:
                if isinstance(frame, Reply):
                    reply = await violator.recv()
                    assert reply[0] == frame.type, reply
                elif isinstance(frame, (bytes, str)):
                    await violator.send_raw(frame)
                else:
                    await violator.send(frame)
            abort = await violator.expect_violation()
            await still_served(url, watcher)
            return abort
        finally:
            await violator.close()
            await watcher.close()

    return run(scenario())


# ---- unknown message types ----

@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [999, 1, {}], [7, 1, {}], [0], [-5, {}], [2 ** 40, 1],
], ids=["999", "7-unassigned", "0", "negative", "huge"])
def test_unknown_message_type(server, serializer, message):
    abort = violation_case(server.url, serializer, "welcomed", message)
    assert "unknown" in abort[1]["message"].lower()


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    ["32", 1, {}, TOPIC], [32.0, 1, {}, TOPIC], [None], [], [[SUBSCRIBE], 1, {}, TOPIC],
], ids=["string-type", "float-type", "null-type", "empty", "list-type"])
def test_message_type_that_is_no_integer(server, serializer, message):
    violation_case(server.url, serializer, "welcomed", message)


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [{"type": SUBSCRIBE}, "SUBSCRIBE", 32],
                         ids=["object", "string", "number"])
def test_top_level_value_that_is_no_list(server, serializer, message):
    violation_case(server.url, serializer, "welcomed", encode(message, serializer))


# ---- wrong shape ----

@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [SUBSCRIBE, 1, {}],
    [SUBSCRIBE, 1, {}, TOPIC, "extra"],
    [PUBLISH, 1, {}],
    [CALL, 1, {}, "sample/sum", [1], {}, "extra"],
    [REGISTER, 1, {}],
    [UNSUBSCRIBE, 1],
    [YIELD, 1],
    [GOODBYE, {}],
    [CANCEL],
], ids=["subscribe-short", "subscribe-long", "publish-short", "call-long", "register-short",
        "unsubscribe-short", "yield-short", "goodbye-short", "cancel-short"])
def test_wrong_field_count(server, serializer, message):
    violation_case(server.url, serializer, "welcomed", message)


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [SUBSCRIBE, "1", {}, TOPIC],
    [SUBSCRIBE, 1.5, {}, TOPIC],
    [SUBSCRIBE, -1, {}, TOPIC],
    [SUBSCRIBE, 2 ** 53 + 1, {}, TOPIC],
    [SUBSCRIBE, 1, [], TOPIC],
    [SUBSCRIBE, 1, {}, 42],
    [PUBLISH, 1, {}, TOPIC, {"not": "a list"}],
    [PUBLISH, 1, {}, TOPIC, [], ["not", "a dict"]],
    [CALL, 1, {}, "sample/sum", "1, 2"],
    [UNSUBSCRIBE, 1, "subscription"],
    [GOODBYE, [], "wamp.close.close_realm"],
    [GOODBYE, {}, None],
], ids=["id-string", "id-float", "id-negative", "id-over-2^53", "options-list", "topic-int",
        "args-dict", "kwargs-list", "args-string", "subscription-string", "details-list",
        "reason-null"])
def test_wrong_field_type(server, serializer, message):
    violation_case(server.url, serializer, "welcomed", message)


# Options whose type the spec fixes. Crossbar's parser (autobahn.wamp.message) rejects these
# as protocol errors; ignoring them instead would, for the black- and whitelists, deliver an
# event to the very sessions the publisher meant to exclude.
@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [PUBLISH, 1, {"exclude": 12345}, TOPIC, ["x"]],
    [PUBLISH, 1, {"exclude": ["12345"]}, TOPIC, ["x"]],
    [PUBLISH, 1, {"exclude": [1.5]}, TOPIC, ["x"]],
    [PUBLISH, 1, {"eligible": "everyone"}, TOPIC, ["x"]],
    [PUBLISH, 1, {"exclude_authid": "john"}, TOPIC, ["x"]],
    [PUBLISH, 1, {"eligible_authid": [5]}, TOPIC, ["x"]],
    [PUBLISH, 1, {"exclude_authrole": "anonymous"}, TOPIC, ["x"]],
    [PUBLISH, 1, {"eligible_authrole": [True]}, TOPIC, ["x"]],
    [PUBLISH, 1, {"acknowledge": "yes"}, TOPIC, ["x"]],
    [PUBLISH, 1, {"exclude_me": 0}, TOPIC, ["x"]],
    [SUBSCRIBE, 1, {"match": 5}, TOPIC],
    [CALL, 1, {"timeout": "100"}, "sample/sum", [1]],
    [CALL, 1, {"timeout": -100}, "sample/sum", [1]],
    [CALL, 1, {"receive_progress": "yes"}, "sample/sum", [1]],
    [REGISTER, 1, {"invoke": 5}, "com.example.procedure"],
    [CANCEL, 1, {"mode": "explode"}],
], ids=["exclude-int", "exclude-strings", "exclude-float", "eligible-string",
        "exclude_authid-string", "eligible_authid-ints", "exclude_authrole-string",
        "eligible_authrole-bools", "acknowledge-string", "exclude_me-int", "match-int",
        "timeout-string", "timeout-negative", "receive_progress-string", "invoke-int",
        "cancel-mode-unknown"])
def test_ill_typed_option(server, serializer, message):
    violation_case(server.url, serializer, "welcomed", message)


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [HELLO, 42, {}], [HELLO, "realm1"], [HELLO, "realm1", []],
], ids=["realm-int", "no-details", "details-list"])
def test_malformed_hello(server, serializer, message):
    violation_case(server.url, serializer, "connected", message)


# ---- router-only types from a client ----

@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [WELCOME, 1, {}],
    [CHALLENGE, "ticket", {}],
    [PUBLISHED, 1, 2],
    [SUBSCRIBED, 1, 2],
    [UNSUBSCRIBED, 1],
    [EVENT, 1, 2, {}, ["x"]],
    [RESULT, 1, {}, [1]],
    [REGISTERED, 1, 2],
    [UNREGISTERED, 1],
    [INVOCATION, 1, 2, {}],
    [INTERRUPT, 1, {}],
], ids=["welcome", "challenge", "published", "subscribed", "unsubscribed", "event", "result",
        "registered", "unregistered", "invocation", "interrupt"])
def test_router_only_type_from_a_client(server, serializer, message):
    abort = violation_case(server.url, serializer, "welcomed", message)
    assert "router" in abort[1]["message"].lower()


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_error_for_anything_but_an_invocation(server, serializer):
    violation_case(server.url, serializer, "welcomed",
                   [ERROR, CALL, 1, {}, "com.example.error"])


# ---- session order ----

@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [SUBSCRIBE, 1, {}, TOPIC],
    [PUBLISH, 1, {}, TOPIC, ["x"]],
    [CALL, 1, {}, "sample/sum", [1, 2]],
    [REGISTER, 1, {}, "com.example.procedure"],
    [AUTHENTICATE, "signature", {}],
    [GOODBYE, {}, "wamp.close.close_realm"],
], ids=["subscribe", "publish", "call", "register", "authenticate", "goodbye"])
def test_message_before_welcome(server, serializer, message):
    violation_case(server.url, serializer, "connected", message)


@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("message", [
    [SUBSCRIBE, 1, {}, TOPIC], [CALL, 1, {}, "sample/sum", [1]], [HELLO, "realm1", ROLES],
], ids=["subscribe", "call", "hello"])
def test_message_while_authentication_is_pending(server, serializer, message):
    violation_case(server.url, serializer, "challenged", message)


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_second_hello(server, serializer):
    violation_case(server.url, serializer, "welcomed", [HELLO, "realm1", ROLES])


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_authenticate_without_challenge(server, serializer):
    violation_case(server.url, serializer, "welcomed", [AUTHENTICATE, "a ticket", {}])


# ---- request ids ----
#
# The spec says a client's session-scope request ids are sequential (1, 2, 3, ...). wampd
# requires each new request id to be greater than the one before, whatever the message
# types; a gap of up to 2^32 is tolerated (Wamp2Session::kMaxRequestIdStep), so a repeated
# or smaller id, or a larger jump, is a violation.

@pytest.mark.parametrize("serializer", SERIALIZERS)
@pytest.mark.parametrize("second", [
    [SUBSCRIBE, 5, {}, TOPIC],
    [SUBSCRIBE, 4, {}, TOPIC],
    [CALL, 3, {}, "sample/sum", [1]],
    [PUBLISH, 5, {}, TOPIC, ["x"]],
    [REGISTER, 1, {}, "com.example.procedure"],
    [UNSUBSCRIBE, 0, 1],
    [SUBSCRIBE, 5 + 2 ** 32 + 1, {}, TOPIC],
], ids=["repeated", "smaller", "smaller-call", "repeated-publish", "smaller-register",
        "zero-unsubscribe", "jump-beyond-2^32"])
def test_request_id_that_does_not_grow(server, serializer, second):
    abort = violation_case(server.url, serializer, "welcomed",
                           [SUBSCRIBE, 5, {}, TOPIC], Reply(SUBSCRIBED), second)
    assert "request id" in abort[1]["message"]


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_request_ids_that_grow_with_gaps_are_accepted(server, serializer):
    async def scenario():
        client = await RawV2.joined(server.url, serializer)
        try:
            for request in (1, 2, 10, 11, 2 ** 32 + 11):
                await client.send([CALL, request, {}, "sample/sum", [request, 1]])
                result = await client.recv()
                assert result[:2] == [RESULT, request] and result[3] == [request + 1], result
        finally:
            await client.close()

    run(scenario())


# ---- frames and bytes ----

@pytest.mark.parametrize("phase", ["connected", "welcomed"])
def test_text_frame_on_a_msgpack_session(server, phase):
    violation_case(server.url, "msgpack", phase,
                   json.dumps([CALL, 1, {}, "sample/sum", [1, 2]]))


@pytest.mark.parametrize("phase", ["connected", "welcomed"])
def test_binary_frame_on_a_json_session(server, phase):
    violation_case(server.url, "json", phase,
                   msgpack.packb([CALL, 1, {}, "sample/sum", [1, 2]]))


@pytest.mark.parametrize("phase", ["connected", "welcomed"])
@pytest.mark.parametrize("text", [
    '[1, "realm1", {', "[48, 1, {}, 'sample/sum']", "", "[32, 1, {}, \"t\"] trailing",
    '[16, 1, {}, "t", [NaN]]',
], ids=["truncated", "single-quotes", "empty", "trailing", "nan"])
def test_malformed_json(server, phase, text):
    violation_case(server.url, "json", phase, text)


@pytest.mark.parametrize("phase", ["connected", "welcomed"])
@pytest.mark.parametrize("data", [
    b"\x94\x30\x01",                    # array of 4 with two elements
    b"\xc1",                            # a byte msgpack never uses
    b"\x94\x30\x01\x80\xd9\x10abc",     # str8 of 16 bytes with 3
    msgpack.packb([SUBSCRIBE, 1, {}, TOPIC]) + b"\x00",  # trailing bytes
    b"",
], ids=["truncated-array", "never-used-byte", "truncated-string", "trailing", "empty"])
def test_malformed_msgpack(server, phase, data):
    violation_case(server.url, "msgpack", phase, data)


@pytest.mark.parametrize("serializer", SERIALIZERS)
def test_nesting_beyond_the_limit(server, serializer):
    deep = ["x"]
    for _ in range(200):
        deep = [deep]
    violation_case(server.url, serializer, "welcomed", [PUBLISH, 1, {}, TOPIC, deep])


def test_msgpack_extension_type(server):
    violation_case(server.url, "msgpack", "welcomed",
                   msgpack.packb([PUBLISH, 1, {}, TOPIC, [msgpack.ExtType(5, b"ext")]]))


def test_server_outlives_every_violation(server):
    """Runs last in this file: after every violation above, a new session is served."""

    async def scenario():
        client = await bystander(server.url)
        try:
            await still_served(server.url, client)
        finally:
            await client.close()

    run(scenario())
    assert server.returncode is None
