"""Many connections to one wampd (issue 12, item 4): the fixed, short slice of
`scripts/bench --connections` that the ordinary suite runs. 2,000 WAMP v1 subscribers spread
over two load-client processes and two source addresses (bench/loadgen, `crowd`), and every
event of a broadcast reaches every one of them exactly once. Correctness, not timing: the
rates it prints are not checked."""

import json
import resource
import subprocess

import pytest

from conftest import BUILD_DIR

LOADGEN = BUILD_DIR / "bench" / "wampd_loadgen"
SUBSCRIBERS = 2000
EVENTS = 200


@pytest.fixture(autouse=True)
def descriptors_for_everyone():
    """wampd and the load client inherit this process's soft limit; 2,000 connections need
    more than the usual 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = SUBSCRIBERS + 500
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.fail(f"the hard open-file limit is {hard}; this test needs {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def crowd(port, pid, *extra):
    out = subprocess.run(
        [str(LOADGEN), "crowd", "--port", str(port), "--server-pid", str(pid),
         "--subscribers", str(SUBSCRIBERS), "--processes", "2",
         "--sources", "127.0.0.2,127.0.0.3", "--no-spin", "--settle", "0.2", *extra],
        capture_output=True, text=True, timeout=180)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, f"wampd_loadgen printed nothing (exit {out.returncode}): {out.stderr}"
    return out.returncode, json.loads(lines[-1])


def test_every_event_reaches_every_one_of_2000_subscribers(wampd):
    code, result = crowd(wampd.port, wampd.pid, "--events", str(EVENTS))
    assert result["opened"] == SUBSCRIBERS and result["failed"] == 0, result
    assert result["processes"] == 2 and result["sources"] == 2, result
    assert result["published"] == EVENTS, result
    assert result["deliveries"] == EVENTS * SUBSCRIBERS, result
    assert result["complete_subscribers"] == SUBSCRIBERS, result
    assert result["wrong_subscribers"] == 0 and result["closed"] == 0, result
    assert result["incomplete"] == 0 and result["all_delivered"] is True, result
    assert code == 0, result
    # The server is still serving: a second crowd after the first has gone.
    code, again = crowd(wampd.port, wampd.pid, "--events", "10")
    assert again["all_delivered"] is True and code == 0, again


def test_a_missing_route_is_a_failure_the_crowd_reports(wampd):
    """The rig is not vacuous: subscribers of a topic with no route are closed by the server
    (1007, Gos's rule) and the run says so instead of passing."""
    code, result = crowd(wampd.port, wampd.pid, "--events", "10", "--topic", "no/such/route")
    assert code != 0 and result["status"] == "failed", result
    assert result.get("all_delivered") is not True, result
