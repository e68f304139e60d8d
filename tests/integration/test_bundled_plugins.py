"""The bundled plugins as the build tree's default config serves them: Oro's keep-alive
ping (`oro/ping`) and its four broadcast topics, checked on the wire byte for byte as
PHP's json_encode writes events (`/` escaped as `\\/`)."""

import contextlib
import json
import time

import pytest

from conftest import default_config
from wamp_client import CALL, CALLRESULT, WampV1Client, run

PING = "oro/ping"
PING_FRAME = '[8,"oro\\/ping","Connection keep alive"]'
BROADCAST_TOPICS = ["oro/maintenance", "oro/data/update", "oro/message_queue_heartbeat",
                    "oro/outdated_user_page"]


def php_json(value):
    """`value` as PHP's json_encode writes it: compact, `/` as `\\/`, non-ASCII as
    lowercase \\u escapes. Outside strings JSON has no `/`, so one replace is exact."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


async def barrier(client):
    """Returns once the server handled everything `client` sent before (it handles one
    connection's messages in order); fails if any other frame arrives first."""
    await client.send([CALL, "barrier", "wampd.topics"])
    reply = await client.recv()
    assert reply[:2] == [CALLRESULT, "barrier"], reply


@contextlib.asynccontextmanager
async def connected(server, count, topics=()):
    """`count` clients, each subscribed to `topics` (in place when this yields)."""
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for _ in range(count):
            client = await stack.enter_async_context(await WampV1Client.connect(server.url))
            for topic in topics:
                await client.subscribe(topic)
            await barrier(client)
            clients.append(client)
        yield clients


@pytest.fixture
def ping_wampd(wampd_factory):
    """The default config with a one-second ping."""
    return wampd_factory(config=default_config(), params={"oro_sync.websocket_ping.interval": 1})


# ---- ping ----


def test_ping_subscriber_gets_keep_alive_about_every_second(ping_wampd):
    async def scenario():
        async with connected(ping_wampd, 1, [PING]) as (client,):
            subscribed = time.monotonic()
            arrivals = []
            for _ in range(3):
                assert await client.recv_raw(timeout=3) == PING_FRAME
                arrivals.append(time.monotonic())
            return subscribed, arrivals

    subscribed, arrivals = run(scenario())
    gaps = [b - a for a, b in zip([subscribed] + arrivals, arrivals)]
    # The first comes one interval after the first subscription, not at once.
    assert all(0.8 <= gap <= 1.6 for gap in gaps), gaps


def test_every_ping_subscriber_gets_the_same_pings(ping_wampd):
    async def scenario():
        async with connected(ping_wampd, 2, [PING]) as clients:
            for _ in range(2):
                for client in clients:
                    assert await client.recv_raw(timeout=3) == PING_FRAME

    run(scenario())


def test_publishing_to_ping_delivers_nothing(ping_wampd):
    async def scenario():
        async with connected(ping_wampd, 2, [PING]) as (subscriber, publisher):
            await publisher.publish(PING, "from a client", False)
            await publisher.send([7, PING, {"x": 1}, [], []])
            await barrier(publisher)
            # The next frame each sees is the server's own keep-alive.
            assert await subscriber.recv_raw(timeout=3) == PING_FRAME
            assert await publisher.recv_raw(timeout=3) == PING_FRAME

    run(scenario())


def test_no_ping_after_the_last_subscriber_unsubscribes(ping_wampd):
    async def scenario():
        async with connected(ping_wampd, 1, [PING]) as (client,):
            assert await client.recv_raw(timeout=3) == PING_FRAME
            await client.unsubscribe(PING)
            await barrier(client)
            await client.expect_no_message(timeout=1.5)

    run(scenario())


def test_ping_interval_defaults_to_the_config_parameter(wampd):
    """The default config says Oro's 50 s: `--param` is what makes the pings above fast."""
    async def scenario():
        async with connected(wampd, 1, [PING]) as (client,):
            await client.expect_no_message(timeout=1.5)

    run(scenario())


# ---- broadcast topics ----


@pytest.mark.parametrize("topic", BROADCAST_TOPICS)
def test_broadcast_topic_delivers_to_every_subscriber_once(wampd, topic):
    event = {"topic": topic, "at": "2026-01-01T00:00:00+00:00"}

    async def scenario():
        async with connected(wampd, 3, [topic]) as subscribers, \
                connected(wampd, 1) as (backend,):
            # As Oro's backend client publishes: not subscribed, empty exclude and eligible.
            await backend.send([7, topic, event, [], []])
            await backend.send([7, topic, "marker", [], []])
            for subscriber in subscribers:
                assert await subscriber.recv_raw() == php_json([8, topic, event])
                assert await subscriber.recv_raw() == php_json([8, topic, "marker"])
            await barrier(backend)

    run(scenario())


@pytest.mark.parametrize("topic, raw_payload, expected", [
    ("oro/maintenance", '{"isOn":true,"userId":null}',
     '[8,"oro\\/maintenance",{"isOn":true,"userId":null}]'),
    ("oro/maintenance", '{"isOn":false,"userId":7}',
     '[8,"oro\\/maintenance",{"isOn":false,"userId":7}]'),
    ("oro/data/update", '[{"username":"admin","tagname":"x"}]',
     '[8,"oro\\/data\\/update",[{"username":"admin","tagname":"x"}]]'),
    ("oro/data/update",
     '[{"username":null,"tagname":"Oro\\\\Bundle\\\\UserBundle\\\\Entity\\\\User"}]',
     '[8,"oro\\/data\\/update",[{"username":null,'
     '"tagname":"Oro\\\\Bundle\\\\UserBundle\\\\Entity\\\\User"}]]'),
])
def test_oro_payloads_arrive_exact(wampd, topic, raw_payload, expected):
    async def scenario():
        async with connected(wampd, 2, [topic]) as subscribers, \
                connected(wampd, 1) as (backend,):
            await backend.send_raw(f'[7,"{topic}",{raw_payload},[],[]]')
            for subscriber in subscribers:
                assert await subscriber.recv_raw() == expected

    run(scenario())


def test_broadcast_topics_are_independent(wampd):
    async def scenario():
        async with connected(wampd, 1, BROADCAST_TOPICS[:1]) as (first,), \
                connected(wampd, 1, BROADCAST_TOPICS[1:]) as (rest,):
            for topic in BROADCAST_TOPICS:
                await first.publish(topic, topic, False)
            assert await first.recv() == [8, BROADCAST_TOPICS[0], BROADCAST_TOPICS[0]]
            for topic in BROADCAST_TOPICS[1:]:
                assert await rest.recv() == [8, topic, topic]
            await barrier(first)
            await barrier(rest)

    run(scenario())
