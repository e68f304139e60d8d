#!/usr/bin/python3
"""Writes the generated seeds of the fuzz targets (tests/fuzz/<target>/seeds/gen_*): real
WebSocket frames and handshakes as Oro's PHP client, browsers and AutobahnJS send them, WAMP
messages of both versions and both serializers, Oro tickets and upgrade URLs. The YAML seeds
are copies of the repository's own routing files, manifests and users files.
Usage: tests/fuzz/make_seeds.py (rewrites the gen_* files, leaves the others alone)."""
import base64
import hashlib
import json
import os
import struct

import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    path = os.path.join(HERE, target, "seeds", "gen_" + name)
    with open(path, "wb") as f:
        f.write(data)


def frame(opcode, payload, fin=True, mask=b"\x37\xfa\x21\x3d"):
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n <= 0xFFFF:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def frame_seeds():
    # Byte 0: the size limit (index 4: 1000, 5: 65536); byte 1: how reads are cut.
    cases = {
        "text": frame(1, '[5,"oro/ping"]'),
        "oro_publish": frame(1, '[7,"oro/data/update",[{"username":null,"tagname":"x"}],[],[]]'),
        "fragmented_text": frame(1, "caf", fin=False) + frame(0, "\u00e9 ", fin=False)
        + frame(9, "ping") + frame(0, "au lait"),
        "split_utf8": frame(1, b"\xe2\x82", fin=False) + frame(0, b"\xac euro"),
        "bad_utf8_fragment": frame(1, "ok", fin=False) + frame(0, b"\xc0\xaf", fin=False)
        + frame(0, "x"),
        "binary": frame(2, msgpack.packb([1, "realm1", {"roles": {"subscriber": {}}}])),
        "fragmented_binary": frame(2, b"\x00\xff", fin=False) + frame(0, b"\x01"),
        "ping_pong": frame(9, "p") + frame(10, "") + frame(1, "[]"),
        "close": frame(8, struct.pack(">H", 1000) + b"bye"),
        "close_empty": frame(8, b""),
        "close_bad_code": frame(8, struct.pack(">H", 1005)),
        "len126": frame(1, "x" * 300),
        "len127": frame(2, b"y" * 70000),
        "unmasked": b"\x81\x02hi",
        "reserved_bits": b"\xc1\x80\x00\x00\x00\x00",
        "continuation_first": frame(0, "x"),
    }
    for name, stream in cases.items():
        write("frame_reader", name, bytes([5, 7]) + stream)
    write("frame_reader", "small_limit", bytes([2, 3]) + frame(1, "x" * 200))


def handshake_seeds():
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    cases = {
        # Oro's backend PHP client (WampClient): bare-host Origin, ticket in the query.
        "oro_backend": "GET /?ticket=YWJj HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
        "Sec-WebSocket-Protocol: wamp\r\nSec-WebSocket-Version: 13\r\nOrigin: 127.0.0.1\r\n\r\n"
        % key,
        "browser": "GET /ws?ticket=YWJj%%3D HTTP/1.1\r\nHost: example.com\r\n"
        "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: %s\r\nOrigin: https://example.com\r\n"
        "Sec-WebSocket-Protocol: wamp.2.json, wamp.2.msgpack\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n" % key,
        "no_upgrade": "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "post": "POST / HTTP/1.1\r\nHost: x\r\n\r\n",
        "http10": "GET / HTTP/1.0\r\n\r\n",
        "bad_key": "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
        "version8": "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
        "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: %s\r\n\r\n" % key,
        "folded": "GET / HTTP/1.1\r\nUpgrade: websocket\r\n continued\r\n\r\n",
    }
    for name, text in cases.items():
        write("handshake", name, text)


def wamp1_seeds():
    cases = {
        "prefix": [1, "calc", "http://example.com/simple/calc#"],
        "call": [2, "7DK6TdN4wLiUJgNM", "calc:square", 23],
        "call_args": [2, "id", "sample/echo", {"a": [1, 2.5, None, True]}, "caf\u00e9"],
        "subscribe": [5, "oro/ping"],
        "subscribe_email": [5, "oro/email_event/1/1"],
        "unsubscribe": [6, "oro/ping"],
        "publish_oro": [7, "oro/maintenance", {"isOn": True, "userId": 1}, [], []],
        "publish_exclude_me": [7, "oro/data/update", [{"username": None, "tagname": "t"}], True],
        "publish_lists": [7, "t", "e", ["a"], ["b", "c"]],
        "welcome": [0, "abc", 1, "wampd"],
        "event": [8, "t", 1],
    }
    for name, message in cases.items():
        write("wamp1", name, json.dumps(message))
    write("wamp1", "escapes", '[7,"oro\\/data\\/update","\\u00e9\\ud83d\\ude00",[],[]]')
    write("wamp1", "numbers", '[2,"x","p",1e308,-0,18446744073709551615,-9223372036854775808,0.1]')


def wamp2_messages():
    return {
        "hello": [1, "realm1", {"roles": {"subscriber": {}, "publisher": {}, "caller": {},
                                          "callee": {"features": {"progressive_call_results": True}}},
                                "authmethods": ["ticket"], "authid": "admin"}],
        "authenticate": [5, "dGlja2V0", {}],
        "goodbye": [6, {}, "wamp.close.close_realm"],
        "abort": [3, {"message": "x"}, "wamp.error.no_such_realm"],
        "subscribe": [32, 713845233, {}, "oro/ping"],
        "subscribe_prefix": [32, 2, {"match": "prefix"}, "oro.email"],
        "unsubscribe": [34, 85346237, 5512315355],
        "publish": [16, 239714735, {"acknowledge": True, "exclude_me": False, "eligible": [1]},
                    "oro/data/update", [{"username": None, "tagname": "t"}], {"k": 1.5}],
        "call": [48, 7814135, {"receive_progress": True, "timeout": 1000}, "com.myapp.echo",
                 ["Hello, world!"], {}],
        "cancel": [49, 7814135, {"mode": "kill"}],
        "register": [64, 25349185, {"invoke": "roundrobin"}, "com.myapp.myprocedure1"],
        "unregister": [66, 788923562, 2103333224],
        "yield": [70, 6131533, {"progress": True}, [1, None, False]],
        "error": [8, 68, 6131533, {}, "com.myapp.error.object_write_protected", ["x"], {"a": []}],
        "max_id": [32, 2 ** 53, {}, "t"],
        "router_only": [2, 9129137332, {"roles": {"broker": {}}}],
    }


def wamp2_seeds():
    for name, message in wamp2_messages().items():
        write("wamp2_json", name, json.dumps(message))
        write("wamp2_msgpack", name, msgpack.packb(message, use_bin_type=True))
    # Binary payloads: msgpack bin, and JSON's "\0" + base64 form of the same bytes.
    raw = b"\xff\xfe\x00abc"
    write("wamp2_msgpack", "bin", msgpack.packb([16, 1, {}, "t", [raw, "caf\u00e9"]],
                                                use_bin_type=True))
    write("wamp2_json", "bin", json.dumps([16, 1, {}, "t", ["\0" + base64.b64encode(raw).decode(),
                                                            "caf\u00e9"]]))
    write("wamp2_msgpack", "floats", msgpack.packb([16, 1, {}, "t", [1.0, -0.0, float("nan"),
                                                                     float("inf"), 2 ** 64 - 1]]))
    write("wamp2_msgpack", "float32", b"\x95\x10\x01\x80\xa1t\x91\xca\x3f\xc0\x00\x00")
    # wampy writes `undefined` as fixext1 type 0.
    write("wamp2_msgpack", "undefined_ext", b"\x94\x10\x01\x80\xa1t" + b"\xd4\x00\x00")


def ticket(username, password, secret, created, nonce="abcdef0123456789"):
    salted = ("%s|%s|%s" % (nonce, created, password)).encode()
    if secret:
        salted += ("{%s}" % secret).encode()
    digest = hashlib.sha512(salted).digest()
    for _ in range(4999):
        digest = hashlib.sha512(digest + salted).digest()
    text = "%s;%s;%s;%s" % (base64.b64encode(digest).decode(), username, nonce, created)
    return base64.b64encode(text.encode()).decode()


def ticket_seeds():
    cases = {
        "anonymous": ticket("", "fuzz-secret", "fuzz-secret", "2026-12-06T06:59:50+00:00"),
        "user": ticket("admin", "pw-hash", "fuzz-secret", "2026-12-06T08:59:50+02:00"),
        "zulu_fraction": ticket("john", "h", "s", "2026-12-06T07:00:00.123456Z"),
        "space_separator": ticket("john", "h", "s", "2026-12-06 07:00:00"),
    }
    for name, text in cases.items():
        write("ticket", name, text)
    write("ticket", "three_fields", base64.b64encode(b"a;b;c").decode())
    write("ticket", "not_base64", "!!!")
    write("ticket", "iso", "2026-12-06T07:00:00+01:30")
    return cases


def url_seeds(tickets):
    # Byte 0 picks the reading: 0 resource (anonymous allowed), 1 resource (tickets
    # required), 2 wampctl's server URL.
    resources = {
        "root": "/",
        "ticket": "/?ticket=" + tickets["anonymous"].replace("=", "%3D").replace("+", "%2B"),
        "user_ticket": "/ws?a=1&ticket=" + tickets["user"],
        "backend_token": "/Zm9vYmFy-token?ticket=" + tickets["anonymous"],
        "token_trailing_slash": "/Zm9vYmFy-token/",
        "empty_ticket": "/?ticket=&x",
        "percent": "/%41%4g%?ticket=%",
    }
    for name, text in resources.items():
        write("url", "resource_" + name, b"\x00" + text.encode())
        write("url", "resource_required_" + name, b"\x01" + text.encode())
    urls = ["ws://127.0.0.1:8080/", "wss://example.com/ws?x=1#frag", "ws://[::1]:9/a/b/",
            "tcp://127.0.0.1:8080/token", "ws://h:0/", "ws://h:65536", "WS://Host/Zm9vYmFy-token",
            "ws://user@h:80/p?ticket=a%2Bb"]
    for i, url in enumerate(urls):
        write("url", "server_url_%d" % i, b"\x02" + url.encode())


frame_seeds()
handshake_seeds()
wamp1_seeds()
wamp2_seeds()
url_seeds(ticket_seeds())
