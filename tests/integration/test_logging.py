"""log_format: json — one JSON object a line, whatever clients send — and its config errors."""

import json
import signal
import subprocess

import websockets

from conftest import WAMPD, default_config
from wamp_client import WampV1Client, run


def json_lines(server):
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert lines
    return [json.loads(line) for line in lines]


def test_every_line_is_a_json_object_even_when_a_client_sends_hostile_text(wampd_factory):
    server = wampd_factory(config=default_config(log_format="json"))
    hostile = 'quote " backslash \\ newline \n tab \t nul \x00 bell \x07 é \u2028'

    async def scenario():
        async with await WampV1Client.connect(server.url) as client:
            await client.send([5, hostile])  # SUBSCRIBE to a topic no route takes: logged
            await client.wait_closed()

    run(scenario())
    server.wait_for_log("Unable to find route")
    entries = json_lines(server)
    for entry in entries:
        assert {"time", "level", "message"} <= set(entry), entry
        assert entry["level"] in ("trace", "debug", "info", "warning", "error", "critical")
        assert entry["time"].endswith("Z") and "T" in entry["time"]
    assert any("listening on" in entry["message"] for entry in entries)
    assert any(hostile in entry["message"] for entry in entries), entries


def test_the_command_line_overrides_the_file(wampd_factory):
    server = wampd_factory(config=default_config(log_format="json"),
                           extra_args=["--log-format", "text"])
    assert "listening on" in server.log()
    assert not server.log().lstrip().startswith("{")


def test_an_unknown_format_names_the_file_and_line(tmp_path):
    config = tmp_path / "wampd.yml"
    config.write_text("log_level: info\nlog_format: xml\n")
    completed = subprocess.run([str(WAMPD), "--check-config", "--config", str(config)],
                               capture_output=True, text=True, timeout=30)
    assert completed.returncode != 0
    assert f"{config}:2" in completed.stderr
    assert "log_format must be text or json" in completed.stderr


def test_json_lines_carry_session_topic_remote_generation_and_file_as_keys(wampd_factory):
    # No trusted address: an anonymous publish to a backend-only route is refused (and logged).
    config = default_config(log_format="json", auth={"allow_anonymous": True})
    server = wampd_factory(config=config)

    async def scenario():
        publisher = await WampV1Client.connect(server.url)
        await publisher.send([7, "oro/email_event/1/2", {"x": 1}])  # refused: backend only
        welcome_id = publisher.session_id
        lost = await WampV1Client.connect(server.url)
        await lost.send([5, "no/such/topic"])  # SUBSCRIBE with no route: 1007, logged
        await lost.wait_closed()
        try:
            await websockets.connect(server.url, subprotocols=["mqtt"])
        except websockets.InvalidStatusCode:
            pass
        await publisher.close()
        return welcome_id, lost.session_id

    publisher_id, lost_id = run(scenario())
    server.wait_for_log("no route matches")
    server.config_path.write_text("server: [unclosed\n")
    server.signal(signal.SIGHUP)
    server.wait_for_log("reload failed")
    entries = json_lines(server)

    def one(text):
        found = [e for e in entries if text in e["message"]]
        assert found, (text, entries)
        return found[0]

    refused_publish = one("refused: route")
    assert refused_publish["session"] == int(publisher_id), refused_publish
    assert refused_publish["topic"] == "oro/email_event/1/2"
    assert refused_publish["remote"] == "127.0.0.1"
    unrouted = one("no route matches")
    assert unrouted["session"] == int(lost_id) and unrouted["topic"] == "no/such/topic", unrouted
    assert unrouted["remote"] == "127.0.0.1"
    refused_handshake = one("subprotocols offered were not supported")
    assert refused_handshake["remote"] == "127.0.0.1" and "session" not in refused_handshake
    failed_reload = one("reload failed")
    assert failed_reload["generation"] == 1, failed_reload
    assert failed_reload["file"] == str(server.config_path), failed_reload
    # Lines about nothing in particular have no such keys.
    assert set(one("listening on")) == {"time", "level", "message"}


def test_the_text_format_is_unchanged_by_the_fields(wampd_factory):
    server = wampd_factory(config=default_config(auth={"allow_anonymous": True}))

    async def scenario():
        async with await WampV1Client.connect(server.url) as client:
            await client.send([7, "oro/email_event/1/2", {"x": 1}])
            await client.send([5, "no/such/topic"])
            await client.wait_closed()

    run(scenario())
    server.wait_for_log("no route matches")
    lines = [line for line in server.log().splitlines() if "refused: route" in line]
    assert lines and not any('"topic"' in line or "{" in line.split("]")[-1][:2]
                             for line in lines), lines
    assert not any(line.lstrip().startswith("{") for line in server.log().splitlines())
