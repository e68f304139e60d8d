"""Benchmark role: calls PROCEDURE every PERIOD_MS (or as soon as the previous answer came,
when that takes longer) and records how long each answer took.

    probe.py HOST PORT PROCEDURE PERIOD_MS MAX_SECONDS OUT

Runs until stdin closes (or MAX_SECONDS), then writes one line per call to OUT:
"SENT_AT LATENCY" in seconds, SENT_AT on the system-wide monotonic clock (the driver's
time.monotonic() reads the same clock)."""

import asyncio
import sys
import time

from wamp_raw import OP_CLOSE, Connection


async def main(host, port, procedure, period, max_seconds, out):
    connection = await Connection.open(host, port)
    loop = asyncio.get_running_loop()
    stop = loop.run_in_executor(None, sys.stdin.read)
    samples = []
    deadline = time.monotonic() + max_seconds
    next_call = time.monotonic()
    call = 0
    while not stop.done() and time.monotonic() < deadline:
        call += 1
        call_id = f"p{call}"
        # CALLRESULT or CALLERROR: a procedure without a route is a cheaper probe.
        answers = (f'[3,"{call_id}"'.encode(), f'[4,"{call_id}"'.encode())
        sent = time.monotonic()
        connection.send([2, call_id, procedure])
        while True:
            opcode, payload = await connection.read_frame()
            if opcode == OP_CLOSE:
                raise ConnectionError("the server closed the probe's connection")
            if payload.startswith(answers):
                break
        samples.append((sent, time.monotonic() - sent))
        # A late answer does not make the probe catch up with a burst of calls.
        next_call = max(next_call + period, time.monotonic())
        await asyncio.sleep(max(0.0, next_call - time.monotonic()))
    with open(out, "w") as f:
        f.writelines(f"{sent:.6f} {latency:.6f}\n" for sent, latency in samples)
    await connection.close()


if __name__ == "__main__":
    host, port, procedure, period_ms, max_seconds, out = sys.argv[1:7]
    asyncio.run(main(host, int(port), procedure, float(period_ms) / 1000, float(max_seconds),
                     out))
