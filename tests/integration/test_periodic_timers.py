"""Periodic timers run only while their topic has subscribers.

The `sample` fixture's TickTopic (tests/fixtures/plugins/sample/sample.cpp) serves
`sample/tick/{id}`: each topic URI gets its own 200 ms timer, and every time one fires the
handler broadcasts the next value of ONE counter it keeps for all its topics (1, 2, 3, ...;
never reset). So the counter is a clock of the timer firings: a value that continues right
after a pause proves no timer fired during the pause, and its rate tells how many timers run.
"""

import asyncio
import time

from wamp_client import CALL, CALLRESULT, WampV1Client, run

INTERVAL = 0.2
TICK_A = "sample/tick/a"
TICK_B = "sample/tick/b"
# Long enough for a timer left running to fire several times.
PAUSE = 6 * INTERVAL


def tick_text(topic, value):
    return '[8,"' + topic.replace("/", "\\/") + f'",{value}]'


async def barrier(client):
    """Returns once the server handled everything `client` sent before (it handles one
    connection's messages in order); ticks arriving meanwhile are returned, in order."""
    await client.send([CALL, "barrier", "wampd.topics"])
    ticks = []
    while True:
        message = await client.recv()
        if message[:2] == [CALLRESULT, "barrier"]:
            return ticks
        ticks.append(message)


async def subscribed(server, *topics):
    """A client subscribed to `topics`. A timer already running may tick between the
    subscription and the barrier: those ticks are kept as `early_ticks`."""
    client = await WampV1Client.connect(server.url)
    for topic in topics:
        await client.subscribe(topic)
    early = await barrier(client)
    assert all(message[0] == 8 and message[1] in topics for message in early), early
    client.early_ticks = [(message[2], time.monotonic()) for message in early]
    return client


async def next_tick(client, topic=TICK_A, timeout=2.0):
    """The next frame, which must be a tick of `topic`: (value, arrival time)."""
    message = await client.recv(timeout)
    assert message[:2] == [8, topic] and isinstance(message[2], int), message
    return message[2], time.monotonic()


async def ticks_for(client, seconds, topic=TICK_A):
    """Every tick of `topic` that arrives within `seconds`: [(value, arrival time)]."""
    ticks = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            ticks.append(await next_tick(client, topic, timeout=left))
        except asyncio.TimeoutError:
            break
    return ticks


def values(ticks):
    return [value for value, _ in ticks]


def assert_consecutive(numbers):
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers


def rate(ticks):
    """Counter increments per second over the ticks' span."""
    (first, t0), (last, t1) = ticks[0], ticks[-1]
    return (last - first) / (t1 - t0)


def test_ticks_arrive_while_subscribed_on_the_wire_exactly(sample_wampd):
    async def scenario():
        async with await subscribed(sample_wampd, TICK_A) as client:
            start = time.monotonic()
            texts = [await client.recv_raw(timeout=2) for _ in range(4)]
            return texts, time.monotonic() - start

    texts, elapsed = run(scenario())
    assert texts == [tick_text(TICK_A, n) for n in (1, 2, 3, 4)]
    assert texts[0] == '[8,"sample\\/tick\\/a",1]'
    assert 3.5 * INTERVAL <= elapsed <= 8 * INTERVAL, elapsed


def test_unsubscribing_the_last_subscriber_stops_the_timer(sample_wampd):
    async def scenario():
        async with await subscribed(sample_wampd, TICK_A) as client:
            first, _ = await next_tick(client)
            await client.unsubscribe(TICK_A)
            # Ticks sent before the server handled the unsubscribe come before the answer.
            before = [message[2] for message in await barrier(client)]
            await client.expect_no_message(timeout=PAUSE)
            await client.subscribe(TICK_A)
            assert await barrier(client) == []
            resumed, _ = await next_tick(client)
            return [first] + before, resumed

    heard, resumed = run(scenario())
    assert_consecutive(heard)
    # The counter continues where it stopped: no timer fired while nobody was subscribed.
    assert resumed == heard[-1] + 1, (heard, resumed)


def test_disconnecting_the_last_subscriber_stops_the_timer(sample_wampd):
    run(disconnect_then_resubscribe(sample_wampd, abrupt=False))


def test_dropping_the_last_subscriber_without_a_close_frame_stops_the_timer(sample_wampd):
    run(disconnect_then_resubscribe(sample_wampd, abrupt=True))


async def disconnect_then_resubscribe(server, abrupt):
    client = await subscribed(server, TICK_A)
    last, _ = await next_tick(client)
    if abrupt:
        client.ws.transport.abort()
    else:
        await client.close()
    # The debug log says when the server has seen the disconnect.
    await asyncio.to_thread(server.wait_for_log, f"session {client.session_id} closed")
    await asyncio.sleep(PAUSE)
    async with await subscribed(server, TICK_A) as fresh:
        resumed, _ = await next_tick(fresh)
    # A tick may have left after the one read and before the server saw the disconnect; a
    # timer left running would have counted about PAUSE / INTERVAL more.
    assert last + 1 <= resumed <= last + 2, (last, resumed)


def test_two_subscribers_share_one_timer(sample_wampd):
    async def scenario():
        async with await subscribed(sample_wampd, TICK_A) as first, \
                await subscribed(sample_wampd, TICK_A) as second:
            seen_first = await ticks_for(first, 6 * INTERVAL)
            seen_second = list(second.early_ticks)
            while not seen_second or seen_second[-1][0] < seen_first[-1][0]:
                seen_second.append(await next_tick(second))
            return seen_first, seen_second

    seen_first, seen_second = run(scenario())
    assert len(seen_first) >= 4, seen_first
    assert_consecutive(values(seen_first))
    # Both get every tick from the second's subscription on: the same values, in order.
    common = values(seen_second)[0]
    assert values(seen_first)[0] <= common + 1, (seen_first, seen_second)
    assert values(seen_second) == [v for v in values(seen_first) if v >= common]
    # One timer: 5 per second. Two would count 10 per second.
    assert 3 <= rate(seen_first) <= 7, seen_first


def test_the_timer_keeps_running_while_one_subscriber_remains(sample_wampd):
    async def scenario():
        async with await subscribed(sample_wampd, TICK_A) as staying:
            leaving = await subscribed(sample_wampd, TICK_A)
            await next_tick(leaving)
            await leaving.close()
            seen = await ticks_for(staying, 6 * INTERVAL)
            return seen

    seen = run(scenario())
    assert_consecutive(values(seen))
    # Up to the leaving client's close, plus about six more.
    assert len(seen) >= 5, seen
    assert 3 <= rate(seen[-5:]) <= 7, seen


def test_each_topic_has_its_own_timer(sample_wampd):
    async def scenario():
        async with await subscribed(sample_wampd, TICK_A, TICK_B) as client:
            seen = []
            deadline = time.monotonic() + 6 * INTERVAL
            while (left := deadline - time.monotonic()) > 0:
                try:
                    message = await client.recv(left)
                except asyncio.TimeoutError:
                    break
                seen.append((message[1], message[2], time.monotonic()))
            return seen

    seen = run(scenario())
    by_topic = {topic: [value for t, value, _ in seen if t == topic] for topic in (TICK_A, TICK_B)}
    assert len(by_topic[TICK_A]) >= 4 and len(by_topic[TICK_B]) >= 4, seen
    # Both timers advance the handler's one counter: together they count every value once,
    # at twice one timer's rate.
    all_values = sorted(value for _, value, _ in seen)
    assert_consecutive(all_values)
    assert 7 <= (seen[-1][1] - seen[0][1]) / (seen[-1][2] - seen[0][2]) <= 14, seen
