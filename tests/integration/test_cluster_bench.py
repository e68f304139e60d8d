"""The cluster benchmark's fixed, short slice (issue 13; `scripts/bench --cluster` and
`--cluster-connections` are the long runs): two wampd nodes on a real redis-server, the load
client's subscribers split between them, the publisher on node 1. Correctness only: every
event reaches every subscriber on both nodes exactly once, the latency of the subscribers on
the other node is measured apart, and the rig notices when one node is cut off from the
other. The rates it prints are not checked."""

import json
import subprocess
import uuid

import pytest

from conftest import BUILD_DIR, default_config
from test_cluster import redis  # noqa: F401  (the fixture: a redis-server on a free port)

LOADGEN = BUILD_DIR / "bench" / "wampd_loadgen"
SUBSCRIBERS = 400
EVENTS = 300


def node_config(redis, name, prefix):
    config = default_config(cluster={"redis": redis.url, "prefix": prefix, "node": name})
    config["log_level"] = "info"
    return config


@pytest.fixture
def two_nodes(redis, wampd_factory):  # noqa: F811
    prefix = "b" + uuid.uuid4().hex[:8]
    nodes = [wampd_factory(config=node_config(redis, f"n{i}", prefix)) for i in (1, 2)]
    for node in nodes:
        node.wait_for_log("receiving through Redis", timeout=10)
    return nodes


def loadgen(*args, timeout=60):
    out = subprocess.run([str(LOADGEN), *map(str, args)], capture_output=True, text=True,
                         timeout=timeout)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, f"wampd_loadgen printed nothing (exit {out.returncode}): {out.stderr}"
    return out.returncode, lines


def crowd(nodes, *extra):
    return loadgen(
        "crowd", "--port", nodes[0].port, "--ports", ",".join(str(n.port) for n in nodes),
        "--server-pids", ",".join(str(n.pid) for n in nodes), "--subscribers", SUBSCRIBERS,
        "--processes", 2, "--sources", "127.0.0.2,127.0.0.3", "--no-spin", "--settle", 0.1,
        *extra)


def test_every_event_reaches_every_subscriber_on_both_nodes_once(two_nodes):
    code, lines = crowd(two_nodes, "--events", EVENTS, "--singles", 5)
    result = lines[-1]
    assert result["opened"] == SUBSCRIBERS and result["failed"] == 0, result
    # Half the subscribers on each node; the publisher on node 1.
    assert result["node_connections_0"] == SUBSCRIBERS // 2, result
    assert result["node_connections_1"] == SUBSCRIBERS // 2, result
    assert result["node_port_1"] == two_nodes[1].port, result
    assert result["published"] == EVENTS and result["singles"] == 5, result
    assert result["deliveries"] == EVENTS * SUBSCRIBERS, result
    assert result["complete_subscribers"] == SUBSCRIBERS, result
    assert result["wrong_subscribers"] == 0 and result["closed"] == 0, result
    assert result["incomplete"] == 0 and result["all_delivered"] is True, result
    assert code == 0, result


def test_fanout_reports_same_node_and_cross_node_latency_apart(two_nodes):
    code, lines = loadgen(
        "fanout", "--port", two_nodes[0].port, "--remote-port", two_nodes[1].port,
        "--remote-subscribers", 20, "--subscribers", 40, "--sizes", 64, "--modes", "burst,one",
        "--duration", 0.5, "--warmup", 0.1, "--server-pid", two_nodes[0].pid,
        "--other-pids", two_nodes[1].pid, "--no-spin")
    assert code == 0, lines
    phases = [line for line in lines if line["scenario"] == "fanout"]
    assert {p["mode"] for p in phases} == {"burst", "one"}, phases
    for p in phases:
        assert p["deliveries"] > 0 and p["incomplete"] == 0 and p["strays"] == 0, p
        assert p["remote_subscribers"] == 20, p
        # Both groups were delivered to and timed.
        assert p["local_p50_us"] > 0 and p["remote_p50_us"] > 0, p
        assert p["other_cpu_0"] >= 0, p


def test_a_node_cut_off_from_the_other_is_a_failure_the_rig_reports(redis, wampd_factory):  # noqa: F811
    """Not vacuous: with node 2 on another prefix (another cluster, as good as no Redis for
    node 1's events) its subscribers never receive node 1's publications, and the run fails."""
    nodes = [wampd_factory(config=node_config(redis, f"n{i}", "b" + uuid.uuid4().hex[:8]))
             for i in (1, 2)]
    for node in nodes:
        node.wait_for_log("receiving through Redis", timeout=10)
    code, lines = crowd(nodes, "--events", 10, "--subscribe-timeout", 2)
    result = lines[-1]
    assert code != 0 and result["status"] == "failed", result
    assert "never received an event" in result["reason"], result
