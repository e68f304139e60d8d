"""`cmake --install` of the build tree, used as an installation: its layout, the installed
wampd finding its own default config, and a plugin built outside the tree
(tests/outoftree/hello) against the installed SDK and served by the installed wampd.

These tests build and install, so every step has its own generous time limit (pytest-timeout
is not a Debian package here; ctest's per-test TIMEOUT bounds the whole file).
"""

import json
import os
import subprocess

import pytest

from conftest import BUILD_DIR, SOURCE_DIR, STOP_TIMEOUT, WampdProcess, free_port
from wamp_client import CALL, CALLRESULT, EVENT, WampV1Client, run

# Configuring, building and installing the out-of-tree plugin takes ~15 s on an idle
# machine; a busy one (other builds, sanitizers) needs far longer.
BUILD_TIMEOUT = 600.0
HELLO_SOURCE = SOURCE_DIR / "tests" / "outoftree" / "hello"
HELLO_TOPIC = "hello/lobby"


def run_step(args, timeout=BUILD_TIMEOUT):
    """Runs a build or install command; fails the test with its output if it fails."""
    env = dict(os.environ)
    env.pop("WAMPD_CONFIG", None)
    completed = subprocess.run([str(arg) for arg in args], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout, env=env)
    assert completed.returncode == 0, (
        f"{' '.join(map(str, args))} exited with {completed.returncode}:\n"
        f"{completed.stdout}\n{completed.stderr}")
    return completed


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """An installation of the build tree."""
    prefix = tmp_path_factory.mktemp("prefix")
    run_step(["cmake", "--install", BUILD_DIR, "--prefix", prefix])
    return prefix


@pytest.fixture(scope="module")
def hello_prefix(prefix, tmp_path_factory):
    """`prefix` with the out-of-tree hello plugin built against it and installed into it."""
    build = tmp_path_factory.mktemp("hello-build")
    run_step(["cmake", "-S", HELLO_SOURCE, "-B", build, "-G", "Ninja",
              f"-DCMAKE_PREFIX_PATH={prefix}"])
    run_step(["cmake", "--build", build])
    run_step(["cmake", "--install", build, "--prefix", prefix])
    return prefix


@pytest.fixture
def installed_wampd(tmp_path):
    """start(prefix, *args) -> a running `PREFIX/bin/wampd --port N *args`, with no
    --config. At teardown each must exit 0 within 5 s of SIGTERM."""
    started = []

    def start(prefix, *args):
        port = free_port()
        command = [str(prefix / "bin" / "wampd"), "--port", str(port), *map(str, args)]
        server = WampdProcess(command, port, tmp_path / f"installed-{len(started)}.log", None)
        started.append(server)
        server.wait_ready()
        return server

    yield start

    failures = []
    for server in started:
        if server.reaped:
            continue
        try:
            code = server.stop()
        except AssertionError as error:
            failures.append(str(error))
            continue
        if code != 0:
            failures.append(f"installed wampd exited with {code}:\n{server.log()}")
    assert not failures, "\n\n".join(failures)


# ---- layout ----

INSTALLED_FILES = [
    "bin/wampd",
    "bin/wampctl",
    "lib/wampd/plugins/ping.so",
    "lib/wampd/plugins/ping.yml",
    "lib/wampd/plugins/broadcast.so",
    "lib/wampd/plugins/broadcast.yml",
    "share/wampd/wampd.yml",
    "include/wampd/wampd.h",
    "lib/cmake/wampd/wampdConfig.cmake",
]


@pytest.mark.parametrize("relative", INSTALLED_FILES)
def test_installation_holds(prefix, relative):
    assert (prefix / relative).is_file(), f"{relative} not installed under {prefix}"


@pytest.mark.parametrize("program", ["bin/wampd", "bin/wampctl"])
def test_installed_programs_are_executable(prefix, program):
    assert os.access(prefix / program, os.X_OK)


def test_installation_has_the_bundled_routing_files(prefix):
    routing = sorted(path.name for path in (prefix / "share" / "wampd" / "routing").glob("*.yml"))
    assert routing, "no routing files under share/wampd/routing"
    channels = "".join((prefix / "share" / "wampd" / "routing" / name).read_text()
                       for name in routing)
    assert "oro/ping" in channels and "oro/maintenance" in channels


def test_installed_sdk_headers_match_the_source_tree(prefix):
    sources = SOURCE_DIR / "sdk" / "include" / "wampd"
    for header in sources.glob("*.h"):
        installed = prefix / "include" / "wampd" / header.name
        assert installed.is_file(), f"{header.name} not installed"
        assert installed.read_bytes() == header.read_bytes(), f"{header.name} differs"


# ---- the installed wampd on its own ----


def test_installed_wampd_checks_its_own_default_config(prefix):
    completed = run_step([prefix / "bin" / "wampd", "--check-config"], timeout=30)
    own_config = prefix / "share" / "wampd" / "wampd.yml"
    assert f"{own_config}: OK" in completed.stdout, completed.stdout + completed.stderr
    assert str(BUILD_DIR) not in completed.stdout + completed.stderr


def test_installed_wampd_serves_with_its_default_config(prefix, installed_wampd):
    server = installed_wampd(prefix)

    async def scenario():
        async with await WampV1Client.connect(server.url) as client:
            await client.send([CALL, "topics", "wampd.topics"])
            return await client.recv()

    reply = run(scenario())
    assert reply[:2] == [CALLRESULT, "topics"], reply
    channels = {route["channel"] for route in reply[2]}
    assert {"oro/ping", "oro/maintenance"} <= channels
    assert all(route["handler_loaded"] for route in reply[2]), reply[2]
    assert str(prefix / "share" / "wampd" / "wampd.yml") in server.log()
    assert server.stop(STOP_TIMEOUT) == 0


# ---- a plugin built outside the tree ----


def test_out_of_tree_plugin_installs_into_the_installation(hello_prefix):
    assert (hello_prefix / "lib" / "wampd" / "plugins" / "hello.so").is_file()
    assert (hello_prefix / "lib" / "wampd" / "plugins" / "hello.yml").is_file()
    assert "hello/{room}" in (hello_prefix / "share" / "wampd" / "routing" /
                              "hello.yml").read_text()


async def greeting_for(server, event):
    """Publishes `event` to hello/lobby from one client and returns what a subscriber gets:
    (the parsed EVENT, its raw text)."""
    subscriber = await WampV1Client.connect(server.url)
    publisher = await WampV1Client.connect(server.url)
    async with subscriber, publisher:
        await subscriber.subscribe(HELLO_TOPIC)
        # One connection's messages are handled in order: once this is answered, the
        # subscription is in place.
        await subscriber.send([CALL, "barrier", "wampd.topics"])
        reply = await subscriber.recv()
        assert reply[:2] == [CALLRESULT, "barrier"], reply
        await publisher.publish(HELLO_TOPIC, event)
        raw = await subscriber.recv_raw()
        await subscriber.expect_no_message(0.3)
        await publisher.expect_no_message(0.1)
        return raw


@pytest.mark.parametrize("greeting", ["Hello", "Bonjour"])
def test_installed_wampd_serves_the_out_of_tree_plugin(hello_prefix, installed_wampd,
                                                        greeting):
    params = [] if greeting == "Hello" else ["--param", f"hello.greeting={greeting}"]
    server = installed_wampd(hello_prefix, *params)
    raw = run(greeting_for(server, {"x": 1}))
    expected = f'{{"greeting":"{greeting}","room":"lobby","event":{{"x":1}}}}'
    assert raw.startswith(f"[{EVENT},") and raw.endswith(f",{expected}]"), raw
    assert json.loads(raw) == [EVENT, HELLO_TOPIC, json.loads(expected)]
