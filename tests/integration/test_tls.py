"""Native TLS (wss): server.tls and server.listen, client certificates, min_version, bad
input on a TLS port, certificate reload, and wampctl over wss://.

Certificates are made at test time with the `openssl` command (no key is committed): a test
CA, a server certificate it signed for localhost and 127.0.0.1, client certificates from it
and from another CA, and a self-signed server certificate.
"""

import asyncio
import json
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest
import websockets

from conftest import SANITIZED, WAMPCTL, default_config, free_port
from wamp_client import DEFAULT_TIMEOUT, EVENT, PUBLISH, SUBSCRIBE, WampV1Client, run

TOPIC = "oro/data/update"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


class Pki:
    """Keys and certificates in `directory`; every key is P-256 (fast to make)."""

    def __init__(self, directory):
        self.dir = directory
        directory.mkdir(exist_ok=True)

    def path(self, name):
        return self.dir / name

    def _key(self, name):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                f"{name}.key", cwd=self.dir)

    def ca(self, name):
        self._key(name)
        openssl("req", "-x509", "-new", "-key", f"{name}.key", "-out", f"{name}.crt", "-days",
                "2", "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        return self.path(f"{name}.crt")

    def leaf(self, name, ca, serial, server=True):
        """A certificate for `name` signed by CA `ca` (None: self-signed)."""
        self._key(name)
        ext = self.path(f"{name}.ext")
        usage = "serverAuth" if server else "clientAuth"
        ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                       f"extendedKeyUsage={usage}\n")
        if ca is None:
            openssl("req", "-x509", "-new", "-key", f"{name}.key", "-out", f"{name}.crt",
                    "-days", "2", "-subj", "/CN=localhost", "-set_serial", str(serial),
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", cwd=self.dir)
        else:
            openssl("req", "-new", "-key", f"{name}.key", "-out", f"{name}.csr", "-subj",
                    "/CN=localhost" if server else f"/CN={name}", cwd=self.dir)
            openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey",
                    f"{ca}.key", "-set_serial", str(serial), "-days", "2", "-out",
                    f"{name}.crt", "-extfile", f"{name}.ext", cwd=self.dir)
        return self.path(f"{name}.crt"), self.path(f"{name}.key")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    p.ca("ca")
    p.ca("other-ca")
    p.leaf("server", "ca", serial=0x1111)
    p.leaf("server2", "ca", serial=0x2222)
    p.leaf("client", "ca", serial=0x3333, server=False)
    p.leaf("stranger", "other-ca", serial=0x4444, server=False)
    p.leaf("selfsigned", None, serial=0x5555)
    return p


def tls_config(pki, tls_port, cert="server", ca=None, min_version=None, plain=True):
    """Plain listener first (the port the fixture passes with --port), TLS second."""
    tls = {"certificate": str(pki.path(f"{cert}.crt")),
           "private_key": str(pki.path(f"{cert}.key"))}
    if ca:
        tls["ca"] = str(pki.path(f"{ca}.crt"))
    if min_version:
        tls["min_version"] = min_version
    listen = [{"port": 1, "tls": False}] if plain else []
    listen.append({"port": tls_port, "tls": True})
    return default_config(server={"host": "127.0.0.1", "listen": listen, "tls": tls})


def client_context(pki, cert=None, maximum=None, minimum=None):
    context = ssl.create_default_context(cafile=str(pki.path("ca.crt")))
    if cert:
        context.load_cert_chain(str(pki.path(f"{cert}.crt")), str(pki.path(f"{cert}.key")))
    if maximum:
        context.maximum_version = maximum
    if minimum:
        context.minimum_version = minimum
    return context


def wss(port):
    return f"wss://localhost:{port}/"


def start(wampd_factory, config):
    """Starts wampd and waits for its TLS port too (the fixture waits for the first)."""
    server = wampd_factory(config=config)
    tls_port = config["server"]["listen"][-1]["port"]
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", tls_port), timeout=1).close()
            return server
        except OSError:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)


async def subscribed(url, **options):
    client = await WampV1Client.connect(url, **options)
    await client.send([SUBSCRIBE, TOPIC])
    return client


async def expect_event(client, payload):
    message = await client.recv()
    assert message == [EVENT, TOPIC, payload], message


async def v2_session(url, context):
    """A raw WAMP v2 (wamp.2.json) session over wss: HELLO, WELCOME; returns the socket."""
    ws = await websockets.connect(url, ssl=context, subprotocols=["wamp.2.json"],
                                  ping_interval=None, open_timeout=DEFAULT_TIMEOUT)
    await ws.send(json.dumps([1, "realm1", {"roles": {"subscriber": {}, "publisher": {}}}]))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), DEFAULT_TIMEOUT))
    assert welcome[0] == 2, welcome
    return ws


def serial_of(port, context):
    """The serial number of the certificate a new TLS connection to `port` is shown."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return int(tls.getpeercert()["serialNumber"], 16)


def test_v1_and_v2_over_wss_beside_a_plain_listener(pki, wampd_factory):
    tls_port = free_port()
    server = start(wampd_factory, tls_config(pki, tls_port))
    context = client_context(pki)

    async def scenario():
        secure = await subscribed(wss(tls_port), ssl=context)
        plain = await subscribed(server.url)
        v2 = await v2_session(wss(tls_port), context)
        assert v2.subprotocol == "wamp.2.json"
        await v2.send(json.dumps([32, 1, {}, TOPIC]))
        subscribed_v2 = json.loads(await asyncio.wait_for(v2.recv(), DEFAULT_TIMEOUT))
        assert subscribed_v2[0] == 33, subscribed_v2
        # Published on the plain port, received on both; and the other way round.
        await plain.send([PUBLISH, TOPIC, {"from": "plain"}, True])  # not to itself
        await expect_event(secure, {"from": "plain"})
        event = json.loads(await asyncio.wait_for(v2.recv(), DEFAULT_TIMEOUT))
        assert event[0] == 36 and event[4] == [{"from": "plain"}], event
        await secure.send([PUBLISH, TOPIC, {"from": "tls"}, True])
        await expect_event(plain, {"from": "tls"})
        assert secure.ws.transport.get_extra_info("ssl_object").version() in ("TLSv1.3",
                                                                               "TLSv1.2")
        await v2.close()
        await secure.close()
        await plain.close()

    run(scenario())
    assert f"listening on 127.0.0.1:{tls_port} (wss)" in server.log()


def test_v1_welcome_leaves_in_the_same_tls_record_as_the_101(pki, wampd_factory):
    """Oro's PHP client reads the 101 and the WELCOME with one read; over TLS one read
    returns one record, so both must be in one."""
    tls_port = free_port()
    start(wampd_factory, tls_config(pki, tls_port))
    request = ("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n\r\n")
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
        with client_context(pki).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(request.encode())
            first = tls.recv(65536)
    assert first.startswith(b"HTTP/1.1 101"), first
    assert b"\r\n\r\n\x81" in first and b'[0,"' in first, first


def test_client_certificates_are_required_and_verified_with_ca(pki, wampd_factory):
    tls_port = free_port()
    server = start(wampd_factory, tls_config(pki, tls_port, ca="ca"))

    async def refused(context):
        with pytest.raises((ssl.SSLError, OSError, EOFError, asyncio.TimeoutError,
                            websockets.exceptions.WebSocketException)):
            client = await WampV1Client.connect(wss(tls_port), ssl=context)
            await client.close()

    async def scenario():
        good = await subscribed(wss(tls_port), ssl=client_context(pki, cert="client"))
        await refused(client_context(pki))                   # no certificate
        await refused(client_context(pki, cert="stranger"))  # another CA's
        # The refusals cost the accepted client nothing.
        await good.send([PUBLISH, TOPIC, "still here", False])
        await expect_event(good, "still here")
        await good.close()

    run(scenario())
    assert "TLS handshake from 127.0.0.1 failed" in server.log()


def test_min_version_1_3_refuses_a_tls_1_2_client(pki, wampd_factory):
    tls_port = free_port()
    start(wampd_factory, tls_config(pki, tls_port, min_version="1.3"))
    only_12 = client_context(pki, maximum=ssl.TLSVersion.TLSv1_2)
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            only_12.wrap_socket(raw, server_hostname="localhost")
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
        with client_context(pki).wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.3"
    # 1.2 is the default minimum: a 1.2 client is served there.
    tls_port2 = free_port()
    start(wampd_factory, tls_config(pki, tls_port2))
    with socket.create_connection(("127.0.0.1", tls_port2), timeout=5) as raw:
        with only_12.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == "TLSv1.2"


def dropped(port, payload):
    """Sends `payload` in the clear to a TLS port; True when the server ends the connection
    (EOF or reset) without answering in HTTP."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        received = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                received += chunk
        except ConnectionResetError:
            pass
        return not received.startswith(b"HTTP")


def test_plain_http_and_garbage_on_the_tls_port_are_dropped_while_others_are_served(
        pki, wampd_factory):
    tls_port = free_port()
    server = start(wampd_factory, tls_config(pki, tls_port))
    context = client_context(pki)

    async def scenario():
        client = await subscribed(wss(tls_port), ssl=context)
        loop = asyncio.get_running_loop()
        upgrade = (b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   b"Sec-WebSocket-Version: 13\r\n\r\n")
        assert await loop.run_in_executor(None, dropped, tls_port, upgrade)
        assert await loop.run_in_executor(None, dropped, tls_port, bytes(range(256)) * 8)
        # A ClientHello cut short and then garbage: a bad record mid-handshake.
        assert await loop.run_in_executor(None, dropped, tls_port,
                                          b"\x16\x03\x01\x00\x10" + b"\xff" * 64)
        await client.send([PUBLISH, TOPIC, "after", False])
        await expect_event(client, "after")
        fresh = await subscribed(wss(tls_port), ssl=context)
        await fresh.close()
        await client.close()

    run(scenario())
    assert server.returncode is None


def reload_and_wait(server, generation):
    """SIGHUP; the log once generation `generation` serves or one more reload failed."""
    failures = server.log().count("reload failed (SIGHUP)")
    server.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = server.log()
        if (f"generation {generation} serving" in log
                or log.count("reload failed (SIGHUP)") > failures):
            return log
        time.sleep(0.05)
    raise AssertionError(server.log())


def test_reload_serves_a_new_certificate_to_new_connections_and_keeps_old_ones(
        pki, wampd_factory, tmp_path):
    cert, key = tmp_path / "live.crt", tmp_path / "live.key"
    cert.write_bytes(pki.path("server.crt").read_bytes())
    key.write_bytes(pki.path("server.key").read_bytes())
    tls_port = free_port()
    config = tls_config(pki, tls_port)
    config["server"]["tls"] = {"certificate": "live.crt", "private_key": "live.key"}
    config_path = tmp_path / "wampd-tls.yml"
    config_path.write_text(json.dumps(config))
    server = wampd_factory(config=config_path)
    context = client_context(pki)
    deadline = time.monotonic() + 10
    while True:
        try:
            assert serial_of(tls_port, context) == 0x1111
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    async def scenario():
        old = await subscribed(wss(tls_port), ssl=context)
        loop = asyncio.get_running_loop()
        # A new certificate and key (relative paths: beside the config file).
        cert.write_bytes(pki.path("server2.crt").read_bytes())
        key.write_bytes(pki.path("server2.key").read_bytes())
        log = await loop.run_in_executor(None, reload_and_wait, server, 2)
        assert "generation 2 serving" in log, log
        assert await loop.run_in_executor(None, serial_of, tls_port, context) == 0x2222
        peer = old.ws.transport.get_extra_info("ssl_object").getpeercert()
        assert int(peer["serialNumber"], 16) == 0x1111
        await old.send([PUBLISH, TOPIC, "old connection", False])
        await expect_event(old, "old connection")

        # A broken certificate: the reload fails naming the file, the last one serves on.
        cert.write_text("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        log = await loop.run_in_executor(None, reload_and_wait, server, 3)
        assert re.search(r"reload failed \(SIGHUP\), generation 2 keeps serving: "
                         + re.escape(str(cert)), log), log
        assert await loop.run_in_executor(None, serial_of, tls_port, context) == 0x2222
        # A key that does not match the certificate names the key.
        cert.write_bytes(pki.path("server.crt").read_bytes())
        log = await loop.run_in_executor(None, reload_and_wait, server, 3)
        assert f"keeps serving: {key}: server.tls.private_key does not match" in log, log
        await old.send([PUBLISH, TOPIC, "still", False])
        await expect_event(old, "still")
        await old.close()

    run(scenario())


def test_listen_tls_without_a_tls_section_is_a_config_error(wampd_factory, tmp_path):
    config = tmp_path / "bad.yml"
    config.write_text("server:\n  listen:\n    - {port: 1}\n    - {port: 2, tls: true}\n"
                      "routing: []\n")
    server = wampd_factory(config=config, wait=False)
    assert server.wait() != 0
    assert f"{config}:4:" in server.log() and "needs a server.tls section" in server.log()


def test_wampctl_publishes_over_wss(pki, wampd_factory, runtime_dir):
    tls_port = free_port()
    start(wampd_factory, tls_config(pki, tls_port, cert="selfsigned"))
    url = wss(tls_port)

    def wampctl(*args):
        done = subprocess.run([str(WAMPCTL), "--url", url, *args], capture_output=True,
                              text=True, timeout=30)
        return done.returncode, done.stderr

    code, err = wampctl("--ca", str(pki.path("selfsigned.crt")), "publish", TOPIC, '{"a":1}')
    assert code == 0, err
    code, err = wampctl("--insecure", "publish", TOPIC, '{"a":2}')
    assert code == 0, err
    code, err = wampctl("publish", TOPIC, '{"a":3}')
    assert code == 1, err
    assert "certificate" in err.lower(), err
    # Trusting a CA that did not sign it is no better.
    code, err = wampctl("--ca", str(pki.path("ca.crt")), "publish", TOPIC, '{"a":4}')
    assert code == 1, err


def masked_text(payload):
    """A client's text frame (masked, as RFC 6455 requires), payload under 126 bytes."""
    mask = b"\x01\x02\x03\x04"
    data = payload.encode()
    assert len(data) < 126
    return (bytes([0x81, 0x80 | len(data)]) + mask
            + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def test_a_tls_subscriber_that_stops_reading_is_cut_off_by_the_send_queue_limit(
        pki, wampd_factory):
    """Ciphertext is made only as fast as it leaves, so what waits is counted plaintext and
    the slow-consumer limit (4 MiB) holds over TLS as without it; memory stays bounded."""
    tls_port = free_port()
    server = start(wampd_factory, tls_config(pki, tls_port))
    raw = socket.create_connection(("127.0.0.1", tls_port), timeout=5)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow = client_context(pki).wrap_socket(raw, server_hostname="localhost")
    slow.sendall(("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n\r\n").encode())
    assert slow.recv(65536).startswith(b"HTTP/1.1 101")
    slow.sendall(masked_text(json.dumps([SUBSCRIBE, TOPIC])))
    with open(f"/proc/{server.pid}/status") as status:
        rss_start = next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))

    async def scenario():
        reader = await subscribed(wss(tls_port), ssl=client_context(pki))
        publisher = await WampV1Client.connect(server.url)
        big = "x" * 4096
        for i in range(3000):  # 12 MiB for the subscriber that does not read
            await publisher.send([PUBLISH, TOPIC, [i, big], True])
            if i % 100 == 99:
                for j in range(i - 99, i + 1):
                    message = await reader.recv()
                    assert message[2][0] == j, message[:2]
            if "send queue over" in server.log():
                break
        assert "send queue over" in server.log(), server.log()[-2000:]
        await publisher.close()
        await reader.close()

    run(scenario())
    with open(f"/proc/{server.pid}/status") as status:
        rss_end = next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
    if not SANITIZED:  # ASan's quarantine holds freed memory
        assert rss_end - rss_start < 64 * 1024, (rss_start, rss_end)
    slow.close()


UPGRADE = ("GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n\r\n")


def test_a_deferred_handshake_reads_the_frame_sent_behind_its_request(
        pki, wampd_factory, monkeypatch):
    """A ticket's digest is verified off the I/O thread, so the handshake is answered later.
    A SUBSCRIBE sent right behind the request (its own record) is by then waiting in the TLS
    engine, where no readiness of the socket announces it: it must still be read."""
    from test_auth import SECRET, php_ticket
    from urllib.parse import quote

    monkeypatch.setenv("WAMPD_TEST_VERIFY_DELAY_MS", "300")
    tls_port = free_port()
    config = tls_config(pki, tls_port)
    config["auth"] = {"secret": SECRET, "trusted_addresses": ["127.0.0.1"]}
    server = start(wampd_factory, config)
    request = UPGRADE.format(path=f"/?ticket={quote(php_ticket(), safe='')}")
    with socket.create_connection(("127.0.0.1", tls_port), timeout=5) as raw:
        with client_context(pki).wrap_socket(raw, server_hostname="localhost") as tls:
            # Two records in one segment (corked): the server reads both with one recv, and
            # the second stays in the engine while the ticket is verified.
            tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
            tls.sendall(request.encode())
            tls.sendall(masked_text(json.dumps([SUBSCRIBE, TOPIC])))
            tls.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            received = b""
            while b'[0,"' not in received:
                received += tls.recv(65536)
            assert received.startswith(b"HTTP/1.1 101"), received

            async def publish():
                async with await WampV1Client.connect(server.url) as publisher:
                    await publisher.send([PUBLISH, TOPIC, "behind the request", True])

            # The subscription may land a moment after the WELCOME: publish until it has.
            deadline = time.monotonic() + 5
            tls.settimeout(0.3)
            while b"behind the request" not in received:
                assert time.monotonic() < deadline, (received, server.log()[-2000:])
                run(publish())
                try:
                    received += tls.recv(65536)
                except socket.timeout:
                    pass


def test_the_tls_handshake_counts_against_the_handshake_timeout(pki, wampd_factory):
    """A client that starts a TLS handshake and stalls is dropped at the 5 s handshake
    timeout, as one that stalls in the HTTP upgrade is."""
    tls_port = free_port()
    start(wampd_factory, tls_config(pki, tls_port))
    with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as raw:
        began = time.monotonic()
        raw.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, never finished
        try:
            assert raw.recv(4096) == b""
        except ConnectionResetError:
            pass
        waited = time.monotonic() - began
    assert 4.0 < waited < 7.0, waited
