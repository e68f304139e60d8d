"""A minimal WAMP v1 client over asyncio streams: the WebSocket handshake and frames written
by hand, so that thousands of connections cost little and nothing outside the Python
standard library is needed. For the benchmark only: it trusts the server it talks to."""

import asyncio
import base64
import json
import os
import struct

OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode, payload):
    """A masked client frame."""
    header = bytearray([0x80 | opcode])
    length = len(payload)
    if length < 126:
        header.append(0x80 | length)
    elif length < 1 << 16:
        header.append(0x80 | 126)
        header += struct.pack("!H", length)
    else:
        header.append(0x80 | 127)
        header += struct.pack("!Q", length)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return bytes(header) + mask + masked


class Connection:
    """One WAMP v1 session. Open it with `await Connection.open(host, port, path)`."""

    def __init__(self, reader, writer, welcome):
        self.reader = reader
        self.writer = writer
        self.welcome = welcome

    @classmethod
    async def open(cls, host, port, path="/"):
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: wamp\r\n\r\n")
                     .encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"handshake refused: {head[:200]!r}")
        self = cls(reader, writer, None)
        opcode, payload = await self.read_frame()
        self.welcome = json.loads(payload)
        return self

    async def read_frame(self):
        """(opcode, payload) of the next data or close frame; pings are answered."""
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length)
            opcode = first & 0x0F
            if opcode == OP_PING:
                self.writer.write(_frame(OP_PONG, payload))
                continue
            return opcode, payload

    def send(self, message):
        self.writer.write(_frame(OP_TEXT, json.dumps(message).encode()))

    async def close(self):
        try:
            self.writer.write(_frame(OP_CLOSE, struct.pack("!H", 1000)))
            await self.writer.drain()
        except ConnectionError:
            pass
        self.writer.close()
