"""The HTTP API on the WebSocket port: POST /api/publish and /api/call with the backend token,
GET /api/topics and /api/stats; every refusal with its status and a JSON reason."""

import json
import re
import socket
import urllib.error
import urllib.request

from wamp_client import WampV1Client, run


def token_of(server):
    """The backend token wampd wrote for wampctl (its path is in the log)."""
    match = re.search(r"backend token for wampctl written to (\S+)", server.log())
    assert match, server.log()
    with open(match.group(1)) as cookie:
        return cookie.read().strip()


def api(server, path, body=None, token=None, method=None, raw=None):
    """(status, parsed JSON body)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data,
                                     method=method or ("POST" if data is not None else "GET"))
    if token is not False:
        request.add_header("Authorization", f"Bearer {token or token_of(server)}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_publish_reaches_v1_subscribers_through_the_handler(sample_wampd):
    async def scenario():
        async with await WampV1Client.connect(sample_wampd.url) as first, \
                await WampV1Client.connect(sample_wampd.url) as second:
            for client in (first, second):
                await client.subscribe("sample/throwing")
                await client.call("wampd.stats")  # subscribed once this answers
            status, answer = api(sample_wampd, "/api/publish",
                                 {"topic": "sample/throwing", "data": {"x": [1, "é"]}})
            assert (status, answer) == (200, {"published": True, "recipients": 2})
            for client in (first, second):
                assert await client.recv_event("sample/throwing") == \
                    [8, "sample/throwing", {"x": [1, "é"]}]
            # exclude and eligible name session ids, as numbers or v1's strings.
            status, answer = api(sample_wampd, "/api/publish",
                                 {"topic": "sample/throwing", "data": 2,
                                  "exclude": [int(first.session_id)]})
            assert answer == {"published": True, "recipients": 1}
            assert (await second.recv_event())[2] == 2
            status, answer = api(sample_wampd, "/api/publish",
                                 {"topic": "sample/throwing", "data": 3,
                                  "eligible": [first.session_id]})
            assert answer == {"published": True, "recipients": 1}
            assert (await first.recv_event())[2] == 3
            await second.expect_no_message(0.3)

    run(scenario())


def test_publish_refusals(sample_wampd):
    token = token_of(sample_wampd)
    cases = [
        ({"topic": "nowhere/at/all", "data": 1}, 404, "no route"),
        ({"topic": "sample/throwing", "data": "boom"}, 500, ""),  # the handler throws
        ({"data": 1}, 400, '"topic"'),
        ({"topic": "sample/throwing", "colour": "red"}, 400, 'unknown field "colour"'),
        ({"topic": "sample/throwing", "exclude": "me"}, 400, '"exclude"'),
        ({"topic": "sample/throwing", "eligible": [-1]}, 400, '"eligible"'),
        ([1, 2], 400, "JSON object"),
    ]
    for body, status, text in cases:
        got, answer = api(sample_wampd, "/api/publish", body, token=token)
        assert got == status, (body, answer)
        assert text in answer["error"], (body, answer)
    got, answer = api(sample_wampd, "/api/publish", raw=b'{"topic": ', token=token)
    assert got == 400 and "not JSON" in answer["error"]
    got, answer = api(sample_wampd, "/api/publish", method="GET", token=token)
    assert got == 405


def test_the_backend_token_is_required(sample_wampd):
    body = {"topic": "sample/throwing", "data": 1}
    assert api(sample_wampd, "/api/publish", body, token=False)[0] == 401
    assert api(sample_wampd, "/api/publish", body, token="x" * 64)[0] == 401
    assert api(sample_wampd, "/api/stats", token=False)[0] == 401
    assert api(sample_wampd, "/api/nothing", token=False)[0] == 401
    assert api(sample_wampd, "/api/nothing")[0] == 404


def test_call_reaches_plugin_rpc_handlers(sample_wampd):
    assert api(sample_wampd, "/api/call", {"procedure": "sample/sum", "args": [1, 2, 3]}) == \
        (200, {"result": 6})
    status, answer = api(sample_wampd, "/api/call", {"procedure": "sample/sum", "args": ["a"]})
    assert status == 400 and "numbers only" in answer["error"]
    assert api(sample_wampd, "/api/call", {"procedure": "nowhere.at.all"})[0] == 404
    assert api(sample_wampd, "/api/call", {"procedure": "sample/sum", "args": 1})[0] == 400


def test_topics_and_stats_are_wampctls_tables(sample_wampd):
    status, topics = api(sample_wampd, "/api/topics")
    assert status == 200
    assert any(row["name"] == "sample.rpc" and row["channel"] == "sample/{method}"
               for row in topics)
    status, stats = api(sample_wampd, "/api/stats")
    assert status == 200 and stats["generation"] == 1 and stats["sessions"] == 0


def test_bodies_over_the_message_limit_get_413_and_chunked_ones_411(sample_wampd):
    token = token_of(sample_wampd)
    big = json.dumps({"topic": "sample/throwing", "data": "x" * 70000}).encode()
    with socket.create_connection(("127.0.0.1", sample_wampd.port), timeout=5) as s:
        s.sendall(b"POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + token.encode() + b"\r\nContent-Length: " + str(len(big)).encode()
                  + b"\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 413 ")
    with socket.create_connection(("127.0.0.1", sample_wampd.port), timeout=5) as s:
        s.sendall(b"POST /api/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"0\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 411 ")
    # A body sent in pieces is read whole.
    body = json.dumps({"topic": "sample/throwing", "data": 1}).encode()
    with socket.create_connection(("127.0.0.1", sample_wampd.port), timeout=5) as s:
        s.sendall(b"POST /api/publish HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + token.encode() + b"\r\nContent-Length: " + str(len(body)).encode()
                  + b"\r\n\r\n" + body[:5])
        s.sendall(body[5:])
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        assert answer.endswith(b'{"published":true,"recipients":0}')
