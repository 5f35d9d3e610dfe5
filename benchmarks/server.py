"""
A minimal keep-alive HTTP/1.1 server that answers every request with VideoSDK's outbound-call JSON.

It does as little as a server can (no JWT check, no routing), so client-side costs show in the
per-call figure instead of drowning in server time. ``GET /_stats`` returns how many TCP
connections and requests it has seen.

Run: ``python benchmarks/server.py`` prints ``listening on http://127.0.0.1:<port>`` once ready.
"""

from __future__ import annotations

import asyncio
import json
import re

BODY = b'{"statusCode":200,"message":"Success","participantId":"bench-participant"}'
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nx-request-id: req_bench\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)
LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


class Stats:
    connections = 0
    requests = 0


class _Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""
        Stats.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:head_end]
            length = LENGTH.search(head)
            end = head_end + 4 + (int(length.group(1)) if length else 0)
            if len(self.buffer) < end:
                return
            self.buffer = self.buffer[end:]
            if head.startswith(b"GET /_stats "):
                body = json.dumps({"connections": Stats.connections, "requests": Stats.requests}).encode()
                self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                continue
            Stats.requests += 1
            self.transport.write(ANSWER)


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Http, "127.0.0.1", 0)
    print(f"listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve())
