"""python3-autobahn's Component (its auto-reconnecting client) comes back by itself to a wampd
restarted on the same port, and finds itself a new session there."""

import asyncio

from autobahn.asyncio.component import Component

from conftest import harness
from wamp_client import run

STEP_TIMEOUT = 10.0


def test_component_reconnects_to_a_restarted_server(wampd_factory, interop_config, tmp_path):
    first = wampd_factory(config=interop_config())
    port = first.port
    restarted = []

    def restart():
        assert first.stop() == 0, first.log()
        server = harness.WampdProcess(
            [str(harness.WAMPD), "--config", str(first.config_path), "--port", str(port)], port,
            tmp_path / "restarted.log", first.config_path)
        restarted.append(server)
        server.wait_ready()

    async def scenario():
        loop = asyncio.get_running_loop()
        component = Component(transports=[{
            "url": f"ws://127.0.0.1:{port}/", "max_retries": -1, "initial_retry_delay": 0.1,
            "max_retry_delay": 0.3, "retry_delay_growth": 1.0, "retry_delay_jitter": 0.0,
            "serializers": ["json"]}],
            realm="realm1")
        joins = asyncio.Queue()

        @component.on_join
        async def joined(session, details):
            await joins.put((session, details))

        done = component.start(loop)
        try:
            _, details = await asyncio.wait_for(joins.get(), STEP_TIMEOUT)
            await loop.run_in_executor(None, restart)
            session, again = await asyncio.wait_for(joins.get(), STEP_TIMEOUT)
            assert again.session != details.session
            stats = await asyncio.wait_for(session.call("wampd.stats"), STEP_TIMEOUT)
            assert stats["sessions_v2"] == 1, stats
        finally:
            await asyncio.wait_for(component.stop(), STEP_TIMEOUT)
            await asyncio.wait_for(done, STEP_TIMEOUT)

    try:
        run(scenario())
    finally:
        for server in restarted:
            assert server.stop() == 0, server.log()
