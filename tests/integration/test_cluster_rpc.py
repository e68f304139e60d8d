"""RPC across cluster nodes (WAMP v2), on test_cluster's three real nodes and real Redis:
registrations are cluster-wide (procedure_already_exists across nodes and on a race, shared
registrations on one node only, unregister then register elsewhere); callers on other nodes
reach a callee with args, kwargs, bytes, disclosure and progressive results, cancel and
timeout (JSON and msgpack); the callee's node killed with -9 and Redis killed during a call
answer the caller within a few seconds; the calls are counted in wampd.stats and /metrics.
"""

import asyncio
import json
import os
import signal
import time
import urllib.request
import uuid

import pytest
import websockets

from conftest import run_wampctl
from test_cluster import (TIMEOUT, V2, WELCOME, node_config, nodes, redis,  # noqa: F401
                          redis_command)
from wamp_client import run

HELLO, ERROR = 1, 8
CALL, CANCEL, RESULT = 48, 49, 50
REGISTER, REGISTERED, UNREGISTER, UNREGISTERED = 64, 65, 66, 67
INVOCATION, INTERRUPT, YIELD = 68, 69, 70

ALREADY_EXISTS = "wamp.error.procedure_already_exists"
SHARED_LIMIT = "wampd.error.cluster_shared_registration"
NODE_GONE = "wampd.error.callee_node_gone"
UNAVAILABLE = "wampd.error.cluster_unavailable"


class Rpc(V2):
    """A raw WAMP v2 caller and callee (call canceling, progressive results); join() below
    opens one."""

    async def register(self, procedure, invoke="single"):
        request = self.next_request()
        options = {} if invoke == "single" else {"invoke": invoke}
        await self.send([REGISTER, request, options, procedure])
        return await self.answer(request)

    async def unregister(self, registration):
        request = self.next_request()
        await self.send([UNREGISTER, request, registration])
        reply = await self.answer(request)
        assert reply[0] == UNREGISTERED, reply
        return reply

    async def call(self, procedure, args=None, kwargs=None, **options):
        request = self.next_request()
        message = [CALL, request, options, procedure, args or []]
        if kwargs is not None:
            message.append(kwargs)
        await self.send(message)
        return request

    async def invocation(self, timeout=TIMEOUT, skip_interrupts=False):
        while True:
            message = await self.recv(timeout)
            if not (skip_interrupts and message[0] == INTERRUPT):
                break
        assert message[0] == INVOCATION, message
        return message

    async def next_of(self, kind, timeout=TIMEOUT):
        message = await self.recv(timeout)
        assert message[0] == kind, message
        return message


async def join(node, serializer="json"):
    """A session announcing the caller and callee roles with call canceling."""
    ws = await websockets.connect(node.url, subprotocols=[f"wamp.2.{serializer}"],
                                  open_timeout=TIMEOUT, close_timeout=TIMEOUT,
                                  ping_interval=None)
    client = Rpc(ws, serializer)
    features = {"call_canceling": True, "progressive_call_results": True}
    await client.send([HELLO, "realm1", {"roles": {"caller": {"features": features},
                                                   "callee": {"features": features}}}])
    welcome = await client.recv()
    assert welcome[0] == WELCOME, welcome
    client.session_id = welcome[1]
    return client


@pytest.fixture
def rpc_nodes(nodes):
    """The three nodes, each taking calls from the others (its node channel subscribed)."""
    for node in nodes:
        node.wait_for_log("serving calls from other nodes", timeout=10)
    return nodes


async def registered(callee, procedure, invoke="single"):
    reply = await callee.register(procedure, invoke)
    assert reply[0] == REGISTERED, reply
    return reply[2]


async def answered(caller, callee, procedure, args, result, **invocation):
    """`caller` calls `procedure`; `callee` yields `result`; the caller's answer."""
    request = await caller.call(procedure, args)
    inv = await callee.invocation(**invocation)
    await callee.send([YIELD, inv[1], {}, result])
    return await caller.answer(request)


async def serve_echo(callee, count):
    """Answers `count` invocations with their own arguments and details."""
    for _ in range(count):
        inv = await callee.invocation()
        kwargs = inv[5] if len(inv) > 5 else {}
        await callee.send([YIELD, inv[1], {}, inv[4], {"details": inv[3], **kwargs}])


def test_calls_reach_a_callee_on_another_node(rpc_nodes):
    async def scenario():
        n1, n2, n3 = rpc_nodes
        callee = await join(n1)
        await registered(callee, "app.echo")
        server = asyncio.ensure_future(serve_echo(callee, 3))
        json_caller = await join(n2, "json")
        msgpack_caller = await join(n3, "msgpack")

        request = await json_caller.call("app.echo", [1, "two", {"3": [4]}], {"k": "v"},
                                         disclose_me=True)
        reply = await json_caller.answer(request)
        assert reply[0] == RESULT, reply
        assert reply[3] == [1, "two", {"3": [4]}]
        assert reply[4]["k"] == "v"
        assert reply[4]["details"]["caller"] == json_caller.session_id

        blob = bytes(range(256))
        request = await msgpack_caller.call("app.echo", [blob], {"raw": b"\x00\xff"})
        reply = await msgpack_caller.answer(request)
        assert reply[0] == RESULT, reply
        assert reply[3] == [blob]
        assert reply[4]["raw"] == b"\x00\xff"
        assert "caller" not in reply[4]["details"]

        # JSON's form of bytes ("\0" + base64) survives as well.
        request = await json_caller.call("app.echo", ["\u0000//4A"])
        reply = await json_caller.answer(request)
        assert reply[3] == ["\u0000//4A"], reply
        await asyncio.wait_for(server, TIMEOUT)

        # Progressive results, then the final one.
        await registered(callee, "app.count")
        request = await msgpack_caller.call("app.count", [3], receive_progress=True)
        inv = await callee.invocation()
        assert inv[3].get("receive_progress") is True
        for i in range(3):
            await callee.send([YIELD, inv[1], {"progress": True}, [i]])
        await callee.send([YIELD, inv[1], {}, ["done"]])
        got = [await msgpack_caller.answer(request) for _ in range(4)]
        assert [m[0] for m in got] == [RESULT] * 4
        assert [m[2].get("progress", False) for m in got] == [True, True, True, False]
        assert [m[3] for m in got] == [[0], [1], [2], ["done"]]

        # The callee's error reaches the caller.
        request = await json_caller.call("app.count", [])
        inv = await callee.invocation()
        await callee.send([ERROR, INVOCATION, inv[1], {}, "app.error.bad", ["no"], {"why": 1}])
        reply = await json_caller.answer(request)
        assert reply[0] == ERROR and reply[4] == "app.error.bad", reply
        assert reply[5] == ["no"] and reply[6] == {"why": 1}

        # Nothing registered anywhere: as a standalone server answers.
        request = await json_caller.call("app.nowhere")
        reply = await json_caller.answer(request)
        assert reply[0] == ERROR and reply[4] == "wamp.error.no_such_procedure", reply

        for client in (callee, json_caller, msgpack_caller):
            await client.close()

    run(scenario())

    def cluster_stats(node):
        rc, out, err = run_wampctl("--url", node.url, "--timeout", "5", "stats")
        assert rc == 0, err
        return json.loads([l for l in out.splitlines() if l.startswith("cluster: ")][0][9:])

    n1, n2, n3 = rpc_nodes
    assert cluster_stats(n1)["calls"]["served"] == 5
    assert cluster_stats(n2)["calls"]["sent"] == 4
    assert cluster_stats(n3)["calls"]["sent"] == 2
    with urllib.request.urlopen(f"http://127.0.0.1:{n1.port}/metrics", timeout=5) as r:
        text = r.read().decode()
    assert 'wampd_cluster_calls_total{kind="served"} 5' in text, text


def test_cancel_and_timeout_travel_to_the_callee_node(rpc_nodes):
    async def scenario():
        n1, n2, _ = rpc_nodes
        callee = await join(n1, "msgpack")
        await registered(callee, "app.slow")
        caller = await join(n2)

        # killnowait (the default): the caller hears at once, the callee gets INTERRUPT.
        request = await caller.call("app.slow")
        inv = await callee.invocation()
        await caller.send([CANCEL, request, {}])
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == "wamp.error.canceled", reply
        interrupt = await callee.next_of(INTERRUPT)
        assert interrupt[1] == inv[1] and interrupt[2]["mode"] == "killnowait"

        # kill: the callee's answer to the INTERRUPT is the caller's answer.
        request = await caller.call("app.slow")
        inv = await callee.invocation()
        await caller.send([CANCEL, request, {"mode": "kill"}])
        interrupt = await callee.next_of(INTERRUPT)
        assert interrupt[2]["mode"] == "kill"
        await callee.send([ERROR, INVOCATION, inv[1], {}, "wamp.error.canceled", ["stopped"]])
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == "wamp.error.canceled" and reply[5] == ["stopped"]

        # The timeout runs on the caller's node and cancels on the callee's.
        request = await caller.call("app.slow", timeout=300)
        started = time.monotonic()
        inv = await callee.invocation()
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == "wamp.error.timeout", reply
        assert time.monotonic() - started < 2
        interrupt = await callee.next_of(INTERRUPT)
        assert interrupt[1] == inv[1]
        # A late YIELD goes nowhere.
        await callee.send([YIELD, inv[1], {}, ["late"]])

        # The caller leaves: its call is interrupted on the callee's node.
        await caller.call("app.slow")
        inv = await callee.invocation()
        await caller.close()
        interrupt = await callee.next_of(INTERRUPT)
        assert interrupt[1] == inv[1]
        await callee.close()

    run(scenario())


def test_registrations_are_cluster_wide(rpc_nodes, redis):
    async def scenario():
        n1, n2, n3 = rpc_nodes
        first = await join(n1)
        registration = await registered(first, "app.one")
        other = await join(n2, "msgpack")
        reply = await other.register("app.one")
        assert reply[0] == ERROR and reply[4] == ALREADY_EXISTS, reply
        # Shared registrations stay on one node, and say so.
        shared = await registered(first, "app.shared", "roundrobin")
        assert shared
        reply = await other.register("app.shared", "roundrobin")
        assert reply[0] == ERROR and reply[4] == SHARED_LIMIT, reply
        helper = await join(n1)
        await registered(helper, "app.shared", "roundrobin")

        # Two nodes racing for a new procedure: one wins.
        racer = await join(n3)
        for i in range(5):
            procedure = f"app.race{i}"
            replies = await asyncio.gather(other.register(procedure), racer.register(procedure))
            kinds = sorted(r[0] for r in replies)
            assert kinds == [ERROR, REGISTERED], replies
            assert [r for r in replies if r[0] == ERROR][0][4] == ALREADY_EXISTS

        # Unregistered on node 1, the procedure is free for node 2, whose callee then serves
        # node 3's callers.
        await first.unregister(registration)
        moved = await registered(other, "app.one")
        request = await racer.call("app.one", ["here"])
        inv = await other.invocation()
        assert inv[2] == moved
        await other.send([YIELD, inv[1], {}, ["from n2"]])
        reply = await racer.answer(request)
        assert reply[0] == RESULT and reply[3] == ["from n2"], reply

        # A callee that leaves frees its procedures as well.
        await other.close()
        await asyncio.sleep(0.2)
        await registered(first, "app.one")

        # The claim is a key that lapses unless its node refreshes it; a node that stops
        # deletes its keys at once.
        await registered(racer, "app.leaving")
        keys = redis_command(redis.port, "KEYS", "*@proc:app.leaving", lines=True)
        assert len(keys) == 1, keys
        assert 0 < int(redis_command(redis.port, "PTTL", keys[0])[1:]) <= 3000
        await asyncio.sleep(1.5)
        assert int(redis_command(redis.port, "PTTL", keys[0])[1:]) > 1000  # refreshed
        # A call in flight when the callee's node stops gets its answer at once.
        request = await first.call("app.leaving")
        await racer.invocation()
        n3.stop()
        reply = await first.answer(request, timeout=1)
        assert reply[0] == ERROR and reply[4] == "wamp.error.canceled", reply
        assert redis_command(redis.port, "KEYS", "*@proc:app.leaving", lines=True) == []
        assert redis_command(redis.port, "KEYS", "*@proc:app.one", lines=True) != []
        for client in (first, helper):
            await client.close()

    run(scenario())


def test_the_callee_node_killed_during_a_call(rpc_nodes):
    async def scenario():
        n1, n2, n3 = rpc_nodes
        await asyncio.sleep(1.2)  # each node reported once: the callers know their peers
        callee = await join(n3)
        await registered(callee, "app.fragile")
        caller = await join(n1, "msgpack")
        request = await caller.call("app.fragile")
        await callee.invocation()
        # And the other way round: node 3 calls a callee on node 2.
        served = await join(n2)
        await registered(served, "app.for_n3")
        doomed_caller = await join(n3)
        await doomed_caller.call("app.for_n3")
        orphan = await served.invocation()
        n3.process.kill()
        n3.process.wait()
        n3.reaped = True
        started = time.monotonic()
        reply = await caller.answer(request, timeout=10)
        took = time.monotonic() - started
        assert reply[0] == ERROR and reply[4] == NODE_GONE, reply
        assert took < 6, took
        # No one waits for the dead caller's answer: its callee is told to stop.
        interrupt = await served.next_of(INTERRUPT, timeout=6)
        assert interrupt[1] == orphan[1] and interrupt[2]["mode"] == "killnowait"
        # The dead node's registration lapses: another node's callee takes the procedure.
        heir = await join(n2)
        deadline = time.monotonic() + 6
        while True:
            reply = await heir.register("app.fragile")
            if reply[0] == REGISTERED:
                break
            assert reply[4] == ALREADY_EXISTS, reply
            assert time.monotonic() < deadline, "the dead node's registration did not lapse"
            await asyncio.sleep(0.3)
        reply = await answered(caller, heir, "app.fragile", ["again"], ["heir"])
        assert reply[0] == RESULT and reply[3] == ["heir"], reply
        for client in (heir, caller, served):
            await client.close()

    run(scenario())


def test_redis_killed_during_a_call(rpc_nodes, redis):
    async def scenario():
        n1, n2, _ = rpc_nodes
        callee = await join(n1)
        await registered(callee, "app.pending")
        caller = await join(n2)
        request = await caller.call("app.pending")
        await callee.invocation()
        redis.kill()
        started = time.monotonic()
        reply = await caller.answer(request, timeout=10)
        assert reply[0] == ERROR and reply[4] == UNAVAILABLE, reply
        assert time.monotonic() - started < 5
        # While Redis is away nothing is registered cluster-wide, and calls say why.
        await asyncio.sleep(0.5)
        reply = await caller.register("app.elsewhere")
        assert reply[0] == ERROR and reply[4] == UNAVAILABLE, reply
        request = await caller.call("app.pending")
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == UNAVAILABLE, reply
        # Redis back (empty): node 1 claims its procedure again and serves node 2's callers.
        redis.start()
        deadline = time.monotonic() + 8
        while True:
            request = await caller.call("app.pending", ["back"])
            try:
                # The call cut off by Redis's death was interrupted meanwhile.
                inv = await callee.invocation(timeout=0.5, skip_interrupts=True)
            except asyncio.TimeoutError:
                inv = None
            if inv:
                await callee.send([YIELD, inv[1], {}, ["back"]])
                reply = await caller.answer(request)
                assert reply[0] == RESULT and reply[3] == ["back"], reply
                break
            reply = await caller.answer(request)
            assert reply[0] == ERROR, reply
            assert time.monotonic() < deadline, "node 1's registration did not come back"
            await asyncio.sleep(0.3)

        # Another owner appears (as after a partition): node 1 logs the conflict and its own
        # callers keep reaching its callee.
        keys = redis_command(redis.port, "KEYS", "*@proc:app.pending", lines=True)
        assert redis_command(redis.port, "SET", keys[0], "intruder", "PX", "60000") == "+OK"
        n1.wait_for_log("procedure app.pending is now registered on node intruder", timeout=3)
        local = await join(n1)
        reply = await answered(local, callee, "app.pending", ["local"], ["still here"],
                               skip_interrupts=True)
        assert reply[0] == RESULT and reply[3] == ["still here"], reply
        for client in (callee, caller, local):
            await client.close()

    run(scenario())


def test_calls_waiting_on_other_nodes_are_bounded(redis, wampd_factory):
    prefix = "t" + uuid.uuid4().hex[:8]
    started = []
    for name in ("a", "b"):
        config = node_config(redis, name, prefix)
        config["cluster"]["max_pending_calls"] = 2
        started.append(wampd_factory(config=config))
    for node in started:
        node.wait_for_log("serving calls from other nodes", timeout=10)
    a, b = started

    async def scenario():
        callee = await join(a)
        await registered(callee, "app.slow")
        caller = await join(b)
        waiting = [await caller.call("app.slow", [i]) for i in range(2)]
        invocations = [await callee.invocation() for _ in waiting]
        request = await caller.call("app.slow", [2])
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == UNAVAILABLE, reply
        assert "too many calls" in reply[5][0]
        for inv in invocations:
            await callee.send([YIELD, inv[1], {}, inv[4]])
        for i, request in enumerate(waiting):
            reply = await caller.answer(request)
            assert reply[0] == RESULT and reply[3] == [i], reply
        request = await caller.call("app.slow", [3])  # room again
        inv = await callee.invocation()
        await callee.send([YIELD, inv[1], {}, inv[4]])
        assert (await caller.answer(request))[3] == [3]
        await callee.close()
        await caller.close()

    run(scenario())
    rc, out, err = run_wampctl("--url", b.url, "--timeout", "5", "stats")
    assert rc == 0, err
    calls = json.loads([l for l in out.splitlines() if l.startswith("cluster: ")][0][9:])["calls"]
    assert (calls["sent"], calls["refused"], calls["failed"], calls["pending"]) == (3, 1, 1, 0)


def test_an_answer_too_large_for_redis_still_answers_the_caller(redis, wampd_factory):
    """A YIELD past what the callee node's Redis connection takes (8 MiB) reaches the caller
    as a small error instead of never: the caller has no timeout to end its wait."""
    prefix = "t" + uuid.uuid4().hex[:8]
    started = []
    for name in ("a", "b"):
        config = node_config(redis, name, prefix)
        config["server"]["max_message_size"] = 32 * 1024 * 1024
        started.append(wampd_factory(config=config))
    for node in started:
        node.wait_for_log("serving calls from other nodes", timeout=10)
    a, b = started

    async def scenario():
        callee = await join(a, "msgpack")
        await registered(callee, "app.big")
        caller = await join(b, "msgpack")
        request = await caller.call("app.big")
        inv = await callee.invocation()
        await callee.send([YIELD, inv[1], {}, [b"x" * (9 * 1024 * 1024)]])
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == UNAVAILABLE, reply[:5]
        assert "too large" in reply[5][0], reply[5]
        # The node still serves answers that fit.
        reply = await answered(caller, callee, "app.big", None, [b"\xff" * 1024])
        assert reply[0] == RESULT and reply[3] == [b"\xff" * 1024], reply[:3]
        await callee.close()
        await caller.close()

    run(scenario())


def redis_ports_of(pid, redis_port):
    """The local ports of process `pid`'s TCP connections to Redis (its sockets' inodes
    matched in /proc/net/tcp)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = []
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(remote.split(":")[1], 16) == redis_port:
                ports.append(int(local.split(":")[1], 16))
    return ports


def test_a_caller_node_cut_off_stops_its_calls_on_the_callee_node(rpc_nodes, redis):
    """Node 2's Redis connections killed while its caller waits on node 1's callee: the
    caller gets an error, and the callee an INTERRUPT (node 2's cancel waits for its
    connection), not a call served for no one."""
    async def scenario():
        n1, n2, _ = rpc_nodes
        callee = await join(n1)
        await registered(callee, "app.pending")
        caller = await join(n2)
        request = await caller.call("app.pending")
        inv = await callee.invocation()
        ports = redis_ports_of(n2.pid, redis.port)
        assert len(ports) == 4, ports
        for port in ports:
            redis_command(redis.port, "CLIENT", "KILL", "ADDR", f"127.0.0.1:{port}")
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == UNAVAILABLE, reply
        interrupt = await callee.next_of(INTERRUPT, timeout=5)
        assert interrupt[1] == inv[1] and interrupt[2]["mode"] == "killnowait", interrupt
        for client in (callee, caller):
            await client.close()

    run(scenario())


def test_the_callee_node_runs_the_callers_timeout_too(rpc_nodes):
    """The caller's node stopped (SIGSTOP) after its call reached node 1: no cancel can come,
    yet the callee is interrupted at the call's timeout, not only when node 2's reports go
    stale (3 s)."""
    async def scenario():
        n1, n2, _ = rpc_nodes
        callee = await join(n1)
        await registered(callee, "app.pending")
        caller = await join(n2)
        request = await caller.call("app.pending", timeout=1000)
        inv = await callee.invocation()
        started = time.monotonic()
        os.kill(n2.pid, signal.SIGSTOP)
        try:
            interrupt = await callee.next_of(INTERRUPT, timeout=5)
            elapsed = time.monotonic() - started
        finally:
            os.kill(n2.pid, signal.SIGCONT)
        assert interrupt[1] == inv[1], interrupt
        assert elapsed < 2.0, elapsed
        reply = await caller.answer(request)
        assert reply[0] == ERROR and reply[4] == "wamp.error.timeout", reply
        for client in (callee, caller):
            await client.close()

    run(scenario())
