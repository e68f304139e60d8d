"""Plain HTTP on the WebSocket port: GET /health and GET /metrics, read by real clients
(urllib, and Prometheus' own text parser from Debian's python3-prometheus-client)."""

import json
import signal
import socket
import time
import urllib.error
import urllib.request

import msgpack
import websockets
from prometheus_client.parser import text_string_to_metric_families

from conftest import default_config
from wamp_client import WampV1Client, run


def http(server, path, method="GET"):
    """(status, content type, body) of one request."""
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def metrics(server):
    """{(name, frozenset(labels.items())): value} from /metrics, parsed by prometheus_client."""
    status, content_type, body = http(server, "/metrics")
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def test_health_names_the_serving_generation(wampd):
    status, content_type, body = http(wampd, "/health")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {"status": "ok", "generation": 1}
    wampd.signal(signal.SIGHUP)
    wampd.wait_for_log("generation 2 serving")
    assert json.loads(http(wampd, "/health?probe=1")[2]) == {"status": "ok", "generation": 2}


def test_head_and_other_methods(wampd):
    status, _, body = http(wampd, "/health", method="HEAD")
    assert (status, body) == (200, b"")
    status, _, body = http(wampd, "/metrics", method="POST")
    assert status == 405 and b"GET" in body


def test_limit_refusals_are_counted_by_reason(wampd_factory):
    server = wampd_factory(config=default_config(
        server={"host": "127.0.0.1", "port": 8080, "max_connections_per_ip": 1}))

    async def scenario():
        async with await WampV1Client.connect(server.url):
            try:
                await websockets.connect(server.url, subprotocols=["wamp"])
            except websockets.InvalidStatusCode as refused:
                assert refused.status_code == 503
            else:
                raise AssertionError("a second connection from the address was accepted")

    run(scenario())
    # The client's close may still be on its way: the scrape itself counts against the limit.
    deadline = time.monotonic() + 5
    while http(server, "/health")[0] != 200:
        assert time.monotonic() < deadline, "the address's connection was never released"
        time.sleep(0.05)
    samples = metrics(server)
    assert value(samples, "wampd_handshakes_refused_total", reason="max_connections_per_ip") >= 1


def test_other_paths_still_get_the_websocket_answer(wampd):
    status, _, body = http(wampd, "/")
    assert status == 426 and b"Upgrade" in body
    assert http(wampd, "/healthz")[0] == 426


def test_metrics_parse_and_follow_what_clients_do(wampd):
    before = metrics(wampd)
    assert value(before, "wampd_build_info", version="0.1.0",
                 abi=next(dict(k)["abi"] for (n, k) in before if n == "wampd_build_info")) == 1
    for protocol in ("v1", "v2_json", "v2_msgpack"):
        assert value(before, "wampd_connections", protocol=protocol) == 0
    assert value(before, "wampd_generation") == 1
    assert value(before, "wampd_plugins_loaded") >= 1
    assert value(before, "wampd_publish_to_write_seconds_count") == 0
    for reason in ("max_connections", "max_connections_per_ip", "handshake_rate"):
        assert value(before, "wampd_handshakes_refused_total", reason=reason) == 0
    for reason in ("unresponsive", "write_stalled"):
        assert value(before, "wampd_connections_dropped_total", reason=reason) == 0
    assert value(before, "wampd_accept_failures_total") == 0
    assert value(before, "wampd_connections_open") == 1  # this very request

    async def scenario():
        url = wampd.url
        v2json = await websockets.connect(url, subprotocols=["wamp.2.json"])
        await v2json.send(json.dumps([1, "realm1", {"roles": {"subscriber": {}}}]))
        assert json.loads(await v2json.recv())[0] == 2
        v2pack = await websockets.connect(url, subprotocols=["wamp.2.msgpack"])
        await v2pack.send(msgpack.packb([1, "realm1", {"roles": {"subscriber": {}}}]))
        assert msgpack.unpackb(await v2pack.recv())[0] == 2
        async with await WampV1Client.connect(url) as subscriber, \
                await WampV1Client.connect(url) as publisher:
            await subscriber.subscribe("oro/data/update")
            await subscriber.call("wampd.stats")  # the subscription is in place after this
            during = metrics(wampd)
            assert value(during, "wampd_connections", protocol="v1") == 2
            assert value(during, "wampd_connections", protocol="v2_json") == 1
            assert value(during, "wampd_connections", protocol="v2_msgpack") == 1
            assert value(during, "wampd_sessions") == 4
            assert value(during, "wampd_subscriptions") == 1
            assert value(during, "wampd_topics") == 1
            for _ in range(3):
                await publisher.publish("oro/data/update", {"n": 1})
                await subscriber.recv_event("oro/data/update")
            answer = await publisher.call("no.such.procedure")
            assert answer[0] == 4  # CALLERROR
            # Gos closes a v1 connection that publishes where no route leads (1007).
            await publisher.publish("nowhere/at/all", {"n": 1})
            assert await publisher.wait_closed() == 1007
        await v2json.close()
        await v2pack.close()
        # A handshake refused for its subprotocol.
        try:
            await websockets.connect(url, subprotocols=["mqtt"])
        except websockets.InvalidStatusCode as refused:
            assert refused.status_code == 400

    run(scenario())
    after = metrics(wampd)
    assert value(after, "wampd_publications_total") == 4
    assert value(after, "wampd_publications_refused_total") == 1
    assert value(after, "wampd_deliveries_total") == 3
    assert value(after, "wampd_events_total") == 3
    assert value(after, "wampd_publish_to_write_seconds_count") == 3
    assert value(after, "wampd_publish_to_write_seconds_bucket", le="+Inf") == 3
    assert 0 < value(after, "wampd_publish_to_write_seconds_sum") < 3
    assert value(after, "wampd_handshakes_total", result="accepted") == 4
    assert value(after, "wampd_handshakes_refused_total", reason="subprotocol") == 1
    assert value(after, "wampd_rpc_calls_total", outcome="no_such_procedure") == 1
    assert value(after, "wampd_bytes_sent_total") > value(before, "wampd_bytes_sent_total")
    assert value(after, "wampd_connections_accepted_total") >= 5
    assert value(after, "wampd_http_requests_total") >= 2
    assert value(after, "wampd_sessions") == 0


def test_reloads_are_counted(wampd):
    wampd.signal(signal.SIGHUP)
    wampd.wait_for_log("generation 2 serving")
    samples = metrics(wampd)
    assert value(samples, "wampd_reloads_total", result="succeeded") == 1
    assert value(samples, "wampd_reloads_total", result="failed") == 0
    assert value(samples, "wampd_generation") == 2
    wampd.config_path.write_text("server: [unclosed\n")  # the file watcher reloads it
    wampd.wait_for_log("reload failed")
    samples = metrics(wampd)
    assert value(samples, "wampd_reloads_total", result="failed") == 1
    assert value(samples, "wampd_generation") == 2


def test_a_malformed_request_still_gets_400_and_the_server_serves_on(wampd):
    with socket.create_connection(("127.0.0.1", wampd.port), timeout=5) as s:
        s.sendall(b"GET /health HTTP/2.0\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 400 ")
    assert http(wampd, "/health")[0] == 200


def test_rpc_outcomes_are_counted(wampd):
    async def joined(roles):
        ws = await websockets.connect(wampd.url, subprotocols=["wamp.2.json"])
        await ws.send(json.dumps([1, "realm1", {"roles": roles}]))
        assert json.loads(await ws.recv())[0] == 2
        return ws

    async def scenario():
        callee = await joined({"callee": {}})
        caller = await joined({"caller": {}})
        await callee.send(json.dumps([64, 1, {}, "com.example.add"]))
        assert json.loads(await callee.recv())[0] == 65  # REGISTERED
        for request, answer in ((1, "yield"), (2, "error"), (3, "silence")):
            options = {"timeout": 200} if answer == "silence" else {}
            await caller.send(json.dumps([48, request, options, "com.example.add", [1, 2]]))
            invocation = json.loads(await callee.recv())
            assert invocation[0] == 68
            if answer == "yield":
                await callee.send(json.dumps([70, invocation[1], {}, [3]]))
                assert json.loads(await caller.recv())[:2] == [50, request]
            elif answer == "error":
                await callee.send(json.dumps([8, 68, invocation[1], {}, "com.example.bad"]))
                assert json.loads(await caller.recv())[4] == "com.example.bad"
            else:
                assert json.loads(await caller.recv())[4] == "wamp.error.timeout"
        await caller.send(json.dumps([48, 4, {}, "com.example.none", []]))
        assert json.loads(await caller.recv())[4] == "wamp.error.no_such_procedure"
        await callee.close()
        await caller.close()

    run(scenario())
    samples = metrics(wampd)
    for outcome, count in (("result", 1), ("error", 1), ("timeout", 1),
                           ("no_such_procedure", 1), ("canceled", 0)):
        assert value(samples, "wampd_rpc_calls_total", outcome=outcome) == count, outcome
