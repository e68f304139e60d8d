"""wampctl against a real wampd, and against no server at all."""

import asyncio
import json
import re
import socket
import threading
import time

import pytest

from conftest import free_port, run_wampctl, sample_config
from wamp_client import WampV1Client, run

DATA_UPDATE = [{"username": "admin", "tagname": "x"}]


def url_args(server):
    return ["--url", server.url]


async def subscribed_client(server, topic):
    """A client subscribed to `topic`. The server handles one connection's messages in
    order, so once a later CALL is answered the subscription is in place."""
    client = await WampV1Client.connect(server.url)
    await client.subscribe(topic)
    reply = await client.call("wampd.topics")
    assert reply[0] == 3, reply
    return client


async def wampctl_async(*args):
    return await asyncio.to_thread(run_wampctl, *args)


def parse_table(text):
    """Rows of the `topics` table as lists of cells (header first)."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or set(line.strip()) <= {"-", " "}:
            continue
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


# ---- check ----


def test_check_succeeds_on_welcome(wampd, wampctl):
    rc, out, err = wampctl(*url_args(wampd), "check")
    assert rc == 0, err
    assert "WELCOME" in out
    assert err == ""


def test_check_accepts_global_options_after_the_command(wampd, wampctl):
    rc, _, err = wampctl("check", "--url", wampd.url, "--timeout", "3")
    assert rc == 0, err


# ---- topics ----


def test_topics_lists_routes_with_handler_and_subscribers(sample_wampd, wampctl):
    async def scenario():
        async with await subscribed_client(sample_wampd, "oro/maintenance"):
            return await wampctl_async(*url_args(sample_wampd), "topics")

    rc, out, err = run(scenario())
    assert rc == 0, err
    rows = parse_table(out)
    assert rows[0] == ["Name", "Channel", "Handler", "Loaded", "Subscribers"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["oro_sync.maintenance"] == [
        "oro_sync.maintenance", "oro/maintenance", "oro_sync.maintenance", "yes", "1"]
    assert by_name["oro_sync.ping"] == ["oro_sync.ping", "oro/ping", "oro_sync.ping", "yes", "0"]
    assert by_name["oro_sync.data_update"][1] == "oro/data/update"
    assert by_name["sample.rpc"][1:4] == ["sample/{method}", "sample.rpc", "yes"]


def test_topics_reports_a_route_whose_handler_is_not_loaded(wampd_factory, wampctl, tmp_path):
    routing = tmp_path / "orphan.yml"
    routing.write_text("orphan.route:\n  channel: 'orphan/topic'\n"
                       "  handler: { callback: 'nobody.serves.this' }\n")
    config = sample_config()
    config["routing"] = config["routing"] + [str(routing)]
    server = wampd_factory(config=config)
    rc, out, err = wampctl(*url_args(server), "topics")
    assert rc == 0, err
    by_name = {row[0]: row for row in parse_table(out)[1:]}
    assert by_name["orphan.route"] == [
        "orphan.route", "orphan/topic", "nobody.serves.this", "no", "0"]


# ---- publish ----


def test_publish_reaches_a_subscriber_exactly(wampd):
    async def scenario():
        async with await subscribed_client(wampd, "oro/data/update") as client:
            rc, out, err = await wampctl_async(
                *url_args(wampd), "publish", "oro/data/update", json.dumps(DATA_UPDATE))
            assert rc == 0, err
            assert out == "" and err == ""
            assert await client.recv_event("oro/data/update") == [
                8, "oro/data/update", DATA_UPDATE]
            await client.expect_no_message()

    run(scenario())


def test_publish_to_an_unrouted_topic_fails_naming_it(wampd, wampctl):
    rc, _, err = wampctl(*url_args(wampd), "publish", "no/such/topic", "1")
    assert rc == 1
    assert "no/such/topic" in err
    assert "Unable to find route" in err
    assert len(err.strip().splitlines()) == 1
    # The server goes on serving.
    assert wampctl(*url_args(wampd), "check")[0] == 0


def test_publish_rejects_invalid_json_without_sending(wampd, wampctl):
    rc, out, err = wampctl(*url_args(wampd), "publish", "oro/data/update", "[1,")
    assert rc == 2
    assert out == ""
    assert "not valid JSON" in err


# ---- maintenance ----


@pytest.mark.parametrize("args, expected", [
    (["on"], '{"isOn":true,"userId":null}'),
    (["off"], '{"isOn":false,"userId":null}'),
    (["on", "--user-id", "42"], '{"isOn":true,"userId":42}'),
    (["off", "--user-id", "7"], '{"isOn":false,"userId":7}'),
])
def test_maintenance_publishes_oros_notice(wampd, args, expected):
    async def scenario():
        async with await subscribed_client(wampd, "oro/maintenance") as client:
            rc, _, err = await wampctl_async(*url_args(wampd), "maintenance", *args)
            assert rc == 0, err
            raw = await client.recv_raw()
            assert raw == '[8,"oro\\/maintenance",' + expected + "]"

    run(scenario())


def test_maintenance_rejects_other_states(wampd, wampctl):
    rc, _, err = wampctl(*url_args(wampd), "maintenance", "maybe")
    assert rc == 2
    assert "maybe" in err


# ---- call ----


def test_call_prints_the_result_as_json(sample_wampd, wampctl):
    rc, out, err = wampctl(*url_args(sample_wampd), "call", "sample/sum", "2", "3")
    assert rc == 0, err
    assert out == "5\n"


def test_call_passes_json_arguments_through(sample_wampd, wampctl):
    argument = {"a": [1, "x", None, True], "b": {"c": 1.5}}
    rc, out, err = wampctl(*url_args(sample_wampd), "call", "sample/echo", json.dumps(argument),
                           "-1")
    assert rc == 0, err
    assert json.loads(out) == [argument, -1]


def test_call_error_reports_uri_and_description(sample_wampd, wampctl):
    rc, out, err = wampctl(*url_args(sample_wampd), "call", "sample/fail")
    assert rc == 1
    assert out == ""
    assert "sample/fail" in err
    assert "sample failure" in err


def test_call_of_an_unknown_procedure_fails(sample_wampd, wampctl):
    rc, _, err = wampctl(*url_args(sample_wampd), "call", "no/such/procedure")
    assert rc == 1
    assert "no/such/procedure" in err


def test_call_rejects_invalid_json_arguments(sample_wampd, wampctl):
    rc, _, err = wampctl(*url_args(sample_wampd), "call", "sample/sum", "2", "{")
    assert rc == 2
    assert "argument 2" in err


# ---- no server, a server that never answers, bad arguments ----

COMMANDS = [
    ["check"],
    ["topics"],
    ["publish", "oro/data/update", "[]"],
    ["maintenance", "on"],
    ["maintenance", "off", "--user-id", "3"],
    ["call", "sample/sum", "1", "2"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_fails_without_a_server(wampctl, command):
    url = f"ws://127.0.0.1:{free_port()}/"
    rc, out, err = wampctl("--url", url, "--timeout", "3", *command)
    assert rc == 1
    assert out == ""
    assert err.startswith("wampctl: ") and url in err
    assert len(err.strip().splitlines()) == 1


@pytest.fixture
def silent_server():
    """A loopback port that accepts TCP connections and never says anything."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()
    accepted = []

    def serve():
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join(5)
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_gives_up_at_the_timeout(wampctl, silent_server, command):
    started = time.monotonic()
    rc, _, err = wampctl("--url", silent_server, "--timeout", "1", *command)
    elapsed = time.monotonic() - started
    assert rc == 1
    assert "timed out" in err
    assert elapsed < 5


@pytest.mark.parametrize("args", [
    [],
    ["bogus"],
    ["publish", "only-a-topic"],
    ["call"],
    ["--timeout", "0", "check"],
    ["--timeout", "soon", "check"],
    ["check", "extra"],
])
def test_bad_arguments_fail_with_usage_code(wampctl, args):
    rc, out, err = wampctl(*args)
    assert rc == 2
    assert out == ""
    assert err.startswith("wampctl: ")
    assert len(err.strip().splitlines()) == 1


def test_help_lists_every_command(wampctl):
    rc, out, _ = wampctl("--help")
    assert rc == 0
    for command in ("check", "publish", "maintenance", "call", "topics"):
        assert command in out
