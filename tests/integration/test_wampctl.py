"""wampctl against a real wampd, and against no server at all."""

import asyncio
import json
import re
import socket
import threading
import time

import pytest
import websockets

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
    """Rows of the `topics` table as lists of cells (header first); the generation line
    after the table is left out (see table_generation)."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or set(line.strip()) <= {"-", " "} or line.startswith("generation "):
            continue
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def table_generation(text):
    """The generation `topics` says its table reflects."""
    lines = [line for line in text.splitlines() if line.startswith("generation ")]
    assert len(lines) == 1, text
    return int(lines[0].split()[1])


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
    assert rows[0] == ["Name", "Channel", "Handler", "Loaded", "Subscribers", "v1/v2"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["oro_sync.maintenance"] == [
        "oro_sync.maintenance", "oro/maintenance", "oro_sync.maintenance", "yes", "1", "1/0"]
    assert by_name["oro_sync.ping"] == [
        "oro_sync.ping", "oro/ping", "oro_sync.ping", "yes", "0", "0/0"]
    assert by_name["oro_sync.data_update"][1] == "oro/data/update"
    assert by_name["sample.rpc"][1:4] == ["sample/{method}", "sample.rpc", "yes"]
    assert table_generation(out) == 1


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
        "orphan.route", "orphan/topic", "nobody.serves.this", "no", "0", "0/0"]


# ---- stats ----


def parse_stats(text):
    stats = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        stats[name] = json.loads(value)
    return stats


@pytest.mark.parametrize("version", [[], ["--v2"]], ids=["v1", "v2"])
def test_stats_count_sessions_events_and_deliveries(wampd, version):
    async def scenario():
        async with await subscribed_client(wampd, "oro/data/update") as first, \
                await subscribed_client(wampd, "oro/data/update") as second:
            for _ in range(3):
                rc, _, err = await wampctl_async(*url_args(wampd), "publish", "oro/data/update",
                                                 json.dumps(DATA_UPDATE))
                assert rc == 0, err
            for client in (first, second):
                for _ in range(3):
                    await client.recv_event("oro/data/update")
            rc, out, err = await wampctl_async(*url_args(wampd), *version, "stats")
            assert rc == 0, err
            return parse_stats(out)

    stats = run(scenario())
    assert list(stats) == ["generation", "uptime_seconds", "sessions", "sessions_v1",
                           "sessions_v2", "events", "deliveries", "slow_subscribers_disconnected",
                           "connections", "dropped_unresponsive", "dropped_write_stalled",
                           "refused_max_connections", "refused_max_connections_per_ip",
                           "refused_handshake_rate", "accept_failures"]
    # The two subscribers and wampctl's own session, in its version.
    assert stats["sessions"] == 3
    assert (stats["sessions_v1"], stats["sessions_v2"]) == ((2, 1) if version else (3, 0))
    assert stats["events"] == 3 and stats["deliveries"] == 6
    assert stats["slow_subscribers_disconnected"] == 0
    assert stats["generation"] == 1 and stats["uptime_seconds"] >= 0


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
    ["stats"],
    ["reload"],
    ["publish", "oro/data/update", "[]"],
    ["maintenance", "on"],
    ["maintenance", "off", "--user-id", "3"],
    ["call", "sample/sum", "1", "2"],
]
VERSIONS = [[], ["--v2"]]


def version_id(version):
    return "v2" if version else "v1"


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_fails_without_a_server(wampctl, command, version):
    url = f"ws://127.0.0.1:{free_port()}/"
    rc, out, err = wampctl("--url", url, "--timeout", "3", *version, *command)
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


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_gives_up_at_the_timeout(wampctl, silent_server, command, version):
    started = time.monotonic()
    rc, _, err = wampctl("--url", silent_server, "--timeout", "1", *version, *command)
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
    ["--realm", "realm1", "check"],
    ["--v2", "reload", "now"],
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
    for command in ("check", "publish", "maintenance", "call", "topics", "stats", "reload",
                    "ticket"):
        assert command in out
    for option in ("--url", "--config", "--token", "--timeout", "--v2", "--realm"):
        assert option in out


# ---- wampctl is the backend: backend-only routes ----
#
# Oro's broadcast routes are backend-only (auth.default_publish: backend here, whatever the
# bundled routing files say). wampctl proves it is the backend with the server's token, which
# it finds in the cookie the server writes, or through --token, $WAMPD_BACKEND_TOKEN or the
# server's config.

SECRET = "wampctl-test-kernel-secret"


def backend_only_config(**auth):
    return sample_config(auth={"default_publish": "backend", **auth})


def test_publish_and_maintenance_reach_backend_only_routes_through_the_cookie(
        wampd_factory, runtime_dir):
    server = wampd_factory(config=backend_only_config())
    assert (runtime_dir / f"wampd-{server.port}.token").exists()

    async def scenario():
        async with await subscribed_client(server, "oro/data/update") as data, \
                await subscribed_client(server, "oro/maintenance") as maintenance:
            rc, _, err = await wampctl_async(*url_args(server), "publish", "oro/data/update",
                                             json.dumps(DATA_UPDATE))
            assert rc == 0, err
            assert await data.recv_event("oro/data/update") == [8, "oro/data/update", DATA_UPDATE]
            rc, _, err = await wampctl_async(*url_args(server), "maintenance", "off")
            assert rc == 0, err
            assert await maintenance.recv_event("oro/maintenance") == [
                8, "oro/maintenance", {"isOn": False, "userId": None}]

    run(scenario())


def test_a_browser_cannot_publish_where_wampctl_can(wampd_factory, runtime_dir):
    server = wampd_factory(config=backend_only_config())

    async def scenario():
        async with await subscribed_client(server, "oro/maintenance") as browser:
            await browser.publish("oro/maintenance", {"isOn": True, "userId": None}, [], [])
            refusal = await browser.recv()
            assert refusal[:3] == [4, "oro/maintenance", "oro/maintenance"], refusal
            assert refusal[3].startswith("Not allowed to publish")
            await browser.expect_no_message()

    run(scenario())


def test_without_the_servers_token_publish_is_refused_clearly(wampd_factory, runtime_dir,
                                                              monkeypatch, tmp_path):
    server = wampd_factory(config=backend_only_config())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("WAMPD_RUNTIME_DIR", str(elsewhere))

    async def scenario():
        async with await subscribed_client(server, "oro/maintenance") as browser:
            rc, out, err = await wampctl_async(*url_args(server), "maintenance", "on")
            await browser.expect_no_message()
            return rc, out, err

    rc, out, err = run(scenario())
    assert rc == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("wampctl: the server refused the publish to 'oro/maintenance'")
    assert "Not allowed to publish" in err and "(code 403)" in err
    assert "found no backend token" in err
    assert str(elsewhere / f"wampd-{server.port}.token") in err
    # check needs no backend: it still succeeds.
    assert wampctl_check(server) == 0


def wampctl_check(server, *args):
    return run_wampctl(*url_args(server), *args, "check")[0]


def test_a_wrong_token_is_refused_without_showing_it(wampd_factory, runtime_dir):
    server = wampd_factory(config=backend_only_config())
    wrong = "wrong-token-4c1d9b7a2e"
    rc, out, err = run_wampctl(*url_args(server), "--token", wrong, "maintenance", "on")
    assert rc == 1
    assert "Not allowed to publish" in err
    assert "the token from --token" in err
    assert wrong not in err


def test_the_token_from_a_flag_or_the_environment(wampd_factory, runtime_dir, tmp_path,
                                                  monkeypatch):
    server = wampd_factory(config=backend_only_config())
    token = (runtime_dir / f"wampd-{server.port}.token").read_text().strip()
    # Another runtime dir: wampctl cannot fall back on the cookie.
    monkeypatch.setenv("WAMPD_RUNTIME_DIR", str(tmp_path))
    rc, _, err = run_wampctl(*url_args(server), "--token", token, "maintenance", "on")
    assert rc == 0, err
    monkeypatch.setenv("WAMPD_BACKEND_TOKEN", token)
    rc, _, err = run_wampctl(*url_args(server), "maintenance", "on")
    assert rc == 0, err
    # --token comes first.
    rc, _, err = run_wampctl(*url_args(server), "--token", "not-it-0123456789", "maintenance",
                             "on")
    assert rc == 1 and "the token from --token" in err


def wampctl_config(tmp_path, server, **auth):
    """A config naming `server`'s port (wampd's --port overrides the one in its own file)."""
    path = tmp_path / "for-wampctl.yml"
    path.write_text(json.dumps({"server": {"host": "127.0.0.1", "port": server.port},
                                "auth": auth}) + "\n")
    return path


def test_the_token_derived_from_the_configs_secret(wampd_factory, runtime_dir, tmp_path,
                                                   monkeypatch):
    server = wampd_factory(config=backend_only_config(secret=SECRET))
    monkeypatch.setenv("WAMPD_RUNTIME_DIR", str(tmp_path))  # no cookie
    config = wampctl_config(tmp_path, server, secret=SECRET)
    # No --url: the config says where the server is.
    rc, out, err = run_wampctl("--config", config, "maintenance", "on")
    assert rc == 0, err
    rc, out, err = run_wampctl("--config", config, "check")
    assert rc == 0, err
    assert f"ws://127.0.0.1:{server.port}/" in out
    # $WAMPD_SECRET overrides the config's secret, as it does for wampd.
    monkeypatch.setenv("WAMPD_SECRET", "another-secret")
    rc, _, err = run_wampctl("--config", config, "maintenance", "on")
    assert rc == 1 and "$WAMPD_SECRET" in err
    # $WAMPD_CONFIG names the default config, used without --config.
    monkeypatch.delenv("WAMPD_SECRET")
    monkeypatch.setenv("WAMPD_CONFIG", str(config))
    rc, _, err = run_wampctl("maintenance", "on")
    assert rc == 0, err


def test_the_configured_backend_token(wampd_factory, runtime_dir, tmp_path, monkeypatch):
    token = "configured-backend-token-for-wampctl"
    server = wampd_factory(config=backend_only_config(secret=SECRET, backend_token=token))
    monkeypatch.setenv("WAMPD_RUNTIME_DIR", str(tmp_path))
    config = wampctl_config(tmp_path, server, backend_token=token)
    rc, _, err = run_wampctl("--config", config, "maintenance", "on")
    assert rc == 0, err
    # The URL path is kept; the token becomes its last segment.
    rc, _, err = run_wampctl("--config", config, "--url", f"ws://127.0.0.1:{server.port}/ws",
                             "maintenance", "on")
    assert rc == 0, err


def test_an_unusable_default_config_is_ignored(wampd_factory, runtime_dir, tmp_path,
                                               monkeypatch):
    server = wampd_factory(config=backend_only_config())
    broken = tmp_path / "broken.yml"
    broken.write_text("server: [\n")
    monkeypatch.setenv("WAMPD_CONFIG", str(broken))
    rc, out, err = run_wampctl(*url_args(server), "maintenance", "on")
    assert rc == 0, err
    assert err == ""


def test_a_broken_config_given_with_config_is_a_usage_error(wampctl, tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("server:\n  port: eighty\n")
    rc, out, err = wampctl("--config", broken, "check")
    assert rc == 2
    assert out == ""
    assert f"{broken}:2:" in err
    rc, _, err = wampctl("--config", tmp_path / "missing.yml", "check")
    assert rc == 2 and "missing.yml" in err


def test_errors_never_show_the_token(wampctl, runtime_dir):
    token = "secret-token-0123456789abcdef"
    url = f"ws://127.0.0.1:{free_port()}/"
    for command in (["check"], ["maintenance", "on"], ["call", "sample/sum"]):
        rc, out, err = wampctl("--url", url, "--token", token, "--timeout", "2", *command)
        assert rc == 1
        assert url in err
        assert token not in out + err


def test_a_token_that_cannot_travel_in_a_url_path_is_refused(wampctl, runtime_dir):
    rc, out, err = wampctl("--token", "has/slash-and?question", "check")
    assert rc == 2
    assert "--token" in err and "URL path" in err
    assert "has/slash" not in err


def test_a_url_that_is_not_websocket_is_a_usage_error(wampctl, runtime_dir):
    rc, out, err = wampctl("--url", "http://127.0.0.1:8080/", "check")
    assert rc == 2
    assert "not a ws:// or wss:// URL" in err


# ---- reload ----

EXTRA_ROUTE = ("extra.one:\n  channel: 'extra/one'\n"
               "  handler: { callback: 'oro_sync.data_update' }\n")
SECOND_ROUTE = ("extra.two:\n  channel: 'extra/two'\n"
                "  handler: { callback: 'oro_sync.maintenance' }\n")
RELOAD_STATUS = re.compile(
    r"reload \((?P<trigger>.*)\): generation (?P<generation>\d+) serving \d+ routes .*\n")


@pytest.fixture
def reloadable(wampd_factory, tmp_path):
    """(server, routing file): the sample config plus a routing file of this test's own."""
    routing = tmp_path / "extra.yml"
    routing.write_text(EXTRA_ROUTE)
    config = sample_config()
    config["routing"] = config["routing"] + [str(routing)]
    return wampd_factory(config=config), routing


def topics_of(server, *args):
    """(rows by name, generation) from `wampctl topics`."""
    rc, out, err = run_wampctl(*url_args(server), *args, "topics")
    assert rc == 0, err
    return {row[0]: row for row in parse_table(out)[1:]}, table_generation(out)


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_reload_serves_an_edited_routing_file_and_topics_shows_the_generation(
        reloadable, wampctl, version):
    server, routing = reloadable
    rows, generation = topics_of(server, *version)
    assert "extra.one" in rows and "extra.two" not in rows
    assert generation == 1

    routing.write_text(EXTRA_ROUTE + SECOND_ROUTE)
    rc, out, err = wampctl(*url_args(server), *version, "reload")
    assert rc == 0, err
    assert err == ""
    status = RELOAD_STATUS.fullmatch(out)
    assert status, out
    assert "wampctl reload by session" in status["trigger"], out
    # The watcher may have seen the edit too: its reload and this one may be one or two.
    reloaded = int(status["generation"])
    assert reloaded >= 2
    rows, generation = topics_of(server, *version)
    assert rows["extra.two"] == [
        "extra.two", "extra/two", "oro_sync.maintenance", "yes", "0", "0/0"]
    assert generation >= reloaded

    # Nothing changed since: this reload's generation is the one topics reflects.
    rc, out, err = wampctl(*url_args(server), *version, "reload")
    assert rc == 0, err
    again = int(RELOAD_STATUS.fullmatch(out)["generation"])
    assert again > generation
    assert topics_of(server, *version)[1] == again


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_a_failed_reload_names_file_and_line_and_the_old_generation_serves(
        reloadable, wampctl, version):
    server, routing = reloadable
    routing.write_text("extra.one:\n  channel: 'extra/one'\n  chanel: 'typo'\n"
                       "  handler: { callback: 'oro_sync.data_update' }\n")
    rc, out, err = wampctl(*url_args(server), *version, "reload")
    assert rc == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("wampctl: reload failed (")
    assert "generation 1 keeps serving" in err
    assert f"{routing}:3:" in err and "unknown key 'chanel'" in err
    rows, generation = topics_of(server, *version)
    assert rows["extra.one"][1] == "extra/one"
    assert generation == 1
    assert wampctl(*url_args(server), *version, "check")[0] == 0


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_reload_without_the_backend_token_is_refused(wampd_factory, runtime_dir, version):
    # No trusted addresses: only the token makes wampctl the backend.
    server = wampd_factory(config=sample_config(auth={}))
    wrong = "wrong-token-5e8a1f03"
    rc, out, err = run_wampctl(*url_args(server), "--token", wrong, *version, "reload")
    assert rc == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("wampctl: the server refused the reload: "
                          "Only the backend may reload the server"), err
    assert "the token from --token" in err
    assert wrong not in err
    assert "generation 2" not in server.log()


# ---- WAMP v2 (--v2) ----

WAMP2 = "wamp.2.json"
HELLO, WELCOME2, ABORT, GOODBYE, ERROR2 = 1, 2, 3, 6, 8
PUBLISH2, SUBSCRIBE2, SUBSCRIBED2, EVENT2, CALL2, RESULT2 = 16, 32, 33, 36, 48, 50


class WampV2Subscriber:
    """A WAMP v2 subscriber speaking wamp.2.json by hand: HELLO, SUBSCRIBE, then EVENTs."""

    def __init__(self, ws, subscription):
        self.ws = ws
        self.subscription = subscription

    @classmethod
    async def join(cls, url, topic, realm="realm1"):
        ws = await websockets.connect(url, subprotocols=[WAMP2], open_timeout=5,
                                      close_timeout=5, ping_interval=None)
        assert ws.subprotocol == WAMP2
        await ws.send(json.dumps([HELLO, realm, {"roles": {"subscriber": {}}}]))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert welcome[0] == WELCOME2, welcome
        await ws.send(json.dumps([SUBSCRIBE2, 1, {}, topic]))
        subscribed = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert subscribed[:2] == [SUBSCRIBED2, 1], subscribed
        return cls(ws, subscribed[2])

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()

    async def recv_event(self, timeout=5.0):
        """The next EVENT of this subscription: [36, subscription, publication, details,
        args(, kwargs)]."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            message = json.loads(await asyncio.wait_for(self.ws.recv(), max(left, 0.01)))
            if message[0] == EVENT2 and message[1] == self.subscription:
                return message

    async def expect_no_message(self, timeout=0.5):
        try:
            message = await asyncio.wait_for(self.ws.recv(), timeout)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"expected no message, got {message!r}")


def test_check_v2_is_welcomed_into_the_realm(wampd, wampctl):
    rc, out, err = wampctl(*url_args(wampd), "--v2", "check")
    assert rc == 0, err
    assert err == ""
    assert re.fullmatch(
        rf"WELCOME from {re.escape(wampd.url)}: session \d+, realm realm1, .*\n", out), out


def test_check_v2_in_a_realm_the_server_lacks_fails(wampd, wampctl):
    rc, out, err = wampctl(*url_args(wampd), "--v2", "--realm", "nowhere", "check")
    assert rc == 1
    assert out == ""
    assert "wamp.error.no_such_realm" in err and "nowhere" in err
    assert len(err.strip().splitlines()) == 1


def test_publish_v2_reaches_a_v1_and_a_v2_subscriber(wampd):
    async def scenario():
        async with await subscribed_client(wampd, "oro/data/update") as v1, \
                await WampV2Subscriber.join(wampd.url, "oro/data/update") as v2:
            rc, out, err = await wampctl_async(*url_args(wampd), "--v2", "publish",
                                               "oro/data/update", json.dumps(DATA_UPDATE))
            assert rc == 0, err
            assert out == "" and err == ""
            assert await v1.recv_event("oro/data/update") == [
                8, "oro/data/update", DATA_UPDATE]
            event = await v2.recv_event()
            assert event[4] == [DATA_UPDATE], event
            await v1.expect_no_message()
            await v2.expect_no_message()

    run(scenario())


def test_publish_v2_to_an_unrouted_topic_is_the_servers_refusal(wampd, wampctl):
    rc, out, err = wampctl(*url_args(wampd), "--v2", "publish", "no/such/topic", "1")
    assert rc == 1
    assert out == ""
    assert err.startswith("wampctl: the server refused the publish to 'no/such/topic': "
                          "wamp.error.invalid_uri"), err
    assert len(err.strip().splitlines()) == 1
    assert wampctl(*url_args(wampd), "--v2", "check")[0] == 0


def test_publish_v2_rejects_invalid_json_without_sending(wampd, wampctl):
    rc, out, err = wampctl(*url_args(wampd), "--v2", "publish", "oro/data/update", "{")
    assert rc == 2
    assert out == "" and "not valid JSON" in err


@pytest.mark.parametrize("args, expected", [
    (["on"], {"isOn": True, "userId": None}),
    (["off", "--user-id", "7"], {"isOn": False, "userId": 7}),
])
def test_maintenance_v2_reaches_v1_and_v2_subscribers(wampd, args, expected):
    async def scenario():
        async with await subscribed_client(wampd, "oro/maintenance") as v1, \
                await WampV2Subscriber.join(wampd.url, "oro/maintenance") as v2:
            rc, _, err = await wampctl_async(*url_args(wampd), "--v2", "maintenance", *args)
            assert rc == 0, err
            assert await v1.recv_event("oro/maintenance") == [8, "oro/maintenance", expected]
            assert (await v2.recv_event())[4] == [expected]

    run(scenario())


def test_a_wrong_token_v2_publish_is_refused_without_showing_it(wampd_factory, runtime_dir):
    server = wampd_factory(config=backend_only_config())
    wrong = "wrong-token-v2-77aa01"
    rc, out, err = run_wampctl(*url_args(server), "--token", wrong, "--v2", "maintenance", "on")
    assert rc == 1
    assert out == ""
    assert "wamp.error.not_authorized" in err and "Not allowed to publish" in err
    assert "the token from --token" in err
    assert wrong not in err


def test_call_v2_prints_the_single_result(sample_wampd, wampctl):
    rc, out, err = wampctl(*url_args(sample_wampd), "--v2", "call", "sample/sum", "2", "3")
    assert rc == 0, err
    assert out == "5\n"


def test_call_v2_passes_json_arguments_through(sample_wampd, wampctl):
    argument = {"a": [1, "x", None, True], "b": {"c": 1.5}}
    rc, out, err = wampctl(*url_args(sample_wampd), "--v2", "call", "sample/echo",
                           json.dumps(argument), "-1")
    assert rc == 0, err
    assert json.loads(out) == [argument, -1]


def test_call_v2_error_reports_uri_and_arguments(sample_wampd, wampctl):
    rc, out, err = wampctl(*url_args(sample_wampd), "--v2", "call", "sample/fail")
    assert rc == 1
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert re.match(r"wampctl: call to 'sample/fail' failed: [a-z_.]+: .*sample failure", err), err


def test_call_v2_of_an_unknown_procedure_fails(sample_wampd, wampctl):
    rc, _, err = wampctl(*url_args(sample_wampd), "--v2", "call", "no/such/procedure")
    assert rc == 1
    assert "wamp.error.no_such_procedure" in err and "no/such/procedure" in err


@pytest.mark.parametrize("version", VERSIONS, ids=version_id)
def test_topics_counts_subscribers_by_wamp_version(sample_wampd, version):
    async def scenario():
        async with await subscribed_client(sample_wampd, "oro/data/update"), \
                await WampV2Subscriber.join(sample_wampd.url, "oro/data/update"), \
                await WampV2Subscriber.join(sample_wampd.url, "oro/maintenance"):
            return await wampctl_async(*url_args(sample_wampd), *version, "topics")

    rc, out, err = run(scenario())
    assert rc == 0, err
    rows = parse_table(out)
    assert rows[0][-2:] == ["Subscribers", "v1/v2"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["oro_sync.data_update"][4:] == ["2", "1/1"]
    assert by_name["oro_sync.maintenance"][4:] == ["1", "0/1"]
    assert by_name["oro_sync.ping"][4:] == ["0", "0/0"]
    assert table_generation(out) == 1


# A scripted WAMP v2 router: what wampctl --v2 puts on the wire, message by message.


async def scripted_router(answer):
    """(url, received, server): a wamp.2.json server that records every message and answers
    with answer(message) (a list of messages to send back, or None to close)."""
    received = []

    async def serve(ws, path=None):
        async for text in ws:
            message = json.loads(text)
            received.append(message)
            replies = answer(message)
            if replies is None:
                await ws.close()
                return
            for reply in replies:
                await ws.send(json.dumps(reply))

    server = await websockets.serve(serve, "127.0.0.1", 0, subprotocols=[WAMP2],
                                    ping_interval=None)
    port = server.sockets[0].getsockname()[1]
    return f"ws://127.0.0.1:{port}/", received, server


def router_answers(message):
    if message[0] == HELLO:
        return [[WELCOME2, 4242, {"realm": message[1], "authrole": "anonymous"}]]
    if message[0] == CALL2:
        return [[EVENT2, 1, 2, {}, ["noise"]], [RESULT2, message[1], {"progress": True}, [0]],
                [RESULT2, message[1], {}, [{"ok": message[4]}]]]
    if message[0] == PUBLISH2:
        return [[17, message[1], 99]]
    if message[0] == GOODBYE:
        return [[GOODBYE, {}, "wamp.close.goodbye_and_out"]]
    return None


@pytest.mark.parametrize("command, expected_request, expected_out", [
    (["call", "x.y", "1", '"two"'], [CALL2, 1, {}, "x.y", [1, "two"]], '{"ok":[1,"two"]}\n'),
    (["publish", "a/b", '{"k":1}'],
     [PUBLISH2, 1, {"acknowledge": True}, "a/b", [{"k": 1}]], ""),
    (["--realm", "other", "check"], None,
     "WELCOME from {url}: session 4242, realm other, authrole anonymous\n"),
])
def test_v2_wire_hello_request_goodbye(runtime_dir, command, expected_request, expected_out):
    async def scenario():
        url, received, server = await scripted_router(router_answers)
        try:
            rc, out, err = await wampctl_async("--url", url, "--token", "tok-123", "--v2",
                                               *command)
        finally:
            server.close()
            await server.wait_closed()
        return url, received, rc, out, err

    url, received, rc, out, err = run(scenario())
    assert rc == 0, err
    assert out == expected_out.replace("{url}", url)
    realm = "other" if "--realm" in command else "realm1"
    hello = received[0]
    assert hello[:2] == [HELLO, realm] and "authmethods" not in hello[2], hello
    assert set(hello[2]["roles"]) == {"publisher", "caller"}, hello
    middle = [expected_request] if expected_request else []
    assert received[1:] == middle + [[GOODBYE, {}, "wamp.close.close_realm"]], received


def test_v2_error_answers_are_reported(runtime_dir):
    def answers(message):
        if message[0] == CALL2:
            return [[ERROR2, CALL2, message[1], {}, "app.error.nope", ["one", 2], {"why": "x"}]]
        return router_answers(message)

    async def scenario():
        url, received, server = await scripted_router(answers)
        try:
            return await wampctl_async("--url", url, "--v2", "call", "x.y")
        finally:
            server.close()
            await server.wait_closed()

    rc, out, err = run(scenario())
    assert rc == 1
    assert out == ""
    assert err == 'wampctl: call to \'x.y\' failed: app.error.nope: ["one",2] {"why":"x"}\n'


def test_v2_abort_ends_the_command(runtime_dir):
    def answers(message):
        if message[0] == HELLO:
            return [[ABORT, {"message": "go away"}, "wamp.error.not_authorized"]]
        return None

    async def scenario():
        url, received, server = await scripted_router(answers)
        try:
            return await wampctl_async("--url", url, "--v2", "--timeout", "3", "check")
        finally:
            server.close()
            await server.wait_closed()

    started = time.monotonic()
    rc, out, err = run(scenario())
    assert rc == 1
    assert err == ("wampctl: the server aborted the session: wamp.error.not_authorized: "
                   "go away\n")
    assert time.monotonic() - started < 3


# ---- --http: the same commands over the HTTP API ----


def test_http_check_publish_call_topics_and_stats(sample_wampd, wampctl):
    args = [*url_args(sample_wampd), "--http"]
    rc, out, err = wampctl(*args, "check")
    assert rc == 0, err
    assert out.startswith(f"WELCOME from {sample_wampd.url}: HTTP API at http://127.0.0.1:")
    assert '"generation":1' in out

    async def scenario():
        async with await subscribed_client(sample_wampd, "oro/data/update") as client:
            rc, out, err = await wampctl_async(*args, "publish", "oro/data/update",
                                               json.dumps(DATA_UPDATE))
            assert (rc, out, err) == (0, "", "")
            assert await client.recv_event("oro/data/update") == [
                8, "oro/data/update", DATA_UPDATE]

    run(scenario())
    assert wampctl(*args, "call", "sample/sum", "1", "2") == (0, "3\n", "")
    rc, _, err = wampctl(*args, "call", "sample/sum", '"a"')
    assert rc == 1 and "numbers only" in err
    rc, out, err = wampctl(*args, "topics")
    assert rc == 0 and "sample.rpc" in out, err
    rc, out, err = wampctl(*args, "stats")
    assert rc == 0 and "generation: 1" in out, err
    rc, _, err = wampctl(*args, "publish", "no/such/topic", "1")
    assert rc == 1 and "HTTP 404" in err and "no/such/topic" in err


def test_http_with_a_wrong_token_is_refused_with_the_hint(sample_wampd, wampctl):
    rc, _, err = wampctl(*url_args(sample_wampd), "--http", "--token", "not-the-token",
                         "publish", "oro/data/update", "1")
    assert rc == 1
    assert "HTTP 401" in err and "token from --token" in err
    assert "not-the-token" not in err


def test_http_leaves_reload_to_wamp_and_excludes_v2(sample_wampd, wampctl):
    rc, _, err = wampctl(*url_args(sample_wampd), "--http", "reload")
    assert rc == 1 and "without --http" in err
    rc, _, err = wampctl(*url_args(sample_wampd), "--http", "--v2", "stats")
    assert rc == 2 and "--http" in err
