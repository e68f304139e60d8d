"""python3-autobahn RPC through wampd, JSON and msgpack: procedures of plugins (through routes)
and of callee sessions, errors with URI, arguments and keyword arguments, progressive results,
CANCEL (autobahn cancels with the default mode, killnowait), call timeouts, a callee that
leaves mid-call, and shared registrations."""

import asyncio

import pytest
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallOptions, CallResult, RegisterOptions

from autobahn_client import Clients
from wamp_client import run


def test_plugin_procedures_answer_through_routes(server, serializer):
    async def scenario():
        async with Clients() as clients:
            client = await clients.connect(server.url, serializer)
            assert await client.call("sample/sum", 2 ** 40, 2, 0.5) == 2 ** 40 + 2.5
            assert await client.call("sample/echo", {"a": [1, None]}, "ü") == [{"a": [1, None]},
                                                                                 "ü"]
            with pytest.raises(ApplicationError) as failed:
                await client.call("sample/fail")
            assert failed.value.error.startswith(("wamp.error.", "wampd.error."))
            assert "sample failure" in str(failed.value.args)
            with pytest.raises(ApplicationError) as bad:
                await client.call("sample/sum", "x")
            assert bad.value.error == "wamp.error.invalid_argument"
            with pytest.raises(ApplicationError) as missing:
                await client.call("sample/nothing")
            assert missing.value.error == "wamp.error.no_such_procedure"
            with pytest.raises(ApplicationError) as unrouted:
                await client.call("com.interop.nobody")
            assert unrouted.value.error == "wamp.error.no_such_procedure"
            topics = await client.call("wampd.topics")
            assert any(route["channel"] == "oro/data/update" for route in topics)

    run(scenario())


def test_callee_results_and_errors_reach_the_caller(server, serializer):
    async def scenario():
        async with Clients() as clients:
            callee = await clients.connect(server.url, serializer)
            caller = await clients.connect(server.url, "msgpack" if serializer == "json"
                                           else "json")
            invocations = []

            def divide(a, b, details=None, **kwargs):
                invocations.append(details)
                if b == 0:
                    raise ApplicationError("com.interop.division_by_zero", "b is 0", a,
                                           hint="use another b")
                return CallResult(a // b, a % b, exact=a % b == 0)

            await callee.register(divide, "com.interop.divide",
                                  options=RegisterOptions(details_arg="details"))
            result = await caller.call("com.interop.divide", 2 ** 40 + 1, 2)
            assert list(result.results) == [2 ** 39, 1]
            assert result.kwresults == {"exact": False}
            # The caller is disclosed only when it asks (autobahn-python cannot ask).
            assert invocations[0].caller is None
            with pytest.raises(ApplicationError) as refused:
                await caller.call("com.interop.divide", 7, 0)
            assert refused.value.error == "com.interop.division_by_zero"
            assert refused.value.args == ("b is 0", 7)
            assert refused.value.kwargs == {"hint": "use another b"}

    run(scenario())


def test_progressive_results_arrive_in_order_before_the_result(server, serializer):
    async def scenario():
        async with Clients() as clients:
            callee = await clients.connect(server.url, "msgpack")
            caller = await clients.connect(server.url, serializer)

            asked = []

            async def countdown(n, details=None):
                asked.append(details.progress is not None)
                for i in range(n, 0, -1):
                    if details.progress:
                        details.progress(i, left=i - 1)
                    await asyncio.sleep(0)
                return "liftoff"

            await callee.register(countdown, "com.interop.countdown",
                                  options=RegisterOptions(details_arg="details"))
            progress = []
            result = await caller.call(
                "com.interop.countdown", 3,
                options=CallOptions(on_progress=lambda *a, **kw: progress.append((a, kw))))
            assert progress == [((3,), {"left": 2}), ((2,), {"left": 1}), ((1,), {"left": 0})]
            assert result == "liftoff"
            # Without receive_progress, the callee is told so and only the result arrives.
            assert await caller.call("com.interop.countdown", 2) == "liftoff"
            assert asked == [True, False]
            assert len(progress) == 3

    run(scenario())


async def blocking_callee(clients, server, serializer, procedure):
    """A callee whose `procedure` waits forever; records its invocations and how they ended."""
    callee = await clients.connect(server.url, serializer)
    state = {"started": asyncio.Event(), "interrupted": asyncio.Event()}

    async def wait_forever():
        state["started"].set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            state["interrupted"].set()
            raise

    await callee.register(wait_forever, procedure)
    await callee.register(lambda: "alive", procedure + ".alive")
    return callee, state


def test_cancel_errors_the_caller_and_interrupts_the_callee(server, serializer):
    async def scenario():
        async with Clients() as clients:
            callee, state = await blocking_callee(clients, server, serializer,
                                                  "com.interop.endless")
            caller = await clients.connect(server.url, serializer)
            call = asyncio.ensure_future(caller.call("com.interop.endless"))
            await asyncio.wait_for(state["started"].wait(), 5)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            # autobahn's callee announces call_canceling: the dealer interrupts it.
            await asyncio.wait_for(state["interrupted"].wait(), 5)
            assert await caller.call("com.interop.endless.alive") == "alive"
            assert callee.is_attached()

    run(scenario())


def test_call_timeout_errors_the_caller_and_interrupts_the_callee(server, serializer):
    async def scenario():
        async with Clients() as clients:
            callee, state = await blocking_callee(clients, server, "json", "com.interop.slow")
            caller = await clients.connect(server.url, serializer)
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(ApplicationError) as timed_out:
                # CALL.Options.timeout is in milliseconds on the wire.
                await caller.call("com.interop.slow", options=CallOptions(timeout=300))
            assert timed_out.value.error == "wamp.error.timeout"
            assert loop.time() - started >= 0.25
            await asyncio.wait_for(state["interrupted"].wait(), 5)
            assert await caller.call("com.interop.slow.alive") == "alive"
            assert callee.is_attached()

    run(scenario())


def test_callee_leaving_mid_call_fails_the_call(server, serializer):
    async def scenario():
        async with Clients() as clients:
            callee, state = await blocking_callee(clients, server, serializer,
                                                  "com.interop.abandoned")
            caller = await clients.connect(server.url, "msgpack")
            call = asyncio.ensure_future(caller.call("com.interop.abandoned"))
            await asyncio.wait_for(state["started"].wait(), 5)
            callee._transport.close()
            with pytest.raises(ApplicationError) as canceled:
                await asyncio.wait_for(call, 5)
            assert canceled.value.error == "wamp.error.canceled"
            # The registration went with the callee.
            with pytest.raises(ApplicationError) as gone:
                await caller.call("com.interop.abandoned")
            assert gone.value.error == "wamp.error.no_such_procedure"

    run(scenario())


@pytest.mark.parametrize("invoke", ["roundrobin", "first", "last", "random"])
def test_shared_registrations(server, invoke):
    async def scenario():
        async with Clients() as clients:
            callees = []
            for name, serializer in (("one", "json"), ("two", "msgpack"), ("three", "json")):
                callee = await clients.connect(server.url, serializer)
                await callee.register(lambda name=name: name, "com.interop.shared",
                                      options=RegisterOptions(invoke=invoke))
                callees.append(callee)
            caller = await clients.connect(server.url)
            answers = [await caller.call("com.interop.shared") for _ in range(30)]
            if invoke == "roundrobin":
                assert answers[:3] == answers[3:6] == answers[27:30]
                assert sorted(answers[:3]) == ["one", "three", "two"]
            elif invoke == "first":
                assert set(answers) == {"one"}
            elif invoke == "last":
                assert set(answers) == {"three"}
            else:
                # 30 draws from 3 callees: all three appear but with probability ~2e-5.
                assert set(answers) == {"one", "two", "three"}
            # Another policy, or a single registration, cannot join.
            other = "first" if invoke != "first" else "last"
            outsider = await clients.connect(server.url)
            for options in (RegisterOptions(invoke=other), RegisterOptions()):
                with pytest.raises(ApplicationError) as taken:
                    await outsider.register(lambda: "x", "com.interop.shared", options=options)
                assert taken.value.error == "wamp.error.procedure_already_exists"

    run(scenario())


def test_single_registration_is_exclusive_and_unregisters(server, serializer):
    async def scenario():
        async with Clients() as clients:
            first = await clients.connect(server.url, serializer)
            second = await clients.connect(server.url, serializer)
            registration = await first.register(lambda: "first", "com.interop.single")
            with pytest.raises(ApplicationError) as taken:
                await second.register(lambda: "second", "com.interop.single")
            assert taken.value.error == "wamp.error.procedure_already_exists"
            with pytest.raises(ApplicationError) as served:
                await second.register(lambda: 0, "sample/sum")
            assert served.value.error == "wamp.error.procedure_already_exists"
            await registration.unregister()
            await second.register(lambda: "second", "com.interop.single")
            assert await first.call("com.interop.single") == "second"

    run(scenario())
