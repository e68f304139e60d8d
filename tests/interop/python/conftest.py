"""Fixtures for the python3-autobahn interop tests: the integration harness (real wampd
processes on free ports, tests/integration/conftest.py) loaded under its own module name,
and the interop server config (ticket users, a backend token, dotted topics, two realms).

Tickets are made by PHP (tests/unit/auth/oro_ticket.php), independently of wampd.
"""

import hashlib
import hmac
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

INTEGRATION_DIR = Path(__file__).resolve().parents[2] / "integration"
# wamp_client (the raw WAMP v1 client) lives there.
sys.path.insert(0, str(INTEGRATION_DIR))

_spec = importlib.util.spec_from_file_location("wampd_integration_harness",
                                               INTEGRATION_DIR / "conftest.py")
harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = harness
_spec.loader.exec_module(harness)

# Fixtures pytest finds here.
wampd_factory = harness.wampd_factory

PHP_TICKETS = harness.SOURCE_DIR / "tests" / "unit" / "auth" / "oro_ticket.php"

SECRET = "InteropPythonKernelSecret-8e21c4"
USERS = {
    "john": {"username": "john", "id": 5, "password": "john-stored-hash-19ab",
             "roles": ["ROLE_USER"], "organizations": [1]},
    "jane": {"username": "jane", "id": 6, "password": "jane-stored-hash-44cd",
             "roles": ["ROLE_USER"], "organizations": [1]},
}
BACKEND_TOKEN = hmac.new(SECRET.encode(), b"wampd backend", hashlib.sha256).hexdigest()
OTHER_REALM = "interop.other"

# interop.<room>.event: topics for these tests, served by the broadcast plugin's handler.
DOTTED_ROUTING = """interop.dotted:
  channel: 'interop.{room}.event'
  handler: { callback: 'oro_sync.data_update' }
"""


def ticket(username="", age=0):
    """An Oro ticket made by PHP for `username` ('' = anonymous), created `age` s ago."""
    password = USERS[username]["password"] if username else ""
    made = subprocess.run(
        ["php", str(PHP_TICKETS), "ticket", SECRET, username, password,
         str(int(time.time()) - age)],
        capture_output=True, text=True, timeout=30)
    assert made.returncode == 0, made.stderr + made.stdout
    return made.stdout.strip()


class InteropServer:
    """A running wampd (harness.WampdProcess) with the URLs these tests use."""

    def __init__(self, process):
        self.process = process
        self.port = process.port

    @property
    def url(self):
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def backend_url(self):
        return f"ws://127.0.0.1:{self.port}/{BACKEND_TOKEN}"

    def url_with_ticket(self, value):
        return f"{self.url}?ticket={quote(value, safe='')}"

    def log(self):
        return self.process.log()


@pytest.fixture(autouse=True)
def private_runtime_dir(tmp_path, monkeypatch):
    """Backend cookies in this test's own directory; nothing from the caller's shell."""
    runtime = tmp_path / "run"
    runtime.mkdir()
    monkeypatch.setenv("WAMPD_RUNTIME_DIR", str(runtime))
    for name in ("WAMPD_BACKEND_TOKEN", "WAMPD_SECRET", "WAMPD_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def interop_config(tmp_path):
    """config(**auth) -> the interop server config as a dict; `auth` keys are added to
    {secret, users_file}."""

    def make(**auth):
        users = tmp_path / "users.json"
        users.write_text(json.dumps({"users": list(USERS.values())}, indent=2) + "\n")
        dotted = tmp_path / "dotted-routing.yml"
        dotted.write_text(DOTTED_ROUTING)
        config = harness.sample_config()
        config["server"]["realms"] = ["realm1", OTHER_REALM]
        config["routing"] = config["routing"] + [str(dotted)]
        config["auth"] = {"secret": SECRET, "users_file": str(users), **auth}
        return config

    return make


@pytest.fixture
def server(wampd_factory, interop_config):
    """wampd with the interop config: anyone may publish to interop.* topics; Oro's broadcast
    routes take publications from the backend only."""
    return InteropServer(wampd_factory(config=interop_config()))


@pytest.fixture
def start_server(wampd_factory, interop_config):
    """start(**auth) -> another InteropServer with `auth` added to the config."""

    def start(**auth):
        return InteropServer(wampd_factory(config=interop_config(**auth)))

    return start


@pytest.fixture(params=["json", "msgpack"])
def serializer(request):
    return request.param
