"""docs/ORO.md, run: every fenced block tagged `oro-guide:NAME` is executed against a real
wampd, in the guide's order, with this machine's paths.

Each block runs as written under bash, after these substitutions (the only ones):
  /etc/wampd/  -> this test's config directory (`wampd.yml`, `users.yml` in it)
  /run/wampd/  -> this test's runtime directory (WAMPD_RUNTIME_DIR, as the unit sets it)
  :8080, wampd-8080 -> a free port
  chgrp wampd  -> chgrp to this user's group (there is no user wampd here)
and with `sudo` running its command as this user and `systemctl start|stop|restart|reload|
disable --now wampd` acting on a wampd this test starts as the unit does (`wampd --config
/etc/wampd/wampd.yml`). `wampd` and `wampctl` are the build tree's; `wampctl` finds the
guide's config by itself, as /usr/bin/wampctl finds /etc/wampd/wampd.yml ($WAMPD_CONFIG).
The YAML block `oro-guide:config` is merged into the config.

Oro's side is simulated: tickets are made by the project's PHP ticket code as Oro makes them
(tests/unit/auth/oro_ticket.php, with the guide's secret), Oro's backend client connects to
the backend DSN's URL and publishes on a raw socket, reading as the PHP client reads, and
browsers connect on /ws as nginx forwards them. Commands for supervisor, nginx, apt, psql and
Oro's console are not run here: test_untagged_blocks_hold_only_commands_of_other_systems
keeps wampd's own commands out of untagged blocks, so none escapes this test.
"""

import asyncio
import json
import re
import socket
import subprocess
import time
from urllib.parse import quote

import pytest
import yaml

from conftest import (BUILD_DIR, BUNDLED_PLUGIN_DIR, BUNDLED_ROUTING, SOURCE_DIR, WAMPCTL,
                      free_port)
from test_auth import derived_token, php_ticket
from test_transport import (assert_welcome, client_frame, first_bracketed, read_frame,
                            read_like_php, split_response, upgrade_request)
from wamp_client import CALLERROR, EVENT, WampV1Client, run

GUIDE = SOURCE_DIR / "docs" / "ORO.md"
BLOCK = re.compile(r"^```(\S+)(?: (oro-guide:\S+))?\n(.*?)^```\n", re.S | re.M)
# The blocks this file runs; the guide must have exactly these.
EXERCISED = {"config", "check-config", "reload", "switch", "token", "check", "rollback"}
# What untagged shell blocks may hold: other systems' commands and Oro's environment.
OTHER_SYSTEMS = [r"scripts/package\b", r"sudo apt install ", r"sudo -u postgres psql ",
                 r"sudo chgrp wampd /etc/wampd/users\.yml\.new ", r"sudo mv /etc/wampd/users",
                 r"sudo supervisorctl ", r"ORO_WEBSOCKET_\w+_DSN=", r"sudo -u www-data php ",
                 r"sudo systemctl restart php[0-9.]*-fpm$"]

JOHN = {"username": "john", "id": 5, "password": "$2y$13$johnJohnJohnJohnJohnJohnJohnJohnJo",
        "organizations": [1]}
NEWBIE = {"username": "newbie", "id": 9, "password": "$2y$13$newbieNewbieNewbieNewbieNewbie",
          "organizations": [1, 2]}


def guide_blocks():
    """[(language, tag or None, text)] of docs/ORO.md's fenced blocks, in order."""
    return [(m.group(1), m.group(2), m.group(3)) for m in BLOCK.finditer(GUIDE.read_text())]


def tagged(name):
    blocks = [text for _, tag, text in guide_blocks() if tag == f"oro-guide:{name}"]
    assert len(blocks) == 1, f"docs/ORO.md has {len(blocks)} blocks tagged oro-guide:{name}"
    return blocks[0]


def exported_users(*users):
    """The users file as the guide's psql export writes it (its format() line, one a user)."""
    lines = ["users:"]
    for user in users:
        organizations = ", ".join(str(o) for o in user["organizations"])
        lines.append(f"  - {{username: {json.dumps(user['username'])}, id: {user['id']}, "
                     f"password: {json.dumps(user['password'])}, organizations: [{organizations}]}}")
    return "\n".join(lines) + "\n"


# The unit's actions on the wampd this test runs: started detached as systemd would, stopped
# by SIGTERM; a clean exit is the log's last line, "wampd stopped".
PRELUDE = r"""
set -euo pipefail
sudo() { "$@"; }
wampd_running() { [ -s "$PIDFILE" ] && ! grep -q 'wampd stopped' "$LOG"; }
wampd_start() {
  [ -s "$LOG" ] && cat "$LOG" >> "$LOG.before"
  : > "$LOG"
  setsid wampd --config "$GUIDE_CONFIG" >> "$LOG" 2>&1 < /dev/null & echo $! > "$PIDFILE"
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then return 0; fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { cat "$LOG" >&2; return 1; }
    sleep 0.05
  done
  echo "wampd not listening on $PORT" >&2; return 1
}
wampd_stop() {
  wampd_running || return 0
  kill -TERM "$(cat "$PIDFILE")"
  for _ in $(seq 200); do
    grep -q 'wampd stopped' "$LOG" && { : > "$PIDFILE"; return 0; }
    sleep 0.05
  done
  echo "wampd did not stop" >&2; cat "$LOG" >&2; return 1
}
systemctl() {
  case "$*" in
    "start wampd") wampd_start ;;
    "stop wampd" | "disable --now wampd") wampd_stop ;;
    "restart wampd") wampd_stop; wampd_start ;;
    "reload wampd") kill -HUP "$(cat "$PIDFILE")" ;;
    *) echo "systemctl $*: not simulated" >&2; return 2 ;;
  esac
}
"""


class Guide:
    """The guide's machine: config directory, runtime directory, port, the wampd."""

    def __init__(self, tmp_path, runtime_dir):
        self.etc = tmp_path / "etc"
        self.etc.mkdir()
        self.runtime = runtime_dir
        self.port = free_port()
        self.config = self.etc / "wampd.yml"
        self.log = tmp_path / "wampd.log"
        self.pidfile = tmp_path / "wampd.pid"
        self.group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
        # The package's config (config/wampd.yml's settings), with the build tree's plugins
        # and routes, and the guide's additions merged in.
        config = {
            "server": {"host": "127.0.0.1", "port": 8080, "max_message_size": 65536,
                       "shutdown_timeout": 10},
            "log_level": "info",
            "plugins": {"directories": [str(BUNDLED_PLUGIN_DIR)]},
            "routing": [str(path) for path in BUNDLED_ROUTING],
            "parameters": {"oro_sync.websocket_ping.interval": 50},
        }
        for section, values in yaml.safe_load(self.localize(tagged("config"))).items():
            config.setdefault(section, {}).update(values)
        self.settings = config
        self.secret = config["auth"]["secret"]
        self.config.write_text(json.dumps(config, indent=2) + "\n")
        (self.etc / config["auth"]["users_file"]).write_text(exported_users(JOHN))

    def localize(self, text):
        return (text.replace("/etc/wampd/", f"{self.etc}/")
                .replace("/run/wampd/", f"{self.runtime}/")
                .replace(":8080", f":{self.port}").replace("wampd-8080", f"wampd-{self.port}")
                .replace("port: 8080", f"port: {self.port}")
                .replace("chgrp wampd ", f"chgrp {self.group} "))

    def run(self, name, expect_success=True):
        """Runs the block tagged oro-guide:NAME; returns its CompletedProcess."""
        env = {"PATH": f"{BUILD_DIR / 'bin'}:/usr/bin:/bin", "HOME": str(self.etc),
               "WAMPD_CONFIG": str(self.config), "WAMPD_RUNTIME_DIR": str(self.runtime),
               "GUIDE_CONFIG": str(self.config), "LOG": str(self.log),
               "PIDFILE": str(self.pidfile), "PORT": str(self.port)}
        script = PRELUDE + self.localize(tagged(name))
        completed = subprocess.run(["bash", "-c", script], env=env, capture_output=True,
                                   text=True, timeout=120, stdin=subprocess.DEVNULL)
        if expect_success:
            assert completed.returncode == 0, (
                f"oro-guide:{name} failed ({completed.returncode}):\n{tagged(name)}\n"
                f"stdout: {completed.stdout}\nstderr: {completed.stderr}\n"
                f"wampd's log:\n{self.server_log()}")
        return completed

    def server_log(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def url(self, path="/", ticket=None):
        url = f"ws://127.0.0.1:{self.port}{path}"
        return url if ticket is None else f"{url}?ticket={quote(ticket, safe='')}"

    def stop(self):
        """Teardown: a wampd still running gets SIGTERM and must stop cleanly."""
        if not self.pidfile.exists() or not self.pidfile.read_text().strip():
            return
        if "wampd stopped" in self.server_log():
            return
        subprocess.run(["kill", "-TERM", self.pidfile.read_text().strip()], check=False)
        deadline = time.monotonic() + 10
        while "wampd stopped" not in self.server_log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "wampd stopped" in self.server_log(), self.server_log()


@pytest.fixture
def guide(tmp_path, runtime_dir):
    guide = Guide(tmp_path, runtime_dir)
    yield guide
    guide.stop()


@pytest.fixture
def serving(guide):
    """The guide followed up to step 4: config checked, wampd started by the unit."""
    guide.run("check-config")
    guide.run("switch")
    return guide


# ---- the guide itself ----

def test_every_tagged_block_is_exercised():
    tags = [tag for _, tag, _ in guide_blocks() if tag]
    assert sorted(tags) == sorted(f"oro-guide:{name}" for name in EXERCISED)


def test_untagged_blocks_hold_only_commands_of_other_systems():
    for language, tag, text in guide_blocks():
        if tag or language != "sh":
            continue
        for line in text.splitlines():
            command = line.split("  #")[0].strip()
            assert any(re.match(pattern, command) for pattern in OTHER_SYSTEMS), (
                f"docs/ORO.md runs {command!r} in an untagged block: tag the block "
                "(oro-guide:NAME) and run it here, or it is not tested")


def test_backend_dsn_in_the_guide_carries_the_token_as_its_path():
    text = GUIDE.read_text()
    assert "ORO_WEBSOCKET_BACKEND_DSN=tcp://127.0.0.1:8080/<token>" in text
    assert "gos:websocket:server" in text and "[program:oro_web_socket]" in text
    for directive in ["proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                      'proxy_set_header Connection "upgrade";', "proxy_read_timeout"]:
        assert directive in text


# ---- steps 2, 4, 5: config, switch, token ----

def test_config_is_private_and_checks(guide):
    out = guide.run("check-config").stdout
    assert "OK:" in out, out
    assert guide.config.stat().st_mode & 0o777 == 0o640


def test_switch_starts_wampd_and_the_token_is_the_secrets(serving):
    assert "wampd listening on" in serving.server_log()
    token = serving.run("token").stdout.strip()
    # Derived from Oro's secret (HMAC, computed here independently): stable across restarts.
    assert token == derived_token(serving.secret)


# ---- step 7: checks, as browsers and Oro's backend see them ----

async def browser(guide, topic, ticket=None):
    """A browser as nginx forwards it: path /ws, an anonymous ticket Oro made, subscribed."""
    client = await WampV1Client.connect(guide.url("/ws", ticket or php_ticket(secret=guide.secret)))
    await client.subscribe(topic)
    await asyncio.sleep(0.2)
    return client


def oro_backend_publish(guide, path, topic, event):
    """Oro's backend client: its connection checker's handshake on the backend DSN's URL (an
    anonymous ticket made with Oro's secret appended), WELCOME read as PHP reads it, then
    PUBLISH [7, topic, event, [], []]. Returns what the server answered within 1 s."""
    ticket = php_ticket(secret=guide.secret)
    sock = socket.create_connection(("127.0.0.1", guide.port), timeout=5)
    with sock:
        request, _ = upgrade_request(guide.port, f"{path}?ticket={quote(ticket, safe='')}")
        sock.sendall(request)
        status, _, rest = split_response(read_like_php(sock))
        assert status == "HTTP/1.1 101 Switching Protocols", status
        assert_welcome(first_bracketed(rest))
        sock.sendall(client_frame(0x1, json.dumps([7, topic, event, [], []]).encode()))
        try:
            _, payload, _ = read_frame(sock, timeout=1.0)
            return json.loads(payload)
        except (socket.timeout, TimeoutError):
            return None


def test_checks_reach_browsers_and_oros_backend_publishes_with_the_token(serving):
    token = serving.run("token").stdout.strip()

    async def scenario():
        page = await browser(serving, "oro/maintenance")
        async with page:
            checked = await asyncio.to_thread(serving.run, "check")
            # curl's output first: /health's JSON, with no newline after it.
            health, _ = json.JSONDecoder().raw_decode(checked.stdout)
            assert health["status"] == "ok", checked.stdout
            on = await page.recv_event("oro/maintenance")
            off = await page.recv_event("oro/maintenance")
            # The backend DSN with the token: Oro's maintenance publish reaches the page.
            answer = await asyncio.to_thread(oro_backend_publish, serving, f"/{token}",
                                             "oro/maintenance", {"isOn": True, "userId": 1})
            assert answer is None, answer
            oro = await page.recv_event("oro/maintenance")
            # Oro's old DSN, without the token, is refused: step 5 is needed.
            refused = await asyncio.to_thread(oro_backend_publish, serving, "/",
                                              "oro/maintenance", {"isOn": True, "userId": 1})
            await page.expect_no_message(0.5)
            return on, off, oro, refused

    on, off, oro, refused = run(scenario())
    assert on[2]["isOn"] is True and off[2]["isOn"] is False
    assert oro == [EVENT, "oro/maintenance", {"isOn": True, "userId": 1}]
    assert refused[0] == CALLERROR and refused[4]["code"] == 403, refused


# ---- step 3: users' tickets ----

def test_users_tickets_keep_working_and_new_users_come_with_a_reload(serving):
    email_topic = "oro/email_event/5/1"

    async def john_gets_his_email_event():
        ticket = php_ticket(JOHN["username"], JOHN["password"], secret=serving.secret)
        async with await browser(serving, email_topic, ticket) as page:
            published = await asyncio.to_thread(
                subprocess.run, [str(WAMPCTL), "--config", str(serving.config), "publish",
                                 email_topic, '{"hasNewEmail": true}'],
                capture_output=True, text=True, timeout=30)
            assert published.returncode == 0, published.stderr
            return await page.recv_event(email_topic)

    assert run(john_gets_his_email_event())[2] == {"hasNewEmail": True}

    async def handshake_status(user):
        ticket = php_ticket(user["username"], user["password"], secret=serving.secret)
        try:
            async with await WampV1Client.connect(serving.url("/ws", ticket)):
                return 101
        except Exception as refused:  # websockets' InvalidStatusCode
            return getattr(refused, "status_code", None)

    assert run(handshake_status(NEWBIE)) == 403
    # The export's atomic rename, then the guide's reload.
    new = serving.etc / "users.yml.new"
    new.write_text(exported_users(JOHN, NEWBIE))
    new.rename(serving.etc / "users.yml")
    serving.run("reload")
    deadline = time.monotonic() + 10
    while run(handshake_status(NEWBIE)) != 101:
        assert time.monotonic() < deadline, serving.server_log()
        time.sleep(0.2)


# ---- step 8: roll back ----

def test_rollback_stops_wampd_cleanly(serving):
    serving.run("rollback")
    assert "wampd stopped" in serving.server_log()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", serving.port), timeout=1).close()
    completed = subprocess.run([str(WAMPCTL), "--config", str(serving.config), "check"],
                               capture_output=True, text=True, timeout=30)
    assert completed.returncode == 1
