"""Debian's python3-autobahn (asyncio) as a test client: joined sessions created in one call,
events collected for bounded waits, every wait bounded, every connection closed at the end.

Nothing here speaks WAMP itself: messages are made and read by autobahn.
"""

import asyncio
from urllib.parse import urlparse

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp import serializer as serializers
from autobahn.wamp.types import ComponentConfig, PublishOptions, SubscribeOptions

STEP_TIMEOUT = 10.0

SERIALIZERS = {
    "json": serializers.JsonSerializer,
    "msgpack": serializers.MsgPackSerializer,
}


class Aborted(Exception):
    """The router ended the session before WELCOME (ABORT, or the connection dropped)."""

    def __init__(self, reason, message):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class HandshakeRefused(Exception):
    """The router refused the WebSocket upgrade (an HTTP error instead of 101)."""


class Client(ApplicationSession):
    """One session. `joined` resolves with SessionDetails (or fails with Aborted), `left`
    with the CloseDetails of ABORT or GOODBYE, `disconnected` when the transport is gone."""

    def __init__(self, config, authmethods=None, authid=None, ticket=None):
        super().__init__(config)
        loop = asyncio.get_running_loop()
        self.joined = loop.create_future()
        self.left = loop.create_future()
        self.disconnected = loop.create_future()
        self.challenges = []
        self._authmethods = authmethods
        self._authid = authid
        self._ticket = ticket

    def onConnect(self):
        self.join(self.config.realm, authmethods=self._authmethods, authid=self._authid)

    def onChallenge(self, challenge):
        self.challenges.append(challenge)
        return self._ticket

    def onJoin(self, details):
        if not self.joined.done():
            self.joined.set_result(details)

    def onLeave(self, details):
        if not self.left.done():
            self.left.set_result(details)
        if not self.joined.done():
            self.joined.set_exception(Aborted(details.reason, details.message))
        self.disconnect()

    def onDisconnect(self):
        if not self.disconnected.done():
            self.disconnected.set_result(True)
        if not self.joined.done():
            self.joined.set_exception(Aborted(None, "connection lost before WELCOME"))

    @property
    def serializer_id(self):
        """The serializer the connection settled on (the router chose the subprotocol)."""
        return self._transport._serializer.SERIALIZER_ID


class EventLog:
    """Events of one subscription as (args, kwargs, details), waited for with bounds."""

    def __init__(self):
        self.events = []
        self._changed = asyncio.Event()

    def __call__(self, *args, details=None, **kwargs):
        self.events.append((list(args), kwargs, details))
        self._changed.set()

    async def at_least(self, count, timeout=STEP_TIMEOUT):
        async def wait():
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.events

        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"expected {count} events within {timeout} s, got "
                                 f"{self.events!r}") from None

    async def until(self, predicate, timeout=STEP_TIMEOUT):
        """The events up to and including the first one `predicate` accepts."""
        count = 1
        while True:
            events = await self.at_least(count, timeout)
            for i, event in enumerate(events):
                if predicate(event):
                    return events[:i + 1]
            count = len(events) + 1


class Clients:
    """Opens sessions and closes all of them on exit: `async with Clients() as clients`."""

    def __init__(self):
        self.opened = []

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        for client in self.opened:
            if client.is_attached():
                try:
                    await asyncio.wait_for(client.leave(), 2)
                except Exception:
                    pass
            if client._transport is not None:
                client._transport.close()
        for client in self.opened:
            try:
                await asyncio.wait_for(client.disconnected, 2)
            except asyncio.TimeoutError:
                pass

    async def connect(self, url, serializer="json", realm="realm1", authmethods=None,
                      authid=None, ticket=None, offer=None):
        """A joined Client. `offer` lists serializer names to offer in order (default: just
        `serializer`). Raises Aborted when the router refuses the session, HandshakeRefused
        when it refuses the upgrade."""
        made = []

        def make():
            client = Client(ComponentConfig(realm=realm), authmethods, authid, ticket)
            made.append(client)
            self.opened.append(client)
            return client

        factory = WampWebSocketClientFactory(
            make, url=url, serializers=[SERIALIZERS[name]() for name in offer or [serializer]])
        factory.setProtocolOptions(openHandshakeTimeout=STEP_TIMEOUT, closeHandshakeTimeout=2)
        parsed = urlparse(url)
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(factory, parsed.hostname, parsed.port), STEP_TIMEOUT)
        # The session exists once the upgrade succeeded.
        deadline = loop.time() + STEP_TIMEOUT
        while not made:
            if protocol.is_closed.done():
                raise HandshakeRefused(protocol.wasNotCleanReason)
            assert loop.time() < deadline, "no WebSocket upgrade within the step timeout"
            await asyncio.sleep(0.01)
        client = made[0]
        client.details = await asyncio.wait_for(client.joined, STEP_TIMEOUT)
        return client


async def subscribe_log(client, topic, match=None):
    """A subscription whose events land in the returned EventLog."""
    log = EventLog()
    options = SubscribeOptions(details=True, match=match)
    subscription = await asyncio.wait_for(client.subscribe(log, topic, options=options),
                                          STEP_TIMEOUT)
    log.subscription = subscription
    return log


async def events_before_fence(publisher, topic, logs):
    """The payloads (first argument) each log received before a fence the publisher sends
    after its earlier publications: the server handles one connection's messages in order."""
    fence = f"fence-{id(logs)}-{asyncio.get_running_loop().time()}"
    await publisher.publish(topic, fence,
                            options=PublishOptions(acknowledge=True, exclude_me=False))
    before = []
    for log in logs:
        events = await log.until(lambda e: e[0][:1] == [fence])
        before.append([args[0] if len(args) == 1 else args for args, _, _ in events[:-1]])
    return before
