"""WAMP v1 and v2 clients on one wampd: a raw v1 client (tests/integration/wamp_client.py, as
Oro's clients speak v1) beside python3-autobahn sessions over JSON and msgpack. Events cross
versions both ways with the same payload; exclusion and eligibility lists name sessions of
either version; v1 callers reach procedures v2 callees register."""

import pytest
from autobahn.wamp.types import PublishOptions

from autobahn_client import Clients, subscribe_log
from wamp_client import CALLRESULT, EVENT, WampV1Client, run

ORO_TOPIC = "oro/data/update"
# Integers beyond 32 bits, non-ASCII text, a float, null and nesting.
PAYLOAD = [{"username": "admin", "tagname": "Oro\\Bundle\\UserBundle\\Entity\\User",
            "id": 2 ** 40 + 3, "ratio": 0.25, "note": "Grüße ✓", "parent": None}]


async def v1_subscribed(url, topic):
    """A v1 client subscribed to `topic` (v1 has no acknowledgement: a CALL answered after
    the SUBSCRIBE proves it was handled)."""
    client = await WampV1Client.connect(url)
    await client.subscribe(topic)
    assert (await client.call("wampd.topics"))[0] == CALLRESULT
    return client


def test_v1_publication_reaches_v1_and_v2_subscribers(server):
    async def scenario():
        async with Clients() as clients:
            json_sub = await clients.connect(server.url, "json")
            msgpack_sub = await clients.connect(server.url, "msgpack")
            logs = [await subscribe_log(s, ORO_TOPIC) for s in (json_sub, msgpack_sub)]
            async with await v1_subscribed(server.url, ORO_TOPIC) as v1_sub, \
                    await WampV1Client.connect(server.backend_url) as backend:
                await backend.publish(ORO_TOPIC, PAYLOAD)
                assert await v1_sub.recv_event(ORO_TOPIC) == [EVENT, ORO_TOPIC, PAYLOAD]
                for log in logs:
                    [(args, kwargs, details)] = await log.at_least(1)
                    assert args == [PAYLOAD] and kwargs == {}
                    assert details.publisher is None

    run(scenario())


@pytest.mark.parametrize("publisher_serializer", ["json", "msgpack"])
def test_v2_publication_reaches_v1_and_v2_subscribers(server, publisher_serializer):
    async def scenario():
        async with Clients() as clients:
            v2_sub = await clients.connect(server.url, "msgpack")
            log = await subscribe_log(v2_sub, ORO_TOPIC)
            backend = await clients.connect(server.backend_url, publisher_serializer)
            async with await v1_subscribed(server.url, ORO_TOPIC) as v1_sub:
                await backend.publish(ORO_TOPIC, PAYLOAD,
                                      options=PublishOptions(acknowledge=True))
                assert await v1_sub.recv_event(ORO_TOPIC) == [EVENT, ORO_TOPIC, PAYLOAD]
                [(args, _, _)] = await log.at_least(1)
                assert args == [PAYLOAD]
                # v1 events carry one value: keyword arguments alone arrive as that object,
                # several arguments as their list.
                await backend.publish(ORO_TOPIC, options=PublishOptions(acknowledge=True),
                                      isOn=True, userId=None)
                assert await v1_sub.recv_event(ORO_TOPIC) == [
                    EVENT, ORO_TOPIC, {"isOn": True, "userId": None}]
                await backend.publish(ORO_TOPIC, 1, "two",
                                      options=PublishOptions(acknowledge=True))
                assert await v1_sub.recv_event(ORO_TOPIC) == [EVENT, ORO_TOPIC, [1, "two"]]
                events = await log.at_least(3)
                assert [(args, kwargs) for args, kwargs, _ in events[1:]] == [
                    ([], {"isOn": True, "userId": None}), ([1, "two"], {})]

    run(scenario())


def test_v2_binary_payload_reaches_v1_and_json_subscribers_as_valid_json(server):
    """Bytes (msgpack bin) have no JSON type: v1 and wamp.2.json subscribers get WAMP's JSON
    form for binary, "\\0" and the base64, inside a message that parses; the msgpack
    subscriber gets the bytes back."""
    async def scenario():
        payload = [b"\xff\xfe\x00abc", "caf\u00e9"]
        async with Clients() as clients:
            json_sub = await clients.connect(server.url, "json")
            msgpack_sub = await clients.connect(server.url, "msgpack")
            logs = [await subscribe_log(s, ORO_TOPIC) for s in (json_sub, msgpack_sub)]
            backend = await clients.connect(server.backend_url, "msgpack")
            async with await v1_subscribed(server.url, ORO_TOPIC) as v1_sub:
                await backend.publish(ORO_TOPIC, *payload,
                                      options=PublishOptions(acknowledge=True))
                # recv_event parses the frame as JSON: malformed JSON fails here.
                assert await v1_sub.recv_event(ORO_TOPIC) == [
                    EVENT, ORO_TOPIC, ["\x00//4AYWJj", "caf\u00e9"]]
                for log in logs:
                    [(args, _, _)] = await log.at_least(1)
                    assert args == payload

    run(scenario())


def test_exclusion_and_eligibility_name_sessions_of_either_version(server):
    async def scenario():
        t = "interop.mixed-lists.event"
        async with Clients() as clients:
            v2_pub = await clients.connect(server.url, "msgpack")
            v2_sub = await clients.connect(server.url, "json")
            log = await subscribe_log(v2_sub, t)
            v2_id = v2_sub.details.session
            async with await v1_subscribed(server.url, t) as v1_sub, \
                    await WampV1Client.connect(server.url) as v1_pub:
                v1_id = int(v1_sub.session_id)
                # v2 publisher: a v1 session id (v1 carries it as text) in v2's lists.
                await v2_pub.publish(t, "not v1", options=PublishOptions(
                    acknowledge=True, exclude=[v1_id]))
                await v2_pub.publish(t, "only v1", options=PublishOptions(
                    acknowledge=True, eligible=[v1_id]))
                # v1 publisher: a v2 session id in v1's lists, as text.
                await v1_pub.publish(t, "v1: not v2", [str(v2_id)])
                await v1_pub.publish(t, "v1: only v2", [], [str(v2_id)])
                await v1_pub.publish(t, "fence")
                v1_events = []
                while not v1_events or v1_events[-1] != "fence":
                    v1_events.append((await v1_sub.recv_event(t))[2])
                assert v1_events == ["only v1", "v1: not v2", "fence"]
                v2_events = await log.until(lambda e: e[0] == ["fence"])
                assert [args[0] for args, _, _ in v2_events] == ["not v1", "v1: only v2",
                                                                 "fence"]

    run(scenario())


def test_v1_caller_reaches_a_v2_callee(server):
    async def scenario():
        async with Clients() as clients:
            callee = await clients.connect(server.url, "msgpack")
            await callee.register(lambda a, b: a * b, "com.interop.multiply")
            async with await WampV1Client.connect(server.url) as v1:
                answer = await v1.call("com.interop.multiply", 6, 7)
                assert answer[0] == CALLRESULT, answer
                assert answer[2] == 42

    run(scenario())
