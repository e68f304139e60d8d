"""python3-autobahn publish/subscribe through wampd, JSON and msgpack: acknowledgements,
publisher exclusion, black- and whitelists by session id, authid and authrole, publisher
disclosure, route publish policies, refusals, unsubscribing, and pattern subscriptions."""

import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions

from autobahn_client import Clients, events_before_fence, subscribe_log
from conftest import ticket
from wamp_client import run


def topic(name):
    return f"interop.{name}.event"


def ack(**options):
    return PublishOptions(acknowledge=True, **options)


def test_publication_is_acknowledged_and_reaches_others_not_the_publisher(server, serializer):
    async def scenario():
        async with Clients() as clients:
            t = topic("exclude-me")
            a = await clients.connect(server.url, serializer)
            b = await clients.connect(server.url, "json")
            a_log = await subscribe_log(a, t)
            b_log = await subscribe_log(b, t)
            publication = await b.publish(t, {"n": 1}, 2 ** 40, options=ack())
            assert 1 <= publication.id <= 2 ** 53
            await b.publish(t, "mine too", options=ack(exclude_me=False))
            to_a, to_b = await events_before_fence(b, t, [a_log, b_log])
            assert to_a == [[{"n": 1}, 2 ** 40], "mine too"]
            assert to_b == ["mine too"]

    run(scenario())


def test_keyword_arguments_reach_subscribers_as_sent(server, serializer):
    async def scenario():
        async with Clients() as clients:
            t = topic("kwargs")
            sub = await clients.connect(server.url, serializer)
            pub = await clients.connect(server.url, "msgpack")
            log = await subscribe_log(sub, t)
            await pub.publish(t, 1, "two", options=ack(), three=[3], four={"x": None})
            [(args, kwargs, details)] = await log.at_least(1)
            assert args == [1, "two"]
            assert kwargs == {"three": [3], "four": {"x": None}}
            assert details.publication is not None

    run(scenario())


def test_session_black_and_whitelists(server, serializer):
    async def scenario():
        async with Clients() as clients:
            t = topic("session-lists")
            pub = await clients.connect(server.url, serializer)
            a = await clients.connect(server.url, "json")
            b = await clients.connect(server.url, "msgpack")
            c = await clients.connect(server.url, serializer)
            logs = [await subscribe_log(s, t) for s in (a, b, c)]
            ids = {name: s.details.session for name, s in zip("abc", (a, b, c))}
            await pub.publish(t, "not b", options=ack(exclude=[ids["b"]]))
            await pub.publish(t, "only c", options=ack(eligible=[ids["c"]]))
            await pub.publish(t, "a or b, not b",
                              options=ack(eligible=[ids["a"], ids["b"]], exclude=[ids["b"]]))
            await pub.publish(t, "nobody", options=ack(eligible=[2 ** 53]))
            to_a, to_b, to_c = await events_before_fence(pub, t, logs)
            assert to_a == ["not b", "a or b, not b"]
            assert to_b == []
            assert to_c == ["not b", "only c"]

    run(scenario())


def test_authid_and_authrole_black_and_whitelists(server, serializer):
    async def scenario():
        async with Clients() as clients:
            t = topic("identity-lists")
            john = await clients.connect(server.url, serializer, authmethods=["ticket"],
                                         authid="john", ticket=ticket("john"))
            jane = await clients.connect(server.url_with_ticket(ticket("jane")), "msgpack")
            anonymous = await clients.connect(server.url, serializer)
            backend = await clients.connect(server.backend_url, serializer)
            logs = [await subscribe_log(s, t) for s in (john, jane, anonymous, backend)]
            anonymous_id = anonymous.details.authid
            await jane.publish(t, "users", options=ack(eligible_authrole=["user"]))
            await jane.publish(t, "not anonymous", options=ack(exclude_authrole=["anonymous"]))
            await jane.publish(t, "john", options=ack(eligible_authid=["john"]))
            await jane.publish(t, "not john", options=ack(exclude_authid=["john"]))
            await jane.publish(t, "by anonymous authid",
                               options=ack(eligible_authid=[anonymous_id]))
            await jane.publish(t, "backend or anonymous, not backend",
                               options=ack(eligible_authrole=["backend", "anonymous"],
                                           exclude_authrole=["backend"]))
            await jane.publish(t, "session and role lists together",
                               options=ack(eligible=[john.details.session,
                                                     backend.details.session],
                                           eligible_authrole=["user"]))
            to_john, to_jane, to_anonymous, to_backend = await events_before_fence(
                backend, t, logs)
            assert to_john == ["users", "not anonymous", "john",
                               "session and role lists together"]
            # Jane publishes: excluded from her own publications by default.
            assert to_jane == []
            assert to_anonymous == ["not john", "by anonymous authid",
                                    "backend or anonymous, not backend"]
            assert to_backend == ["not anonymous", "not john"]

    run(scenario())


def test_publisher_is_not_disclosed_unless_asked(server, serializer):
    """autobahn-python 22 has no disclose_me option (the interop JS tests ask for it)."""

    async def scenario():
        async with Clients() as clients:
            t = topic("no-disclosure")
            john = await clients.connect(server.url, serializer, authmethods=["ticket"],
                                         authid="john", ticket=ticket("john"))
            sub = await clients.connect(server.url, serializer)
            log = await subscribe_log(sub, t)
            publication = await john.publish(t, "quiet", options=ack())
            [(_, _, details)] = await log.at_least(1)
            assert details.publisher is None
            assert details.publisher_authid is None
            assert details.publisher_authrole is None
            assert details.publication == publication.id

    run(scenario())


def test_oro_route_takes_publications_from_the_backend_only(server, serializer):
    async def scenario():
        async with Clients() as clients:
            t = "oro/data/update"
            john = await clients.connect(server.url_with_ticket(ticket("john")), serializer)
            backend = await clients.connect(server.backend_url, serializer)
            log = await subscribe_log(john, t)
            with pytest.raises(ApplicationError) as refused:
                await john.publish(t, [{"username": None, "tagname": "x"}], options=ack())
            assert refused.value.error == "wamp.error.not_authorized"
            payload = [{"username": "admin", "tagname": "Oro\\Bundle\\UserBundle\\Entity\\User"}]
            await backend.publish(t, payload, options=ack())
            [(args, kwargs, _)] = await log.at_least(1)
            assert args == [payload] and kwargs == {}
            # Without acknowledge, a refused publication is silent and the session stays.
            john.publish(t, "unacknowledged")
            assert await john.call("sample/sum", 1, 2) == 3
            assert len(log.events) == 1

    run(scenario())


def test_default_publish_policy_applies_to_routes_that_do_not_say(start_server):
    strict = start_server(default_publish="authenticated")

    async def scenario():
        async with Clients() as clients:
            t = topic("strict")
            anonymous = await clients.connect(strict.url)
            john = await clients.connect(strict.url_with_ticket(ticket("john")), "msgpack")
            log = await subscribe_log(anonymous, t)
            with pytest.raises(ApplicationError) as refused:
                await anonymous.publish(t, "anonymous", options=ack())
            assert refused.value.error == "wamp.error.not_authorized"
            await john.publish(t, "authenticated", options=ack())
            [(args, _, _)] = await log.at_least(1)
            assert args == ["authenticated"]

    run(scenario())


def test_subscription_and_publication_errors(server, serializer):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.url, serializer)
            with pytest.raises(ApplicationError) as unrouted:
                await client.subscribe(lambda *a: None, "no/such/topic")
            assert unrouted.value.error.startswith("wamp.error.")
            with pytest.raises(ApplicationError) as unpublished:
                await client.publish("no/such/topic", 1, options=ack())
            assert unpublished.value.error.startswith("wamp.error.")
            # A handler that throws: an ERROR, and the session goes on.
            await subscribe_log(client, "sample/throwing")
            with pytest.raises(ApplicationError) as thrown:
                await client.publish("sample/throwing", "boom", options=ack())
            assert thrown.value.error.startswith(("wamp.error.", "wampd.error."))
            assert await client.call("sample/sum", 2, 2) == 4

    run(scenario())


def test_unsubscribed_session_gets_no_more_events(server, serializer):
    async def scenario():
        async with Clients() as clients:
            t = topic("unsubscribe")
            sub = await clients.connect(server.url, serializer)
            pub = await clients.connect(server.url)
            log = await subscribe_log(sub, t)
            other = await subscribe_log(sub, topic("unsubscribe-other"))
            await pub.publish(t, "before", options=ack())
            await log.at_least(1)
            await log.subscription.unsubscribe()
            await pub.publish(t, "after", options=ack())
            await pub.publish(topic("unsubscribe-other"), "fence", options=ack())
            await other.at_least(1)
            assert [args for args, _, _ in log.events] == [["before"]]

    run(scenario())


def test_two_subscribers_of_a_topic_share_its_subscription_id(server):
    async def scenario():
        async with Clients() as clients:
            t = topic("shared-id")
            a = await clients.connect(server.url)
            b = await clients.connect(server.url, "msgpack")
            a_log = await subscribe_log(a, t)
            b_log = await subscribe_log(b, t)
            assert a_log.subscription.id == b_log.subscription.id

    run(scenario())


def test_prefix_and_wildcard_subscriptions_get_the_concrete_topic(server, serializer):
    async def scenario():
        async with Clients() as clients:
            sub = await clients.connect(server.url, serializer)
            pub = await clients.connect(server.url, "msgpack")
            prefix = await subscribe_log(sub, "interop.pattern", match="prefix")
            wildcard = await subscribe_log(sub, "interop..event", match="wildcard")
            exact = await subscribe_log(sub, topic("pattern-room"))
            await pub.publish(topic("pattern-room"), "to every subscription", options=ack())
            publications = set()
            for log in (prefix, wildcard, exact):
                [(args, _, details)] = await log.at_least(1)
                assert args == ["to every subscription"]
                assert details.topic == topic("pattern-room")
                publications.add(details.publication)
            # One publication, delivered once per matching subscription.
            assert len(publications) == 1
            assert len({prefix.subscription.id, wildcard.subscription.id,
                        exact.subscription.id}) == 3

    run(scenario())


def test_pattern_subscription_gets_events_of_topics_nobody_subscribed_to_exactly(server,
                                                                                serializer):
    async def scenario():
        async with Clients() as clients:
            sub = await clients.connect(server.url, serializer)
            pub = await clients.connect(server.url, "msgpack")
            prefix = await subscribe_log(sub, "interop.lonely", match="prefix")
            wildcard = await subscribe_log(sub, "interop..event", match="wildcard")
            await pub.publish(topic("lonely"), "to patterns only", options=ack())
            await pub.publish(topic("elsewhere"), "to the wildcard only", options=ack())
            await pub.publish(topic("lonely"), "fence", options=ack())
            payloads = [[args[0] for args, _, _ in await log.until(lambda e: e[0] == ["fence"])]
                        for log in (prefix, wildcard)]
            assert payloads == [["to patterns only", "fence"],
                                ["to patterns only", "to the wildcard only", "fence"]]
            assert wildcard.events[1][2].topic == topic("elsewhere")

    run(scenario())


def test_pattern_subscribers_are_excluded_and_listed_like_exact_ones(server):
    async def scenario():
        async with Clients() as clients:
            t = topic("pattern-lists")
            pub = await clients.connect(server.url)
            a = await clients.connect(server.url, "msgpack")
            b = await clients.connect(server.url)
            exact = await clients.connect(server.url)
            a_log = await subscribe_log(a, "interop.", match="prefix")
            b_log = await subscribe_log(b, "interop..event", match="wildcard")
            exact_log = await subscribe_log(exact, t)
            await pub.publish(t, "not a", options=ack(exclude=[a.details.session]))
            await pub.publish(t, "anonymous", options=ack(eligible_authrole=["anonymous"]))
            await pub.publish(t, "users", options=ack(eligible_authrole=["user"]))
            await pub.publish(t, "only b", options=ack(eligible=[b.details.session]))
            to_a, to_b, to_exact = await events_before_fence(pub, t, [a_log, b_log, exact_log])
            assert to_a == ["anonymous"]
            assert to_b == ["not a", "anonymous", "only b"]
            assert to_exact == ["not a", "anonymous"]

    run(scenario())
