"""Cluster mode on Redis: three real wampd nodes and a real redis-server on loopback (started
here on a free port, `--save '' --appendonly no`, stopped at the end; nothing else touches
it). WAMP v1 and v2 (JSON and msgpack) clients spread over the nodes; publications from each
node and from wampctl reach every subscriber once and in order; exclusion and black/white
lists across nodes; SUBSCRIBED only once the node receives the topic from Redis; Redis
killed and restarted, stopped with SIGSTOP, and its pub/sub connections killed while events
flow; a node killed while the others serve; the cluster in wampd.stats; v2 prefix and
wildcard subscriptions across nodes; a reload on one node while events flow; Redis over a
unix socket and with a password (right and wrong); session ids disjoint across nodes.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

import msgpack
import pytest
import websockets

from conftest import default_config, free_port, run_wampctl
from wamp_client import EVENT, WampV1Client, run

HELLO, WELCOME, ERROR = 1, 2, 8
PUBLISH, PUBLISHED, SUBSCRIBE, SUBSCRIBED, EVENT2 = 16, 17, 32, 33, 36
TOPIC = "oro/data/update"
TIMEOUT = 5.0
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
CLUSTER_UNAVAILABLE = "wampd.error.cluster_unavailable"


# ---- Redis ----


def redis_command(port, *args, timeout=2.0, lines=False):
    """One command over a fresh connection; the raw reply's first line (with lines=True,
    the strings of an array reply that fits one read)."""
    payload = f"*{len(args)}\r\n".encode()
    for arg in args:
        data = str(arg).encode()
        payload += b"$%d\r\n%s\r\n" % (len(data), data)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        reply = s.recv(65536).decode().split("\r\n")
        if lines:
            return [line for line in reply if line and line[0] not in "*$"]
        return reply[0]


class Redis:
    def __init__(self, directory, extra_args=()):
        self.port = free_port()
        self.directory = directory
        self.extra_args = list(extra_args)
        self.process = None
        self.start()

    def start(self):
        assert os.path.exists(REDIS_SERVER), "redis-server is missing: scripts/setup-deps --test"
        self.log = open(self.directory / f"redis-{time.monotonic_ns()}.log", "wb")
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory), *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                # With --requirepass, PING without AUTH says NOAUTH: up all the same.
                if redis_command(self.port, "PING").startswith(("+PONG", "-NOAUTH")):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill(self):
        self.process.kill()
        self.process.wait()
        self.log.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.log.close()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    yield server
    try:
        os.kill(server.process.pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    server.stop()


def node_config(redis, name, prefix):
    config = default_config(cluster={"redis": redis.url, "prefix": prefix, "node": name})
    config["log_level"] = "info"
    return config


@pytest.fixture
def nodes(redis, wampd_factory):
    """Three wampd nodes on the test's Redis, each receiving through it."""
    prefix = "t" + uuid.uuid4().hex[:8]
    started = [wampd_factory(config=node_config(redis, f"n{i}", prefix)) for i in (1, 2, 3)]
    for node in started:
        node.wait_for_log("receiving through Redis", timeout=10)
    return started


# ---- clients ----


class V2:
    """A raw WAMP v2 session (JSON or msgpack) as a test drives it."""

    def __init__(self, ws, serializer):
        self.ws = ws
        self.serializer = serializer
        self.request = 0
        self.session_id = None
        self.backlog = []

    @classmethod
    async def join(cls, url, serializer="json"):
        ws = await websockets.connect(url, subprotocols=[f"wamp.2.{serializer}"],
                                      open_timeout=TIMEOUT, close_timeout=TIMEOUT,
                                      ping_interval=None)
        client = cls(ws, serializer)
        await client.send([HELLO, "realm1", {"roles": {"subscriber": {}, "publisher": {}}}])
        welcome = await client.recv()
        assert welcome[0] == WELCOME, welcome
        client.session_id = welcome[1]
        client.authid = welcome[2].get("authid")
        client.authrole = welcome[2].get("authrole")
        return client

    async def send(self, message):
        if self.serializer == "json":
            await self.ws.send(json.dumps(message))
        else:
            await self.ws.send(msgpack.packb(message, use_bin_type=True))

    async def recv(self, timeout=TIMEOUT):
        frame = await asyncio.wait_for(self.ws.recv(), timeout)
        return json.loads(frame) if self.serializer == "json" else msgpack.unpackb(frame, raw=False)

    def next_request(self):
        self.request += 1
        return self.request

    async def answer(self, request, timeout=TIMEOUT):
        """The reply to `request`; events arriving meanwhile are kept for events()."""
        deadline = time.monotonic() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - time.monotonic()))
            if message[0] == EVENT2:
                self.backlog.append(message)
                continue
            if message[1] == request or (message[0] == ERROR and message[2] == request):
                return message

    async def subscribe(self, topic, timeout=TIMEOUT):
        request = self.next_request()
        await self.send([SUBSCRIBE, request, {}, topic])
        reply = await self.answer(request, timeout)
        assert reply[0] == SUBSCRIBED, reply
        return reply[2]

    async def publish(self, topic, args, acknowledge=False, **options):
        request = self.next_request()
        if acknowledge:
            options["acknowledge"] = True
        await self.send([PUBLISH, request, options, topic, args])
        if acknowledge:
            return await self.answer(request)
        return None

    async def event(self, timeout=TIMEOUT):
        if self.backlog:
            return self.backlog.pop(0)
        while True:
            message = await self.recv(timeout)
            if message[0] == EVENT2:
                return message

    async def close(self):
        await self.ws.close()


async def v1_subscriber(node, topic=TOPIC):
    client = await WampV1Client.connect(node.url)
    await client.subscribe(topic)
    return client


async def payload_of(client):
    """The next event's payload, for v1 and v2 clients alike."""
    if isinstance(client, V2):
        message = await client.event()
        return message[4][0]
    message = await client.recv_event(TOPIC)
    return message[2]


async def expect_nothing(client, seconds=0.5):
    try:
        got = await asyncio.wait_for(payload_of(client), seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected event {got!r}")


async def collect(client, count, timeout=TIMEOUT):
    return [await asyncio.wait_for(payload_of(client), timeout) for _ in range(count)]


async def wait_cluster_delivers(publisher_node, subscriber, marker, timeout=8.0):
    """Publishes `marker`-tagged events on `publisher_node` until `subscriber` (elsewhere)
    gets one; returns the seconds it took."""
    started = time.monotonic()
    async with await WampV1Client.connect(publisher_node.url) as publisher:
        n = 0
        while time.monotonic() - started < timeout:
            n += 1
            await publisher.publish(TOPIC, {"probe": marker, "n": n})
            try:
                while True:
                    got = await asyncio.wait_for(payload_of(subscriber), 0.2)
                    if isinstance(got, dict) and got.get("probe") == marker:
                        return time.monotonic() - started
            except asyncio.TimeoutError:
                continue
    raise AssertionError(f"no cross-node delivery within {timeout} s")


# ---- delivery ----


def test_publications_from_every_node_and_wampctl_reach_all_once_and_in_order(nodes):
    async def scenario():
        n1, n2, n3 = nodes
        subscribers = [
            await v1_subscriber(n1), await v1_subscriber(n2), await v1_subscriber(n3),
            await V2.join(n1.url, "json"), await V2.join(n2.url, "json"),
            await V2.join(n3.url, "msgpack"), await V2.join(n2.url, "msgpack"),
        ]
        for client in subscribers[3:]:
            await client.subscribe(TOPIC)
        await asyncio.sleep(0.2)  # v1 SUBSCRIBE has no answer
        per_node = 25
        publishers = [await WampV1Client.connect(node.url) for node in nodes]
        v2_publisher = await V2.join(n3.url, "json")
        for i in range(per_node):
            for index, publisher in enumerate(publishers):
                await publisher.publish(TOPIC, {"from": f"v1@n{index + 1}", "n": i})
            await v2_publisher.publish(TOPIC, [{"from": "v2@n3", "n": i}])
        rc, _, err = run_wampctl("--url", n2.url, "--timeout", "5", "publish", TOPIC,
                                 json.dumps({"from": "wampctl", "n": 0}))
        assert rc == 0, err
        expected = per_node * 4 + 1
        for client in subscribers:
            got = await collect(client, expected)
            await expect_nothing(client)
            by_origin = {}
            for event in got:
                by_origin.setdefault(event["from"], []).append(event["n"])
            assert by_origin == {
                **{f"v1@n{i}": list(range(per_node)) for i in (1, 2, 3)},
                "v2@n3": list(range(per_node)),
                "wampctl": [0],
            }, by_origin
        for client in subscribers + publishers + [v2_publisher]:
            await client.close()

    run(scenario())


def test_exclude_and_eligible_by_session_id_across_nodes(nodes):
    async def scenario():
        n1, n2, n3 = nodes
        a = await v1_subscriber(n1)
        b = await v1_subscriber(n2)
        c = await V2.join(n3.url)
        await c.subscribe(TOPIC)
        await asyncio.sleep(0.2)
        async with await WampV1Client.connect(n1.url) as publisher:
            # v1: exclude the subscriber on node 2, then only the one on node 3 is eligible.
            await publisher.publish(TOPIC, "not-b", [b.session_id], [])
            await publisher.publish(TOPIC, "only-c", [], [str(c.session_id)])
        assert await collect(a, 1) == ["not-b"]
        assert await collect(c, 2) == ["not-b", "only-c"]
        for client in (a, b, c):
            await expect_nothing(client, 0.3)
            await client.close()

    run(scenario())


def test_v2_exclude_me_and_identity_lists_across_nodes(nodes):
    async def scenario():
        n1, n2, n3 = nodes
        me = await V2.join(n1.url)
        await me.subscribe(TOPIC)
        other = await V2.join(n2.url, "msgpack")
        await other.subscribe(TOPIC)
        third = await V2.join(n3.url)
        await third.subscribe(TOPIC)
        # exclude_me is the default: the publisher on node 1 hears nothing of its own.
        await me.publish(TOPIC, ["hello"])
        # Black- and whitelists by session id, authid and authrole reach across nodes.
        assert other.authid and third.authrole, (other.authid, third.authrole)
        await me.publish(TOPIC, ["not-other"], exclude_authid=[other.authid])
        await me.publish(TOPIC, ["only-third"], eligible=[third.session_id])
        await me.publish(TOPIC, ["no-one"], exclude_authrole=[third.authrole])
        await me.publish(TOPIC, ["last"], exclude_me=False)
        other_got = [m for m in await collect(other, 2)]
        third_got = await collect(third, 4)
        assert other_got == ["hello", "last"], other_got
        assert third_got == ["hello", "not-other", "only-third", "last"], third_got
        assert await collect(me, 1) == ["last"]
        for client in (me, other, third):
            await expect_nothing(client, 0.3)
            await client.close()

    run(scenario())


def test_subscribed_only_once_the_node_receives_the_topic(nodes, redis):
    async def scenario():
        n1, n2, _ = nodes
        subscriber = await V2.join(n1.url)
        # Redis answers no one for a second: the node's SUBSCRIBE waits, and so must the
        # client's SUBSCRIBED.
        assert redis_command(redis.port, "CLIENT", "PAUSE", "1000", "ALL") == "+OK"
        started = time.monotonic()
        await subscriber.subscribe(TOPIC, timeout=5)
        waited = time.monotonic() - started
        assert waited > 0.7, f"SUBSCRIBED after {waited:.3f} s, before Redis confirmed"
        # A publication elsewhere right after it is not missed.
        async with await WampV1Client.connect(n2.url) as publisher:
            await publisher.publish(TOPIC, "right-after")
        assert await collect(subscriber, 1) == ["right-after"]
        await subscriber.close()

    run(scenario())


def test_nodes_leave_redis_channels_no_one_needs(nodes, redis):
    def channels():
        reply = redis_command(redis.port, "PUBSUB", "CHANNELS", "*", lines=True)
        return [line for line in reply if line.endswith(":" + TOPIC)]

    async def scenario():
        client = await V2.join(nodes[0].url)
        await client.subscribe(TOPIC)
        assert len(channels()) == 1
        await client.close()
        deadline = time.monotonic() + 3
        while channels() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert channels() == []

    run(scenario())


# ---- Redis trouble ----


async def acknowledged_error_within(node, seconds):
    """Publishes acknowledged every 100 ms on `node` until one is answered with
    cluster_unavailable; returns the seconds it took."""
    publisher = await V2.join(node.url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            reply = await publisher.publish(TOPIC, ["ack?"], acknowledge=True)
            if reply[0] == ERROR:
                assert reply[4] == CLUSTER_UNAVAILABLE, reply
                return time.monotonic() - started
            assert reply[0] == PUBLISHED, reply
            await asyncio.sleep(0.1)
        raise AssertionError(f"publications still acknowledged {seconds} s into the trouble")
    finally:
        await publisher.close()


def test_redis_killed_and_restarted(nodes, redis):
    async def scenario():
        n1, n2, _ = nodes
        local = await v1_subscriber(n1)
        remote = await V2.join(n2.url)
        await remote.subscribe(TOPIC)
        await wait_cluster_delivers(n1, remote, "before")
        redis.kill()
        noticed = await acknowledged_error_within(n1, 3.0)
        # wampctl's publication reaches this node only, and wampctl says so.
        rc, _, err = run_wampctl("--url", n1.url, "--timeout", "5", "publish", TOPIC, '"ctl"')
        assert rc != 0 and "cluster is unreachable" in err, (rc, err)
        # The node keeps delivering its own publications.
        async with await WampV1Client.connect(n1.url) as publisher:
            await publisher.publish(TOPIC, "local-while-away")
        got = await collect(local, 1, timeout=TIMEOUT)
        while got[-1] != "local-while-away":
            got += await collect(local, 1)
        redis.start()
        back = await wait_cluster_delivers(n1, remote, "after", timeout=8)
        assert back < 5.0, f"cluster delivery {back:.2f} s after Redis came back"
        assert "Redis subscription connection lost" in n2.log()
        for client in (local, remote):
            await client.close()
        return noticed

    noticed = run(scenario())
    print(f"kill noticed after {noticed:.2f} s")
    assert noticed <= 3.0


def test_redis_stopped_for_five_seconds(nodes, redis):
    async def scenario():
        n1, n2, _ = nodes
        remote = await V2.join(n2.url)
        await remote.subscribe(TOPIC)
        await wait_cluster_delivers(n1, remote, "before")
        os.kill(redis.process.pid, signal.SIGSTOP)
        stopped = time.monotonic()
        try:
            noticed = await acknowledged_error_within(n1, 4.0)
            await asyncio.sleep(max(0, 5 - (time.monotonic() - stopped)))
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        back = await wait_cluster_delivers(n1, remote, "after", timeout=8)
        assert back < 5.0, f"cluster delivery {back:.2f} s after Redis resumed"
        await remote.close()
        return noticed

    noticed = run(scenario())
    # A PING unanswered for 2 s, checked every 0.5 s: at most 3 s, plus the probe's own
    # 0.1 s polling and round trip.
    print(f"SIGSTOP noticed after {noticed:.2f} s")
    assert noticed <= 3.3, noticed


def test_pubsub_connections_killed(nodes, redis):
    async def scenario():
        n1, n2, _ = nodes
        remote = await V2.join(n2.url)
        await remote.subscribe(TOPIC)
        await wait_cluster_delivers(n1, remote, "before")
        assert redis_command(redis.port, "CLIENT", "KILL", "TYPE", "pubsub").startswith(":")
        back = await wait_cluster_delivers(n1, remote, "after", timeout=8)
        assert back < 5.0
        await remote.close()

    run(scenario())


def test_a_node_killed_while_the_others_serve(nodes):
    async def scenario():
        n1, n2, n3 = nodes
        doomed = await v1_subscriber(n3)
        survivor = await V2.join(n2.url)
        await survivor.subscribe(TOPIC)
        await wait_cluster_delivers(n1, survivor, "before")
        n3.process.kill()
        n3.process.wait()
        n3.reaped = True
        assert await doomed.wait_closed() == 1006
        async with await WampV1Client.connect(n1.url) as publisher:
            for i in range(10):
                await publisher.publish(TOPIC, {"after": i})
        got = []
        while len(got) < 10:
            event = await payload_of(survivor)
            if isinstance(event, dict) and "after" in event:
                got.append(event["after"])
        assert got == list(range(10))
        await survivor.close()

    run(scenario())


# ---- seeing the cluster ----


def test_stats_show_every_node(nodes):
    async def scenario():
        clients = [await v1_subscriber(node) for node in nodes]
        await asyncio.sleep(2.5)  # a report from each node (every second)
        rc, out, err = run_wampctl("--url", nodes[0].url, "--timeout", "5", "stats")
        assert rc == 0, err
        line = [l for l in out.splitlines() if l.startswith("cluster: ")]
        assert line, out
        cluster = json.loads(line[0][len("cluster: "):])
        assert cluster["node"] == "n1"
        assert cluster["redis_connected"] is True
        assert sorted(n["node"] for n in cluster["nodes"]) == ["n1", "n2", "n3"]
        assert not any(n["stale"] for n in cluster["nodes"])
        assert cluster["total"]["nodes"] == 3
        assert cluster["total"]["sessions"] >= 3
        # wampctl topics: this node's subscribers of the cluster's.
        rc, out, err = run_wampctl("--url", nodes[1].url, "--timeout", "5", "topics")
        assert rc == 0, err
        row = [line for line in out.splitlines() if " oro/data/update " in line]
        assert row and " 1 of 3 " in row[0], out
        for client in clients:
            await client.close()

    run(scenario())


def test_a_node_that_stops_reporting_is_marked_stale(nodes):
    async def scenario():
        await asyncio.sleep(1.5)  # every node reported at least once
        nodes[2].process.kill()
        nodes[2].process.wait()
        nodes[2].reaped = True
        await asyncio.sleep(4)
        rc, out, err = run_wampctl("--url", nodes[0].url, "--timeout", "5", "stats")
        assert rc == 0, err
        cluster = json.loads([l for l in out.splitlines() if l.startswith("cluster: ")][0][9:])
        stale = {n["node"]: n["stale"] for n in cluster["nodes"]}
        assert stale == {"n1": False, "n2": False, "n3": True}, stale
        assert cluster["total"]["nodes"] == 2

    run(scenario())


def test_cluster_metrics(nodes):
    async def scenario():
        subscriber = await V2.join(nodes[1].url)
        await subscriber.subscribe(TOPIC)
        async with await WampV1Client.connect(nodes[0].url) as publisher:
            for i in range(5):
                await publisher.publish(TOPIC, i)
        assert await collect(subscriber, 5) == list(range(5))
        await subscriber.close()

    run(scenario())

    def metrics(node):
        with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/metrics", timeout=5) as r:
            return {line.split(" ")[0]: float(line.split(" ")[1])
                    for line in r.read().decode().splitlines()
                    if line.startswith("wampd_cluster_")}

    sender, receiver = metrics(nodes[0]), metrics(nodes[1])
    assert sender["wampd_cluster_redis_connected"] == 1
    assert sender["wampd_cluster_events_forwarded_total"] == 5
    assert sender["wampd_cluster_redis_writes_total"] >= 1
    assert receiver["wampd_cluster_events_received_total"] == 5
    assert receiver["wampd_cluster_events_not_forwarded_total"] == 0


def test_without_a_cluster_section_there_is_no_cluster(wampd):
    rc, out, err = run_wampctl("--url", wampd.url, "--timeout", "5", "stats")
    assert rc == 0, err
    assert "cluster:" not in out
    with urllib.request.urlopen(f"http://127.0.0.1:{wampd.port}/metrics", timeout=5) as r:
        assert "wampd_cluster_" not in r.read().decode()


# ---- pattern subscriptions (v2 match: prefix / wildcard) ----

# Topics of dotted and of literal-glob-character URIs, served by the bundled broadcast handler
# (it passes each publication on to every subscriber).
PATTERN_ROUTES = """\
app.any:
  channel: 'app.{kind}.{id}'
  handler: { callback: 'oro_sync.data_update' }
lit.any:
  channel: 'lit/{x}'
  handler: { callback: 'oro_sync.data_update' }
"""
UNSUBSCRIBE, UNSUBSCRIBED = 34, 35


@pytest.fixture
def pattern_nodes(redis, wampd_factory, tmp_path):
    """Three nodes serving PATTERN_ROUTES besides the bundled routes."""
    routes = tmp_path / "pattern-routes.yml"
    routes.write_text(PATTERN_ROUTES)
    prefix = "t" + uuid.uuid4().hex[:8]
    started = []
    for i in (1, 2, 3):
        config = node_config(redis, f"n{i}", prefix)
        config["routing"] = config["routing"] + [str(routes)]
        started.append(wampd_factory(config=config))
    for node in started:
        node.wait_for_log("receiving through Redis", timeout=10)
    return started


async def subscribe_match(client, match, pattern, timeout=TIMEOUT):
    request = client.next_request()
    await client.send([SUBSCRIBE, request, {"match": match}, pattern])
    reply = await client.answer(request, timeout)
    assert reply[0] == SUBSCRIBED, reply
    return reply[2]


async def unsubscribe(client, subscription):
    request = client.next_request()
    await client.send([UNSUBSCRIBE, request, subscription])
    reply = await client.answer(request)
    assert reply[0] == UNSUBSCRIBED, reply


async def pattern_events(client, count, timeout=TIMEOUT):
    """The next `count` events as (subscription, topic, payload); an exact subscription's
    event names no topic (None)."""
    got = []
    for _ in range(count):
        message = await client.event(timeout)
        got.append((message[1], message[3].get("topic"), message[4][0]))
    return got


def numpat(redis):
    return int(redis_command(redis.port, "PUBSUB", "NUMPAT")[1:])


def test_pattern_subscribers_get_every_nodes_events_once_and_in_order(pattern_nodes, redis):
    async def scenario():
        n1, n2, n3 = pattern_nodes
        prefix_client = await V2.join(n2.url, "json")
        wildcard_client = await V2.join(n2.url, "msgpack")
        both = await V2.join(n2.url, "json")
        literal = await V2.join(n2.url, "json")
        by_prefix = await subscribe_match(prefix_client, "prefix", "app.news.")
        by_wildcard = await subscribe_match(wildcard_client, "wildcard", "app..1")
        # One session, an exact and a pattern subscription to one topic: an event per
        # subscription, as a node alone delivers it.
        exact = await both.subscribe("app.news.1")
        both_prefix = await subscribe_match(both, "prefix", "app.news.")
        # Redis's glob characters in a pattern are literal ('[' unescaped would match nothing).
        by_literal = await subscribe_match(literal, "prefix", "lit/a*b?[")
        assert numpat(redis) == 3  # "app.news." twice is one glob
        # Node 2 has no exact subscriber for any of these but app.news.1.
        topics = ["app.news.1", "app.sport.1", "app.news.2", "app.x.y.1", "app.sport.2",
                  "lit/a*b?[c]", "lit/aXb?[c]"]
        per_topic = 5
        publishers = {"n1": await WampV1Client.connect(n1.url),
                      "n3": await WampV1Client.connect(n3.url)}
        for i in range(per_topic):
            for origin, publisher in publishers.items():
                for topic in topics:
                    await publisher.publish(topic, {"from": origin, "topic": topic, "n": i})

        def expected(matching):
            return {(origin, topic): list(range(per_topic)) for origin in publishers
                    for topic in topics if matching(topic)}

        def sorted_by_origin(events, subscription_ids):
            out = {}
            for subscription, topic, payload in events:
                assert subscription in subscription_ids, (subscription, subscription_ids)
                if topic is not None:
                    assert topic == payload["topic"], (topic, payload)
                out.setdefault((payload["from"], payload["topic"]), []).append(payload["n"])
            return out

        news = lambda t: t.startswith("app.news.")
        got = await pattern_events(prefix_client, 2 * 2 * per_topic)
        assert sorted_by_origin(got, {by_prefix}) == expected(news)
        # app..1 is app.*.1 in Redis: app.x.y.1 arrives there and is filtered out here.
        got = await pattern_events(wildcard_client, 2 * 2 * per_topic)
        assert sorted_by_origin(got, {by_wildcard}) == expected(
            lambda t: t in ("app.news.1", "app.sport.1"))
        got = await pattern_events(both, 2 * 3 * per_topic)
        per_subscription = {}
        for subscription, _, payload in got:
            key = (subscription, payload["from"], payload["topic"])
            per_subscription.setdefault(key, []).append(payload["n"])
        assert per_subscription == {
            **{(exact, o, "app.news.1"): list(range(per_topic)) for o in publishers},
            **{(both_prefix, o, t): list(range(per_topic)) for o in publishers
               for t in ("app.news.1", "app.news.2")},
        }, per_subscription
        got = await pattern_events(literal, 2 * per_topic)
        assert sorted_by_origin(got, {by_literal}) == expected(lambda t: t == "lit/a*b?[c]")
        for client in (prefix_client, wildcard_client, both, literal):
            await expect_nothing(client, 0.3)

        # Redis forgets this node's subscriber connection: the globs come back with it.
        assert redis_command(redis.port, "CLIENT", "KILL", "TYPE", "pubsub").startswith(":")
        deadline = time.monotonic() + 8
        n = 0
        while True:
            assert time.monotonic() < deadline, "no pattern delivery after the reconnect"
            n += 1
            await publishers["n1"].publish("app.news.9", {"from": "probe", "topic": "x", "n": n})
            try:
                message = await prefix_client.event(0.2)
                if message[4][0]["from"] == "probe":
                    break
            except asyncio.TimeoutError:
                pass

        # The last pattern subscriber leaving takes the node's glob out of Redis.
        await unsubscribe(prefix_client, by_prefix)
        assert numpat(redis) == 3
        await unsubscribe(both, both_prefix)
        await unsubscribe(wildcard_client, by_wildcard)
        await literal.close()
        deadline = time.monotonic() + 3
        while numpat(redis) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert numpat(redis) == 0
        for client in [prefix_client, wildcard_client, both, *publishers.values()]:
            await client.close()

    run(scenario())


def test_pattern_subscribed_only_once_the_node_receives_it(pattern_nodes, redis):
    async def scenario():
        n1, n2, _ = pattern_nodes
        subscriber = await V2.join(n2.url)
        assert redis_command(redis.port, "CLIENT", "PAUSE", "1000", "ALL") == "+OK"
        started = time.monotonic()
        subscription = await subscribe_match(subscriber, "wildcard", "app..7")
        waited = time.monotonic() - started
        assert waited > 0.7, f"SUBSCRIBED after {waited:.3f} s, before Redis confirmed"
        async with await WampV1Client.connect(n1.url) as publisher:
            await publisher.publish("app.news.7", "right-after")
        message = await subscriber.event()
        assert (message[1], message[3]["topic"], message[4]) == (
            subscription, "app.news.7", ["right-after"])
        await subscriber.close()

    run(scenario())


# ---- Redis over a unix socket, and with a password ----


def test_redis_over_a_unix_socket(wampd_factory, tmp_path):
    # A short directory: a unix socket's path has at most 107 bytes; tmp_path may be longer.
    directory = tempfile.mkdtemp(prefix="wampd-redis-", dir="/tmp")
    socket_path = os.path.join(directory, "redis.sock")
    redis = Redis(tmp_path, ["--unixsocket", socket_path, "--unixsocketperm", "700"])
    try:
        prefix = "t" + uuid.uuid4().hex[:8]
        url = f"unix://{socket_path}?db=0"
        n1, n2 = [wampd_factory(config=default_config(
            cluster={"redis": url, "prefix": prefix, "node": f"n{i}"}, log_level="info"))
            for i in (1, 2)]
        for node in (n1, n2):
            node.wait_for_log("receiving through Redis at unix://" + socket_path, timeout=10)

        async def scenario():
            a, b = await v1_subscriber(n1), await V2.join(n2.url, "msgpack")
            await b.subscribe(TOPIC)
            await asyncio.sleep(0.2)
            for node, text in ((n1, "from-n1"), (n2, "from-n2")):
                async with await WampV1Client.connect(node.url) as publisher:
                    await publisher.publish(TOPIC, text)
            assert await collect(a, 2) == ["from-n1", "from-n2"]
            assert await collect(b, 2) == ["from-n1", "from-n2"]
            # Both nodes' eight connections (events and calls, a command and a subscriber
            # connection each) are on the socket, none on TCP.
            raw = socket.create_connection(("127.0.0.1", redis.port), timeout=2)
            with raw:
                raw.sendall(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n")
                listing = b""
                while not listing.endswith(b"\r\n") or listing.count(b"\n") < 2:
                    listing += raw.recv(65536)
            assert listing.decode().count(" addr=" + socket_path) == 8, listing
            for client in (a, b):
                await client.close()

        run(scenario())
    finally:
        redis.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_redis_with_a_password(wampd_factory, tmp_path, monkeypatch):
    password = "s3cret:/@%"
    redis = Redis(tmp_path, ["--requirepass", password])
    try:
        prefix = "t" + uuid.uuid4().hex[:8]

        def node(name, url):
            return wampd_factory(config=default_config(
                cluster={"redis": url, "prefix": prefix, "node": name}, log_level="info"))

        # In the URL (percent-escaped), and from $WAMPD_REDIS_PASSWORD with none in the URL.
        escaped = urllib.parse.quote(password, safe="")
        in_url = node("n1", f"redis://:{escaped}@127.0.0.1:{redis.port}/0")
        monkeypatch.setenv("WAMPD_REDIS_PASSWORD", password)
        from_env = node("n2", redis.url)
        monkeypatch.delenv("WAMPD_REDIS_PASSWORD")
        wrong = node("n3", f"redis://:wrong@127.0.0.1:{redis.port}/0")
        for good in (in_url, from_env):
            good.wait_for_log("receiving through Redis", timeout=10)
        # A wrong password: one clear line (not one per retry), and the node serves alone.
        wrong.wait_for_log("cannot use Redis at", timeout=10)

        async def scenario():
            subscribers = [await V2.join(n.url) for n in (in_url, from_env, wrong)]
            for client in subscribers:
                await client.subscribe(TOPIC)
            for origin in (in_url, from_env, wrong):
                async with await WampV1Client.connect(origin.url) as publisher:
                    await publisher.publish(TOPIC, origin.log_path.name)
            names = [n.log_path.name for n in (in_url, from_env, wrong)]
            assert await collect(subscribers[0], 2) == names[:2]
            assert await collect(subscribers[1], 2) == names[:2]
            assert await collect(subscribers[2], 1) == names[2:]
            for client in subscribers:
                await expect_nothing(client, 0.3)
                await client.close()

        run(scenario())
        lines = [line for line in wrong.log().splitlines() if "cannot use Redis" in line]
        assert len(lines) == 1, lines
        assert "WRONGPASS" in lines[0] and "$WAMPD_REDIS_PASSWORD" in lines[0], lines[0]
        assert password not in wrong.log() and password not in in_url.log()
    finally:
        redis.stop()


# ---- reload on one node while the cluster serves ----


def test_reload_on_one_node_while_the_cluster_serves(redis, wampd_factory, tmp_path):
    prefix = "t" + uuid.uuid4().hex[:8]
    routing = tmp_path / "node2-routing"
    routing.mkdir()
    configs = [node_config(redis, f"n{i}", prefix) for i in (1, 2, 3)]
    configs[1]["routing"] = configs[1]["routing"] + [str(routing)]
    nodes = [wampd_factory(config=config) for config in configs]
    for node in nodes:
        node.wait_for_log("receiving through Redis", timeout=10)
    n1, n2, n3 = nodes
    per_origin = 120

    async def scenario():
        subscribers = [await v1_subscriber(n) for n in nodes]
        for node, serializer in ((n1, "json"), (n2, "msgpack"), (n3, "json")):
            client = await V2.join(node.url, serializer)
            await client.subscribe(TOPIC)
            subscribers.append(client)
        await asyncio.sleep(0.2)  # v1 SUBSCRIBE has no answer

        async def flow(node, origin):
            async with await WampV1Client.connect(node.url) as publisher:
                for i in range(per_origin):
                    await publisher.publish(TOPIC, {"from": origin, "n": i})
                    await asyncio.sleep(0.01)

        async def reload_node2():
            await asyncio.sleep(0.4)  # well into the flow
            staged = tmp_path / "fresh.yml"
            staged.write_text("fresh.any:\n  channel: 'fresh/{x}'\n"
                              "  handler: { callback: 'oro_sync.data_update' }\n")
            os.rename(staged, routing / "fresh.yml")
            n2.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while "routes (+1 -0)" not in n2.log():
                assert time.monotonic() < deadline, n2.log()
                await asyncio.sleep(0.05)

        await asyncio.gather(flow(n1, "n1"), flow(n3, "n3"), reload_node2())
        for client in subscribers:
            got = await collect(client, 2 * per_origin)
            await expect_nothing(client, 0.3)
            by_origin = {}
            for event in got:
                by_origin.setdefault(event["from"], []).append(event["n"])
            assert by_origin == {"n1": list(range(per_origin)),
                                 "n3": list(range(per_origin))}, by_origin

        # The new route serves on node 2 (and only there: the others' routing did not change).
        fresh = await V2.join(n2.url)
        await fresh.subscribe("fresh/1")
        reply = await fresh.publish("fresh/1", ["new"], acknowledge=True, exclude_me=False)
        assert reply[0] == PUBLISHED, reply
        assert (await fresh.event())[4] == ["new"]
        elsewhere = await V2.join(n1.url)
        request = elsewhere.next_request()
        await elsewhere.send([SUBSCRIBE, request, {}, "fresh/1"])
        assert (await elsewhere.answer(request))[0] == ERROR
        for client in subscribers + [fresh, elsewhere]:
            await client.close()

    run(scenario())
    assert "reload (" in n2.log() and "reload (" not in n1.log() + n3.log()


# ---- session ids ----


def test_session_ids_are_disjoint_across_nodes(nodes, redis):
    for node in nodes:
        node.wait_for_log("node number", timeout=5)
    # One INCR per node start.
    key = redis_command(redis.port, "KEYS", "*!node-number", lines=True)
    assert len(key) == 1, key
    assert redis_command(redis.port, "GET", key[0], lines=True) == ["3"]

    async def scenario():
        numbers = []
        for node in nodes:
            clients = [await V2.join(node.url) for _ in range(4)]
            clients += [await WampV1Client.connect(node.url) for _ in range(2)]
            ids = [c.session_id if isinstance(c, V2) else int(c.session_id) for c in clients]
            assert all(0 < i < 2 ** 53 for i in ids), ids
            # The node's number on top (bits 37..52), the same for all its sessions.
            tops = {i >> 37 for i in ids}
            assert len(tops) == 1 and 1 <= min(tops) <= 3, (node.url, ids)
            numbers.append(tops.pop())
            for client in clients:
                await client.close()
        assert sorted(numbers) == [1, 2, 3], numbers

    run(scenario())
