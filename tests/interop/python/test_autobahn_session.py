"""python3-autobahn sessions against wampd: WELCOME and its roles, the serializer chosen in the
client's order, realms, ticket authentication (CHALLENGE/AUTHENTICATE and ?ticket=), the
backend's token, refusals by ABORT, and GOODBYE."""

import pytest

from autobahn_client import Aborted, Clients
from conftest import OTHER_REALM, ticket
from wamp_client import run

BROKER_FEATURES = ["publisher_identification", "publisher_exclusion",
                   "subscriber_blackwhite_listing", "subscription_revocation"]
DEALER_FEATURES = ["progressive_call_results", "call_canceling", "call_timeout",
                   "caller_identification", "shared_registration"]


def test_anonymous_session_is_welcomed_with_roles(server, serializer):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.url, serializer)
            details = client.details
            assert client.serializer_id == serializer
            assert 1 <= details.session <= 2 ** 53
            assert details.realm == "realm1"
            assert details.authrole == "anonymous"
            assert details.authmethod == "anonymous"
            # An anonymous session's authid is its session id as text.
            assert details.authid == str(details.session)
            broker = client._router_roles["broker"]
            dealer = client._router_roles["dealer"]
            for feature in BROKER_FEATURES:
                assert getattr(broker, feature) is True, feature
            for feature in DEALER_FEATURES:
                assert getattr(dealer, feature) is True, feature
            assert await client.call("sample/sum", 2, 3) == 5

    run(scenario())


@pytest.mark.parametrize("offer", [["msgpack", "json"], ["json", "msgpack"]])
def test_serializer_follows_the_clients_order(server, offer):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.url, offer=offer)
            assert client.serializer_id == offer[0]
            assert await client.call("sample/echo", "é", 2 ** 40) == ["é", 2 ** 40]

    run(scenario())


def test_configured_realms_are_joined_and_others_aborted(server):
    async def scenario():
        async with Clients() as clients:
            other = await clients.connect(server.url, realm=OTHER_REALM)
            assert other.details.realm == OTHER_REALM
            with pytest.raises(Aborted) as aborted:
                await clients.connect(server.url, "msgpack", realm="no.such.realm")
            assert aborted.value.reason == "wamp.error.no_such_realm"

    run(scenario())


def test_ticket_through_challenge_gives_the_users_identity(server, serializer):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.url, serializer, authmethods=["ticket"],
                                           authid="john", ticket=ticket("john"))
            assert [c.method for c in client.challenges] == ["ticket"]
            assert client.details.authid == "john"
            assert client.details.authrole == "user"
            assert client.details.authmethod == "ticket"

    run(scenario())


def test_ticket_in_the_url_gives_the_users_identity(server):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.url_with_ticket(ticket("jane")), "msgpack")
            assert client.challenges == []
            assert client.details.authid == "jane"
            assert client.details.authrole == "user"

    run(scenario())


@pytest.mark.parametrize("what, claimed, made", [
    ("tampered", "john", lambda: ticket("john")[:-8] + "AAAAAAA="),
    ("another user's", "john", lambda: ticket("jane")),
    ("expired", "jane", lambda: ticket("jane", age=600)),
    ("not base64", "john", lambda: "%%% not a ticket %%%"),
])
def test_bad_ticket_is_aborted_and_others_stay(server, serializer, what, claimed, made):
    async def scenario():
        async with Clients() as clients:
            bystander = await clients.connect(server.url)
            with pytest.raises(Aborted) as aborted:
                await clients.connect(server.url, serializer, authmethods=["ticket"],
                                      authid=claimed, ticket=made())
            assert aborted.value.reason == "wamp.error.authentication_failed", what
            assert await bystander.call("sample/sum", 1, 1) == 2

    run(scenario())


def test_backend_token_in_the_path_gives_the_backend_role(server):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.backend_url, "msgpack")
            assert client.details.authrole == "backend"

    run(scenario())


def test_ticket_through_challenge_works_where_anonymous_is_not_allowed(start_server):
    """The upgrade request of a v2 client that authenticates by CHALLENGE carries no ticket:
    only HELLO says which it will be."""
    closed = start_server(allow_anonymous=False)

    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(closed.url, authmethods=["ticket"], authid="jane",
                                           ticket=ticket("jane"))
            assert client.details.authid == "jane"
            with pytest.raises(Aborted) as aborted:
                await clients.connect(closed.url, "msgpack")
            assert aborted.value.reason in ("wamp.error.authentication_failed",
                                            "wamp.error.not_authorized",
                                            "wamp.error.no_auth_method")

    run(scenario())


def test_goodbye_is_answered_with_goodbye_and_out(server, serializer):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.url, serializer)
            client.leave("wamp.close.normal")
            details = await client.left
            assert details.reason == "wamp.close.goodbye_and_out"
            await client.disconnected

    run(scenario())
