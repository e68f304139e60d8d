"""Start-up and config errors of a real wampd: broken routing files, config file errors and
bad --param values are refused by `wampd --check-config` and by a plain start alike, with a
message naming the file and line; a route without a loaded handler only warns.
"""

import json
import subprocess
import textwrap

import pytest

from conftest import BUILD_CONFIG, BUNDLED_PLUGIN_DIR, BUNDLED_ROUTING, TRUSTED_LOOPBACK, WAMPD
from wamp_client import CALL, CALLRESULT, EVENT, WampV1Client, run

MAINTENANCE = "oro/maintenance"
GHOST_TOPIC = "ghost/lobby"


def check_config(config_path, *extra):
    """Runs `wampd --check-config --config FILE`; returns (exit code, stdout, stderr)."""
    completed = subprocess.run(
        [str(WAMPD), "--check-config", "--config", str(config_path), *map(str, extra)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    return completed.returncode, completed.stdout, completed.stderr


def write(path, text):
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def config_with_routing(tmp_path, routing_file):
    """A server config serving the bundled plugins and routes plus `routing_file`."""
    config = {
        "server": {"host": "127.0.0.1", "port": 8080},
        "plugins": {"directories": [str(BUNDLED_PLUGIN_DIR)]},
        "routing": [str(path) for path in [*BUNDLED_ROUTING, routing_file]],
        "auth": dict(TRUSTED_LOOPBACK),
    }
    # YAML reads JSON.
    return write(tmp_path / "wampd.yml", json.dumps(config, indent=2))


def assert_refused(code, output, file, line, *reasons):
    """A refusal: a clean non-zero exit (not a crash), naming file:line and the reasons."""
    assert code is not None and code > 0, f"exit code {code}:\n{output}"
    assert f"{file}:{line}:" in output, f"expected {file}:{line}: in:\n{output}"
    for reason in reasons:
        assert reason in output, f"expected {reason!r} in:\n{output}"


# Broken routing files: (file text, line of the error, words the message must contain).
BROKEN_ROUTING = {
    "yaml_syntax": ("""
        good.route:
          channel: 'oro/good'
          handler: { callback: 'oro_sync.maintenance' }
        broken.route:
          channel: 'oro/broken'
           handler: { callback: 'oro_sync.maintenance' }
        """, 6, ["YAML"]),
    "unknown_key": ("""
        # 'requirements', misspelt
        good.route:
          channel: 'good/{id}'
          handler: { callback: 'oro_sync.maintenance' }
          requirments:
            id: { pattern: '\\d+' }
        """, 5, ["requirments", "good.route"]),
    "bad_regex": ("""
        # an invalid regular expression
        regex.route:
          channel: 'items/{id}'
          handler: { callback: 'oro_sync.maintenance' }
          requirements:
            id: { pattern: '[0-9' }
        """, 6, ["[0-9", "regular expression"]),
}


@pytest.mark.parametrize("case", BROKEN_ROUTING)
def test_check_config_refuses_a_broken_routing_file(tmp_path, case):
    text, line, reasons = BROKEN_ROUTING[case]
    routing = write(tmp_path / "routing.yml", text)
    code, out, err = check_config(config_with_routing(tmp_path, routing))
    assert_refused(code, err, routing, line, *reasons)
    assert "OK" not in out


@pytest.mark.parametrize("case", BROKEN_ROUTING)
def test_wampd_does_not_start_with_a_broken_routing_file(tmp_path, wampd_factory, case):
    text, line, reasons = BROKEN_ROUTING[case]
    routing = write(tmp_path / "routing.yml", text)
    server = wampd_factory(config=config_with_routing(tmp_path, routing), wait=False)
    code = server.wait()
    assert_refused(code, server.log(), routing, line, *reasons)
    assert "listening" not in server.log()


# Broken server configs: (file text, line of the error, words the message must contain).
BROKEN_CONFIG = {
    "unknown_key": ("""
        server:
          host: 127.0.0.1
          prot: 8080
        """, 3, ["prot"]),
    "bad_port": ("""
        # the port must be a number
        server:
          port: seventy
        """, 3, ["server.port", "seventy"]),
    "bad_log_level": ("""
        log_level: loud
        """, 1, ["log_level", "loud"]),
    "yaml_syntax": ("""
        server:
          host: 127.0.0.1
         port: 1
        """, 3, ["YAML"]),
}


@pytest.mark.parametrize("case", BROKEN_CONFIG)
def test_config_file_error_names_the_file_and_line(tmp_path, wampd_factory, case):
    text, line, reasons = BROKEN_CONFIG[case]
    config = write(tmp_path / "broken.yml", text)
    code, out, err = check_config(config)
    assert_refused(code, err, config, line, *reasons)

    server = wampd_factory(config=config, wait=False)
    assert_refused(server.wait(), server.log(), config, line, *reasons)


# Broken users files (auth.users_file): (file text or None for a missing file, line of the
# error or None where there is none, words the message must contain).
BROKEN_USERS = {
    "yaml_syntax": ("users:\n- { username: john, id: 5\n", 3, ["YAML"]),
    "unknown_key": ("users:\n  - { username: john, id: 5, pasword: x }\n", 2, ["pasword"]),
    "missing": (None, None, ["cannot read the users file"]),
}


@pytest.mark.parametrize("case", BROKEN_USERS)
def test_check_config_and_start_refuse_a_broken_users_file(tmp_path, wampd_factory, case):
    """--check-config reads the users file as a reload does (it used to be read only once
    the server had started)."""
    text, line, reasons = BROKEN_USERS[case]
    users = tmp_path / "users.yml"
    if text is not None:
        users.write_text(text)
    routing = write(tmp_path / "routing.yml", """
        good.route:
          channel: 'oro/good'
          handler: { callback: 'oro_sync.maintenance' }
        """)
    config_path = config_with_routing(tmp_path, routing)
    config = json.loads(config_path.read_text())
    config["auth"]["users_file"] = str(users)
    config_path.write_text(json.dumps(config))
    code, out, err = check_config(config_path)
    assert "OK" not in out
    if line is None:
        assert code is not None and code > 0 and f"{users}: " in err, err
    else:
        assert_refused(code, err, users, line, *reasons)
    for reason in reasons:
        assert reason in err, err

    server = wampd_factory(config=config_path, wait=False)
    code = server.wait()
    assert code is not None and code > 0 and str(users) in server.log(), server.log()
    assert "listening" not in server.log()


def test_an_empty_config_file_is_refused(tmp_path, wampd_factory):
    """A config file with no settings would serve nothing: it is most likely one being
    written. A reload refuses to switch to it (test_reload.py), and so does a start."""
    config = write(tmp_path / "empty.yml", "# nothing yet\n")
    code, out, err = check_config(config)
    assert code is not None and code > 0 and f"{config}: the config file is empty" in err, err
    server = wampd_factory(config=config, wait=False)
    assert server.wait() > 0 and "the config file is empty" in server.log(), server.log()


def test_missing_config_file_is_named(tmp_path):
    missing = tmp_path / "no-such-config.yml"
    code, _, err = check_config(missing)
    assert code > 0
    assert str(missing) in err


@pytest.mark.parametrize("param", ["novalue", "=value"])
def test_param_without_name_and_value_is_a_clear_error(wampd_factory, param):
    code, out, err = check_config(BUILD_CONFIG, "--param", param)
    assert code is not None and code > 0, err
    assert "--param" in err and "NAME=VALUE" in err and f"'{param}'" in err, err
    assert "OK" not in out

    server = wampd_factory(params=None, extra_args=("--param", param), wait=False)
    assert server.wait() > 0
    assert "NAME=VALUE" in server.log() and f"'{param}'" in server.log(), server.log()


def test_param_with_empty_value_is_accepted():
    code, out, err = check_config(BUILD_CONFIG, "--param", "some.parameter=")
    assert code == 0, err
    assert "OK" in out


def test_check_config_accepts_the_build_config():
    code, out, err = check_config(BUILD_CONFIG)
    assert code == 0, err
    assert "OK" in out
    assert str(BUILD_CONFIG) in out


# ---- a route whose handler is not loaded ----

GHOST_ROUTING = """
    # Its handler is in no plugin.
    ghost.route:
      channel: 'ghost/{room}'
      handler: { callback: 'ghost.handler' }
    """


def assert_ghost_warning(output, routing):
    lines = [line for line in output.splitlines() if "ghost.route" in line]
    assert lines, f"no warning naming the route in:\n{output}"
    assert any("ghost.handler" in line and str(routing) in line for line in lines), lines


def test_check_config_warns_about_a_route_without_handler(tmp_path):
    routing = write(tmp_path / "ghost.yml", GHOST_ROUTING)
    code, out, err = check_config(config_with_routing(tmp_path, routing))
    assert code == 0, err
    assert "OK" in out
    assert_ghost_warning(err, routing)


def test_route_without_handler_is_ignored_and_others_are_served(tmp_path, wampd_factory):
    routing = write(tmp_path / "ghost.yml", GHOST_ROUTING)
    server = wampd_factory(config=config_with_routing(tmp_path, routing))
    assert_ghost_warning(server.log(), routing)

    async def answered(client):
        """The connection is open and its earlier messages were handled."""
        await client.send([CALL, "barrier", "wampd.topics"])
        reply = await client.recv()
        assert reply[:2] == [CALLRESULT, "barrier"], reply

    async def scenario():
        subscriber = await WampV1Client.connect(server.url)
        publisher = await WampV1Client.connect(server.url)
        async with subscriber, publisher:
            await subscriber.subscribe(GHOST_TOPIC)
            await answered(subscriber)
            await publisher.publish(GHOST_TOPIC, {"boo": True})
            await answered(publisher)
            await subscriber.expect_no_message(0.5)
            await answered(subscriber)

            await subscriber.subscribe(MAINTENANCE)
            await answered(subscriber)
            event = {"isOn": True, "userId": None}
            await publisher.publish(MAINTENANCE, event)
            return await subscriber.recv(), event

    received, event = run(scenario())
    assert received == [EVENT, MAINTENANCE, event]
