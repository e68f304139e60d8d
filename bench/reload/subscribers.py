"""Benchmark role: COUNT WAMP v1 subscribers held open until stdin closes.

    subscribers.py HOST PORT FIRST COUNT TOPICS

Connection i (global index FIRST + i) subscribes to bench/room{(FIRST + i) % TOPICS}.
Prints "ready" once every connection has sent its SUBSCRIBE, then reads and discards what
arrives; at stdin's end prints "dropped K" (connections the server ended) and exits."""

import asyncio
import sys

from wamp_raw import OP_CLOSE, Connection

# Handshakes in flight at once: the server's accept backlog is finite.
CONCURRENT_OPENS = 100
OPEN_TIMEOUT = 120.0


async def hold(connection, dropped):
    try:
        while True:
            opcode, _ = await connection.read_frame()
            if opcode == OP_CLOSE:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    dropped.append(connection)


async def main(host, port, first, count, topics):
    gate = asyncio.Semaphore(CONCURRENT_OPENS)

    async def open_one(index):
        async with gate:
            connection = await Connection.open(host, port)
            connection.send([5, f"bench/room{index % topics}"])
            return connection

    connections = await asyncio.wait_for(
        asyncio.gather(*(open_one(first + i) for i in range(count))), OPEN_TIMEOUT)
    dropped = []
    readers = [asyncio.create_task(hold(c, dropped)) for c in connections]
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print(f"dropped {len(dropped)}", flush=True)
    for reader in readers:
        reader.cancel()


if __name__ == "__main__":
    host, port, first, count, topics = sys.argv[1:6]
    asyncio.run(main(host, int(port), int(first), int(count), int(topics)))
