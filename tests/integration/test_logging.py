"""log_format: json — one JSON object a line, whatever clients send — and its config errors."""

import json
import subprocess

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
        assert set(entry) == {"time", "level", "message"}, entry
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
