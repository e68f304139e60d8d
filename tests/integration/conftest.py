"""Fixtures for integration tests: real wampd processes on free loopback ports, real
clients, wampctl.

Paths come from the environment ctest sets (tests/CMakeLists.txt): WAMPD_BUILD_DIR,
WAMPD_SOURCE_DIR, WAMPD_FIXTURE_PLUGIN_DIR. Run by hand, they default to the source tree
this file is in and its build/ directory.
"""

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

# Absolute, because config files written to tmp_path name these directories.
SOURCE_DIR = Path(os.environ.get("WAMPD_SOURCE_DIR") or Path(__file__).parents[2]).resolve()
BUILD_DIR = Path(os.environ.get("WAMPD_BUILD_DIR") or SOURCE_DIR / "build").resolve()
FIXTURE_PLUGIN_DIR = Path(os.environ.get("WAMPD_FIXTURE_PLUGIN_DIR")
                          or BUILD_DIR / "tests" / "fixtures" / "plugins").resolve()

WAMPD = BUILD_DIR / "bin" / "wampd"
# AddressSanitizer keeps freed memory in quarantine (resident) and opens descriptors of its
# own: memory bounds measured as RSS, and runs at a tiny open-files limit, do not hold there.
SANITIZED = "WAMPD_SANITIZE:BOOL=ON" in (
    (BUILD_DIR / "CMakeCache.txt").read_text(errors="replace")
    if (BUILD_DIR / "CMakeCache.txt").exists() else "")
WAMPCTL = BUILD_DIR / "bin" / "wampctl"
BUILD_CONFIG = BUILD_DIR / "config" / "wampd.yml"
BUNDLED_PLUGIN_DIR = BUILD_DIR / "plugins"
BUNDLED_ROUTING = [
    SOURCE_DIR / "plugins" / "ping" / "routing.yml",
    SOURCE_DIR / "plugins" / "broadcast" / "routing.yml",
    SOURCE_DIR / "plugins" / "secured" / "routing.yml",
]
# Oro's routes are backend-only (`publish: backend`). Functional tests publish from plain
# local clients, so their servers trust loopback as the backend; tests of who may publish
# (test_auth.py) write configs without this.
TRUSTED_LOOPBACK = {"trusted_addresses": ["127.0.0.1"]}
SAMPLE_PLUGIN_DIR = FIXTURE_PLUGIN_DIR / "sample"
SAMPLE_ROUTING = FIXTURE_PLUGIN_DIR / "sample-routing" / "routing.yml"

# Sanitizer builds start and stop slower; the shutdown bound is the product's promise.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def free_port():
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_config(**overrides):
    """A server config (as a dict) serving the bundled plugins and routes plus the `sample`
    fixture plugin (RPC handler sample.rpc on sample/{method}). Keys in `overrides` replace
    top-level keys."""
    config = {
        "server": {"host": "127.0.0.1", "port": 8080},
        "log_level": "debug",
        "plugins": {"directories": [str(BUNDLED_PLUGIN_DIR), str(SAMPLE_PLUGIN_DIR)]},
        "routing": [str(path) for path in BUNDLED_ROUTING] + [str(SAMPLE_ROUTING)],
        "parameters": {"oro_sync.websocket_ping.interval": 50},
        "auth": dict(TRUSTED_LOOPBACK),
    }
    config.update(overrides)
    return config


def default_config(**overrides):
    """The build tree's default config (bundled plugins and routes), with loopback trusted
    as the backend."""
    config = sample_config(**overrides)
    config["plugins"] = overrides.get("plugins", {"directories": [str(BUNDLED_PLUGIN_DIR)]})
    config["routing"] = overrides.get("routing", [str(path) for path in BUNDLED_ROUTING])
    return config


class WampdProcess:
    """A running wampd. Its stdout and stderr go to `log_path`."""

    def __init__(self, args, port, log_path, config_path):
        self.args = args
        self.port = port
        self.log_path = log_path
        self.config_path = config_path
        self._log_file = open(log_path, "wb")
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT,
            env=_server_environment())
        # Set once the test has collected the exit code itself (stop() or wait()).
        self.reaped = False

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def pid(self):
        return self.process.pid

    @property
    def returncode(self):
        return self.process.poll()

    def log(self):
        """Everything the server wrote so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text, timeout=5.0):
        """Waits until `text` appears in the log; fails the test if it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not in wampd's log within {timeout} s:\n{self.log()}")

    def wait_ready(self, timeout=START_TIMEOUT):
        """Waits until the port accepts connections; fails if wampd exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.reaped = True
                raise AssertionError(
                    f"wampd exited with code {self.process.returncode} before listening "
                    f"on {self.port}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"wampd not listening on {self.port} after {timeout} s:\n"
                             f"{self.log()}")

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for wampd to exit on its own and returns its exit code."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(f"wampd still running after {timeout} s:\n{self.log()}")
        self.reaped = True
        self._log_file.close()
        return code

    def signal(self, signum):
        self.process.send_signal(signum)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then the exit code; fails if wampd takes longer than `timeout` s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(
                f"wampd did not exit within {timeout} s of SIGTERM:\n{self.log()}")
        self.reaped = True
        self._log_file.close()
        return code

    def _kill(self):
        self.process.kill()
        self.process.wait()
        self.reaped = True
        self._log_file.close()


def _server_environment():
    env = dict(os.environ)
    # The config under test is always given with --config.
    env.pop("WAMPD_CONFIG", None)
    return env


def _write_config(config, directory, index):
    """Turns a `config` argument into a file path: None is the build tree's default config,
    a dict is written as JSON (which YAML reads), a str is written as YAML text, a Path is
    used as it is."""
    if config is None:
        return BUILD_CONFIG
    if isinstance(config, Path):
        return config
    path = directory / f"wampd-{index}.yml"
    if isinstance(config, dict):
        path.write_text(json.dumps(config, indent=2) + "\n")
    else:
        path.write_text(config)
    return path


def serve_sample_config(directory):
    """A wampd serving sample_config() from `directory`, ready: for module-scoped fixtures
    whose one server takes every case of the module (the fixture stops it)."""
    config = directory / "wampd.yml"
    config.write_text(json.dumps(sample_config(), indent=2))
    port = free_port()
    process = WampdProcess([str(WAMPD), "--config", str(config), "--port", str(port)], port,
                           directory / "wampd.log", config)
    process.wait_ready()
    return process


@pytest.fixture
def wampd_factory(tmp_path):
    """start(config=None, params=None, extra_args=(), wait=True) -> WampdProcess.

    Starts `wampd --config FILE --port N` on a free port (config: see _write_config;
    params: {name: value} passed as --param name=value) and, with wait=True, waits until it
    listens. At teardown every server still running gets SIGTERM and must exit with code 0
    within 5 s; one that exited on its own without the test collecting its code fails the
    test."""
    started = []

    def start(config=None, params=None, extra_args=(), wait=True):
        index = len(started)
        config_path = _write_config(config, tmp_path, index)
        port = free_port()
        args = [str(WAMPD), "--config", str(config_path), "--port", str(port)]
        for name, value in (params or {}).items():
            args += ["--param", f"{name}={value}"]
        args += [str(arg) for arg in extra_args]
        server = WampdProcess(args, port, tmp_path / f"wampd-{index}.log", config_path)
        started.append(server)
        if wait:
            server.wait_ready()
        return server

    yield start

    failures = []
    for server in started:
        if server.reaped:
            continue
        if server.returncode is not None:
            server.reaped = True
            failures.append(f"wampd exited on its own with code {server.returncode}:\n"
                            f"{server.log()}")
            continue
        try:
            code = server.stop()
        except AssertionError as error:
            failures.append(str(error))
            continue
        if code != 0:
            failures.append(f"wampd exited with code {code} after SIGTERM:\n{server.log()}")
    assert not failures, "\n\n".join(failures)


@pytest.fixture
def wampd(wampd_factory):
    """wampd serving the bundled plugins and routes, loopback trusted as the backend."""
    return wampd_factory(config=default_config())


@pytest.fixture
def sample_wampd(wampd_factory):
    """wampd serving the bundled plugins plus the `sample` fixture plugin."""
    return wampd_factory(config=sample_config())


def run_wampctl(*args, timeout=30.0):
    """Runs wampctl with `args`; returns (exit code, stdout, stderr)."""
    completed = subprocess.run(
        [str(WAMPCTL), *[str(arg) for arg in args]], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout)
    return completed.returncode, completed.stdout, completed.stderr


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch):
    """Cookies in this test's own directory; no token or secret from the caller's shell."""
    directory = tmp_path / "run"
    directory.mkdir()
    monkeypatch.setenv("WAMPD_RUNTIME_DIR", str(directory))
    for name in ("WAMPD_BACKEND_TOKEN", "WAMPD_SECRET", "WAMPD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return directory


@pytest.fixture
def wampctl():
    """run_wampctl: wampctl(*args, timeout=30) -> (rc, stdout, stderr)."""
    return run_wampctl
