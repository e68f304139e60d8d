"""WAMP v1 as Oro's clients speak it, against a real wampd serving the bundled plugins and
the `sample` fixture plugin: WELCOME, PREFIX/CURIEs, CALL, SUBSCRIBE/UNSUBSCRIBE, PUBLISH
with exclude/eligible, the errors that close a connection and those that do not, and the
per-connection limits.

Delivery is checked frame by frame: the server writes one connection's frames in the order
it produced them, so "the next frame is X" proves that nothing else came before X, and a
marker published afterwards proves that an event was not delivered without waiting for it.
"""

import asyncio
import contextlib
import json

import pytest
import websockets

from wamp_client import CALL, CALLERROR, CALLRESULT, EVENT, WampV1Client, run

SERVER_IDENT = "wampd/0.1.0"
MAINTENANCE = "oro/maintenance"
DATA_UPDATE = "oro/data/update"
THROWING = "sample/throwing"
UNROUTED = "no/such/topic"
SESSION_ID_MAX = 2**53


def php_json(value):
    """`value` as PHP's json_encode writes it: compact, `/` as `\\/`, non-ASCII as
    lowercase \\u escapes. Outside strings JSON has no `/`, so one replace is exact."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/")


def event_text(topic, event):
    return php_json([EVENT, topic, event])


async def call_next(client, procedure, *args, call_id="barrier"):
    """Sends a CALL and returns the very next frame, parsed: nothing may come before the
    answer."""
    await client.send([CALL, call_id, procedure, *args])
    return await client.recv()


async def barrier(client):
    """Returns once the server handled everything `client` sent before: it handles one
    connection's messages in order and answers `wampd.topics` at once. Fails if any other
    frame (an acknowledgement, an event) arrives first."""
    reply = await call_next(client, "wampd.topics")
    assert reply[:2] == [CALLRESULT, "barrier"], reply


async def expect_event(client, topic, event):
    """The next frame is exactly the EVENT PHP would have written."""
    assert await client.recv_raw() == event_text(topic, event)


async def topics_by_name(client):
    """The server's routes (`wampd.topics`) by route name."""
    reply = await call_next(client, "wampd.topics")
    assert reply[0] == CALLRESULT, reply
    return {route["name"]: route for route in reply[2]}


async def wait_for_subscribers(client, route, count, timeout=10.0):
    """Polls until `route` has `count` subscribers; returns the routes then."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        routes = await topics_by_name(client)
        if routes[route]["subscribers"] == count:
            return routes
        assert asyncio.get_running_loop().time() < deadline, routes
        await asyncio.sleep(0.02)


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


# ---- WELCOME ----


def test_welcome_is_the_first_frame_with_a_string_session_id(sample_wampd):
    async def scenario():
        ws = await websockets.connect(sample_wampd.url, subprotocols=["wamp"],
                                      ping_interval=None, open_timeout=5, close_timeout=5)
        try:
            assert ws.subprotocol == "wamp"
            return await asyncio.wait_for(ws.recv(), 5)
        finally:
            await ws.close()

    text = run(scenario())
    welcome = json.loads(text)
    assert welcome == [0, welcome[1], 1, SERVER_IDENT]
    session_id = welcome[1]
    assert isinstance(session_id, str) and session_id.isdigit(), welcome
    assert 1 <= int(session_id) <= SESSION_ID_MAX, welcome
    assert text == f'[0,"{session_id}",1,"wampd\\/0.1.0"]'


def test_welcome_without_a_subprotocol_offered(sample_wampd):
    async def scenario():
        async with await WampV1Client.connect(sample_wampd.url, subprotocols=()) as client:
            assert client.subprotocol is None
            return client.welcome

    welcome = run(scenario())
    assert welcome == [0, welcome[1], 1, SERVER_IDENT]


def test_session_ids_are_unique_per_connection(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 30) as clients:
            return [client.session_id for client in clients]

    ids = run(scenario())
    assert len(set(ids)) == len(ids), ids


# ---- PREFIX and CURIEs ----


def test_curie_in_subscribe_receives_events_under_the_expanded_topic(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2) as (subscriber, publisher):
            await subscriber.prefix("oro", "oro/")
            await subscriber.subscribe("oro:maintenance")
            await barrier(subscriber)
            await publisher.publish(MAINTENANCE, {"isOn": True, "userId": None})
            await expect_event(subscriber, MAINTENANCE, {"isOn": True, "userId": None})

    run(scenario())


def test_curie_in_publish_reaches_subscribers_of_the_expanded_topic(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2) as (subscriber, publisher):
            await subscriber.subscribe(MAINTENANCE)
            await barrier(subscriber)
            await publisher.prefix("o", "oro/")
            await publisher.publish("o:maintenance", "via curie")
            await expect_event(subscriber, MAINTENANCE, "via curie")

    run(scenario())


def test_curie_in_unsubscribe_stops_delivery(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2) as (subscriber, publisher):
            await subscriber.prefix("oro", "oro/")
            await subscriber.subscribe(MAINTENANCE)
            await subscriber.subscribe(DATA_UPDATE)
            await subscriber.unsubscribe("oro:maintenance")
            await barrier(subscriber)
            await publisher.publish(MAINTENANCE, "not for you")
            await publisher.publish(DATA_UPDATE, "marker")
            await expect_event(subscriber, DATA_UPDATE, "marker")

    run(scenario())


def test_curie_in_call_and_redefined_prefix(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            await client.prefix("s", "elsewhere/")
            await client.prefix("s", "sample/")
            assert await call_next(client, "s:sum", 2, 3, call_id="c1") == [CALLRESULT, "c1", 5]

    run(scenario())


def test_curie_expands_to_the_prefix_uri_followed_by_the_rest(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            # Not "oro/" + "/update": the prefix's URI is used as it is.
            await client.prefix("od", "oro/data/")
            await client.subscribe("od:update")
            await client.publish("od:update", [1], False)
            await expect_event(client, DATA_UPDATE, [1])

    run(scenario())


def test_call_with_an_unknown_prefix_keeps_the_uri_and_finds_no_route(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            await client.prefix("s", "sample/")
            reply = await call_next(client, "t:sum", 1, call_id="c1")
            assert reply == [CALLERROR, "c1", "t:sum", 'No route matches procedure "t:sum"',
                             {"code": 404, "rpc": "t:sum", "params": [1]}]
            assert await call_next(client, "s:sum", 1, call_id="c2") == [CALLRESULT, "c2", 1]

    run(scenario())


# ---- CALL ----


def test_call_result_echoes_the_call_id_exactly(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            call_id = 'id/with "quotes", ü and ☃'
            await client.send([CALL, call_id, "sample/sum", 1, 2, 3])
            return await client.recv_raw(), call_id

    text, call_id = run(scenario())
    assert json.loads(text) == [CALLRESULT, call_id, 6]
    assert text == '[3,"id\\/with \\"quotes\\", \\u00fc and \\u2603",6]'


@pytest.mark.parametrize("procedure, args, result", [
    ("sample/sum", [], 0),
    ("sample/sum", [40, 2], 42),
    ("sample/sum", [1.5, 2], 3.5),
    ("sample/echo", [], []),
    ("sample/echo", ["a/b", {"k": [1, None, True]}, "é"], ["a/b", {"k": [1, None, True]}, "é"]),
])
def test_call_result(sample_wampd, procedure, args, result):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            await client.send([CALL, "c1", procedure, *args])
            return await client.recv_raw()

    assert run(scenario()) == php_json([CALLRESULT, "c1", result])


@pytest.mark.parametrize("procedure, args, desc, details", [
    ("sample/fail", [1, "x"], "sample failure",
     {"code": 500, "rpc": "sample/fail", "params": [1, "x"],
      "error": "wampd.error.handler_failed"}),
    ("sample/nope", [], "sample.rpc has no method 'nope'",
     {"code": 404, "rpc": "sample/nope", "params": [],
      "error": "wamp.error.no_such_procedure"}),
    ("sample/sum", ["x"], "sum takes numbers only",
     {"code": 400, "rpc": "sample/sum", "params": ["x"],
      "error": "wamp.error.invalid_argument"}),
    ("nowhere/proc", [], 'No route matches procedure "nowhere/proc"',
     {"code": 404, "rpc": "nowhere/proc", "params": []}),
])
def test_call_error_keeps_the_connection(sample_wampd, procedure, args, desc, details):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            error = await call_next(client, procedure, *args, call_id="c1")
            after = await call_next(client, "sample/sum", 1, 1, call_id="c2")
            return error, after

    error, after = run(scenario())
    assert error == [CALLERROR, "c1", procedure, desc, details]
    assert after == [CALLRESULT, "c2", 2]


# ---- SUBSCRIBE / UNSUBSCRIBE ----


def test_subscribe_and_unsubscribe_are_not_acknowledged(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            await client.subscribe(MAINTENANCE)
            await barrier(client)
            await client.unsubscribe(MAINTENANCE)
            await barrier(client)

    run(scenario())


def test_duplicate_subscribe_delivers_each_event_once(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2) as (subscriber, publisher):
            await subscriber.subscribe(MAINTENANCE)
            await subscriber.subscribe(MAINTENANCE)
            await subscriber.subscribe(DATA_UPDATE)
            await barrier(subscriber)
            await publisher.publish(MAINTENANCE, "once")
            await publisher.publish(DATA_UPDATE, "marker")
            await expect_event(subscriber, MAINTENANCE, "once")
            await expect_event(subscriber, DATA_UPDATE, "marker")

    run(scenario())


def test_one_unsubscribe_ends_a_duplicated_subscription(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2) as (subscriber, publisher):
            for topic in (MAINTENANCE, MAINTENANCE, DATA_UPDATE):
                await subscriber.subscribe(topic)
            await subscriber.unsubscribe(MAINTENANCE)
            await barrier(subscriber)
            await publisher.publish(MAINTENANCE, "not for you")
            await publisher.publish(DATA_UPDATE, "marker")
            await expect_event(subscriber, DATA_UPDATE, "marker")

    run(scenario())


def test_unsubscribe_stops_delivery_and_subscribe_again_resumes_it(sample_wampd):
    async def scenario():
        topics = [MAINTENANCE, DATA_UPDATE]
        async with connected(sample_wampd, 2, topics) as (subscriber, publisher):
            await publisher.publish(MAINTENANCE, 1)
            await expect_event(subscriber, MAINTENANCE, 1)
            await subscriber.unsubscribe(MAINTENANCE)
            await barrier(subscriber)
            await publisher.publish(MAINTENANCE, 2)
            await publisher.publish(DATA_UPDATE, "marker")
            await expect_event(subscriber, DATA_UPDATE, "marker")
            await subscriber.subscribe(MAINTENANCE)
            await barrier(subscriber)
            await publisher.publish(MAINTENANCE, 3)
            await expect_event(subscriber, MAINTENANCE, 3)

    run(scenario())


def test_unsubscribe_from_a_topic_never_subscribed_is_ignored(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2, [DATA_UPDATE]) as (client, other):
            # Routed, but nobody subscribed; and routed with subscribers, but not this client.
            await client.unsubscribe(MAINTENANCE)
            await other.subscribe(MAINTENANCE)
            await barrier(other)
            await client.unsubscribe(MAINTENANCE)
            await barrier(client)
            await client.publish(MAINTENANCE, "still served", False)
            await expect_event(other, MAINTENANCE, "still served")
            await client.publish(DATA_UPDATE, "me too", False)
            await expect_event(client, DATA_UPDATE, "me too")

    run(scenario())


# ---- PUBLISH: exclude and eligible ----


async def publish_to_three(server, publish_rest):
    """Clients a, b, c subscribe to MAINTENANCE; a publishes [7, topic, "e", *rest] with
    `publish_rest(ids)` (ids: session ids by name); then a marker goes to everyone. Returns
    the names that received "e"."""
    async with connected(server, 3, [MAINTENANCE]) as clients:
        names = dict(zip("abc", clients))
        ids = {name: client.session_id for name, client in names.items()}
        await names["a"].publish(MAINTENANCE, "e", *publish_rest(ids))
        await names["a"].publish(MAINTENANCE, "marker", False)
        received = set()
        for name, client in names.items():
            first = await client.recv_raw()
            if first == event_text(MAINTENANCE, "e"):
                received.add(name)
                first = await client.recv_raw()
            assert first == event_text(MAINTENANCE, "marker"), (name, first)
        return received


@pytest.mark.parametrize("publish_rest, expected", [
    (lambda ids: [], "abc"),
    (lambda ids: [True], "bc"),
    (lambda ids: [False], "abc"),
    (lambda ids: [[ids["b"]]], "ac"),
    (lambda ids: [[ids["a"], ids["c"]]], "b"),
    (lambda ids: [[], [ids["c"]]], "c"),
    (lambda ids: [False, [ids["a"], ids["b"]]], "ab"),
    (lambda ids: [True, [ids["a"], ids["b"]]], "b"),
    (lambda ids: [[ids["b"]], [ids["a"], ids["b"]]], "a"),
    (lambda ids: [[], []], "abc"),
    (lambda ids: [[], ["123"]], ""),
], ids=[
    "no exclude", "exclude me", "exclude false", "exclude list", "exclude two",
    "eligible list", "eligible with exclude false", "eligible with exclude me",
    "exclude and eligible", "empty lists as Oro sends", "eligible nobody subscribed",
])
def test_publish_exclude_and_eligible(sample_wampd, publish_rest, expected):
    assert run(publish_to_three(sample_wampd, publish_rest)) == set(expected)


def test_event_reaches_every_other_subscriber_exactly_once_byte_for_byte(sample_wampd):
    payload = {"url": "http://example.com/a/b", "name": "Zoë", "emoji": "😀",
               "list": [1, -2, 2.5, None, True, False, "", {}], "nested": {"q": '"\\'}}
    expected = ('[8,"oro\\/maintenance",{"url":"http:\\/\\/example.com\\/a\\/b",'
                '"name":"Zo\\u00eb","emoji":"\\ud83d\\ude00",'
                '"list":[1,-2,2.5,null,true,false,"",{}],"nested":{"q":"\\"\\\\"}}]')
    assert event_text(MAINTENANCE, payload) == expected

    async def scenario():
        async with connected(sample_wampd, 4, [MAINTENANCE, DATA_UPDATE]) as clients:
            publisher, *subscribers = clients
            await publisher.publish(MAINTENANCE, payload, True)
            await publisher.publish(DATA_UPDATE, "marker", False)
            for subscriber in subscribers:
                assert await subscriber.recv_raw() == expected
                await expect_event(subscriber, DATA_UPDATE, "marker")
            await expect_event(publisher, DATA_UPDATE, "marker")

    run(scenario())


def test_oro_maintenance_event_text(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2, [MAINTENANCE]) as (subscriber, publisher):
            await publisher.send_raw('[7,"oro/maintenance",{"isOn":true,"userId":null},[],[]]')
            assert await subscriber.recv_raw() == \
                '[8,"oro\\/maintenance",{"isOn":true,"userId":null}]'

    run(scenario())


# ---- errors that close the connection ----

BAD_MESSAGES = {
    "invalid JSON": '[5,"oro/maintenance"',
    "empty text": "",
    "trailing text": '[5,"oro/maintenance"] x',
    "lone surrogate": '[5,"\\ud800"]',
    "object": '{"0":5,"1":"oro/maintenance"}',
    "string": '"oro/maintenance"',
    "null": "null",
    "number": "5",
    "empty array": "[]",
    "string type": '["5","oro/maintenance"]',
    "fractional type": '[5.5,"oro/maintenance"]',
    "null type": '[null,"oro/maintenance"]',
    "array type": '[[5],"oro/maintenance"]',
    "unknown type": '[99,"oro/maintenance"]',
    "negative type": "[-1]",
    "WELCOME": '[0,"1",1,"x"]',
    "CALLRESULT": '[3,"c",1]',
    "CALLERROR": '[4,"c","u","d"]',
    "EVENT": '[8,"oro/maintenance",1]',
    "PREFIX without URI": '[1,"oro"]',
    "PREFIX integer URI": '[1,"oro",5]',
    "CALL without procedure": '[2,"c"]',
    "CALL integer procedure": '[2,"c",5]',
    "CALL object call id": '[2,{},"sample/sum"]',
    "SUBSCRIBE integer topic": "[5,42]",
    "SUBSCRIBE without topic": "[5]",
    "SUBSCRIBE extra field": '[5,"oro/maintenance","x"]',
    "UNSUBSCRIBE null topic": "[6,null]",
    "PUBLISH without event": '[7,"t"]',
    "PUBLISH integer topic": '[7,1,"e"]',
    "PUBLISH eligible not a list": '[7,"oro/maintenance","e",false,"1"]',
    "PUBLISH six fields": '[7,"oro/maintenance","e",false,[],[]]',
    "deep nesting": "[" * 5000 + "]" * 5000,
    "SUBSCRIBE without route": f'[5,"{UNROUTED}"]',
    "PUBLISH without route": f'[7,"{UNROUTED}","e"]',
    "SUBSCRIBE unknown prefix": '[5,"oro:maintenance"]',
    "PUBLISH unknown prefix": '[7,"oro:maintenance","e",[],[]]',
}


async def assert_closes_only_the_sender(server, bad_frame, code):
    """A client subscribed to MAINTENANCE sends `bad_frame` and is closed with `code`;
    a bystander, subscribed too, is still served afterwards, and the server forgot the
    closed client's subscription."""
    async with connected(server, 2, [MAINTENANCE]) as (bystander, victim):
        await victim.send_raw(bad_frame)
        assert await victim.wait_closed() == code
        await bystander.publish(MAINTENANCE, "still here", False)
        await expect_event(bystander, MAINTENANCE, "still here")
        await wait_for_subscribers(bystander, "oro_sync.maintenance", 1)


@pytest.mark.parametrize("text", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
def test_bad_message_closes_that_connection_with_1007(sample_wampd, text):
    run(assert_closes_only_the_sender(sample_wampd, text, 1007))


def test_binary_frame_closes_that_connection_with_1007(sample_wampd):
    run(assert_closes_only_the_sender(sample_wampd, b'[5,"oro/maintenance"]', 1007))


def test_messages_after_a_bad_one_are_not_handled(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2, [MAINTENANCE]) as (bystander, victim):
            await victim.send_raw("[99]")
            await victim.publish(MAINTENANCE, "too late", False)
            assert await victim.wait_closed() == 1007
            await bystander.publish(MAINTENANCE, "marker", False)
            await expect_event(bystander, MAINTENANCE, "marker")

    run(scenario())


# ---- a failing topic handler ----


def test_throwing_publish_handler_answers_callerror_and_keeps_the_connection(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2, [THROWING]) as (publisher, other):
            await publisher.publish(THROWING, "boom")
            error = await publisher.recv()
            await publisher.publish(THROWING, "fine", False)
            await expect_event(publisher, THROWING, "fine")
            await expect_event(other, THROWING, "fine")
            return error

    error = run(scenario())
    assert error == [CALLERROR, THROWING, THROWING, "boom",
                     {"code": 500, "topic": THROWING, "event": "onPublish"}]


def test_throwing_handler_error_names_the_expanded_topic(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            await client.prefix("s", "sample/")
            await client.publish("s:throwing", "boom")
            return await client.recv_raw()

    text = run(scenario())
    assert text == ('[4,"sample\\/throwing","sample\\/throwing","boom",'
                    '{"code":500,"topic":"sample\\/throwing","event":"onPublish"}]')


# ---- limits ----


def test_256_prefixes_are_allowed_and_the_257th_closes_with_1008(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 2, [MAINTENANCE]) as (bystander, client):
            for i in range(256):
                await client.prefix(f"p{i}", f"oro/{i}/")
            await client.prefix("p0", "sample/")  # redefining one is not a new one
            assert await call_next(client, "p0:sum", 7, call_id="c1") == [CALLRESULT, "c1", 7]
            await client.prefix("p256", "oro/")
            assert await client.wait_closed() == 1008
            await bystander.publish(MAINTENANCE, "still here", False)
            await expect_event(bystander, MAINTENANCE, "still here")

    run(scenario())


def test_a_prefix_uri_over_2048_bytes_closes_with_1008(sample_wampd):
    async def scenario():
        async with connected(sample_wampd, 1) as (client,):
            await client.prefix("ok", "x" * 2048)
            await barrier(client)
            await client.prefix("long", "x" * 2049)
            assert await client.wait_closed() == 1008

    run(scenario())


def test_survives_200_connections_dropped_without_a_close_frame(sample_wampd):
    async def open_subscribed():
        client = await WampV1Client.connect(sample_wampd.url)
        await client.subscribe(MAINTENANCE)
        await client.subscribe("sample/tick/drop")
        await barrier(client)
        return client

    async def scenario():
        async with connected(sample_wampd, 1, [MAINTENANCE]) as (survivor,):
            dropped = []
            for _ in range(4):
                dropped += await asyncio.gather(*(open_subscribed() for _ in range(50)))
            assert (await topics_by_name(survivor))["oro_sync.maintenance"]["subscribers"] == 201
            for i, client in enumerate(dropped):
                # Half end with FIN, half with RST: neither sends a WebSocket close frame.
                if i % 2:
                    client.ws.transport.abort()
                else:
                    client.ws.transport.close()
            # Publishing while the server may still hold some of them must not hurt it.
            for n in range(5):
                await survivor.publish(MAINTENANCE, n, False)
                await expect_event(survivor, MAINTENANCE, n)
            routes = await wait_for_subscribers(survivor, "oro_sync.maintenance", 1)
            assert routes["sample.tick"]["subscribers"] == 0
            async with connected(sample_wampd, 1, [MAINTENANCE]) as (late,):
                await late.publish(MAINTENANCE, "after", False)
                await expect_event(late, MAINTENANCE, "after")
                await expect_event(survivor, MAINTENANCE, "after")

    run(scenario())
