"""
A minimal keep-alive HTTP/1.1 server for the benchmarks (asyncio, one process, no threads).

It does as little as a server can, so client-side costs show in the figures instead of drowning
in server time:

- ``GET /v2/sessions?roomId=...`` answers, after a configurable latency (a loop timer, as
  ``asyncio.sleep`` uses: thousands of requests can wait at once), VideoSDK's sessions page for a
  meeting nobody joined, or a 404 when so configured; it counts requests per ``roomId``. It only
  checks that an ``Authorization`` header is present (401 otherwise): no JWT check, which would
  cost the same server time for every client.
- ``GET /_bench/polls`` returns the counts per ``roomId``; ``POST /_bench/reset?latency=0.3&status=404``
  clears them and sets the latency and status of ``GET /v2/sessions`` (default 0 s, 200).
- ``GET /_stats`` returns how many TCP connections and requests it has seen.
- Every other request is answered at once with VideoSDK's outbound-call JSON.

Run: ``python benchmarks/server.py`` prints ``listening on http://127.0.0.1:<port>`` once ready.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, deque
from urllib.parse import parse_qs, urlsplit

BODY = b'{"statusCode":200,"message":"Success","participantId":"bench-participant"}'
LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
AUTHORIZATION = re.compile(rb"\r\nauthorization:[ \t]*\S", re.IGNORECASE)
NOBODY_JOINED = {"pageInfo": {"currentPage": 1, "perPage": 50, "lastPage": 1, "total": 0}, "data": []}
REASONS = {200: b"OK", 401: b"Unauthorized", 404: b"Not Found"}


def _answer(status: int, body: bytes) -> bytes:
    """A complete HTTP/1.1 response with a JSON body (the connection stays open)."""
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nx-request-id: req_bench\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (status, REASONS.get(status, b"Status"), len(body), body)
    )


def _json(status: int, value: object) -> bytes:
    return _answer(status, json.dumps(value, separators=(",", ":")).encode())


ANSWER = _answer(200, BODY)
UNAUTHORIZED = _json(401, {"statusCode": 401, "message": "Authorization header missing"})


class Stats:
    """What the server has seen, and how ``GET /v2/sessions`` answers."""

    connections = 0
    requests = 0
    polls: Counter[str] = Counter()
    latency = 0.0
    sessions_answer = _json(200, NOBODY_JOINED)

    @classmethod
    def reset(cls, latency: float, status: int) -> None:
        """Forget the poll counts; answer ``GET /v2/sessions`` with ``status`` after ``latency`` seconds."""
        cls.polls = Counter()
        cls.latency = latency
        cls.sessions_answer = (
            _json(200, NOBODY_JOINED) if status == 200 else _json(status, {"statusCode": status, "message": "bench"})
        )


class _Http(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""
        self.pending: deque[list[bytes]] = deque()  # answers in request order; empty list: not ready yet
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
            self._handle(head)

    def _handle(self, head: bytes) -> None:
        method, target = head.split(b" ", 2)[:2]
        if target.startswith(b"/v2/sessions"):
            Stats.requests += 1
            if not AUTHORIZATION.search(head):
                self._reply(UNAUTHORIZED)
                return
            room = parse_qs(urlsplit(target.decode()).query).get("roomId", [""])[0]
            Stats.polls[room] += 1
            self._reply(Stats.sessions_answer, Stats.latency)
        elif target == b"/_bench/polls":
            self._reply(_json(200, Stats.polls))
        elif target.startswith(b"/_bench/reset") and method == b"POST":
            query = parse_qs(urlsplit(target.decode()).query)
            Stats.reset(float(query.get("latency", ["0"])[0]), int(query.get("status", ["200"])[0]))
            self._reply(_json(200, {"latency": Stats.latency}))
        elif target == b"/_stats":
            self._reply(_json(200, {"connections": Stats.connections, "requests": Stats.requests}))
        else:
            Stats.requests += 1
            self._reply(ANSWER)

    def _reply(self, answer: bytes, delay: float = 0.0) -> None:
        """Send ``answer`` after ``delay`` seconds, never before the answers to earlier requests."""
        slot: list[bytes] = []
        self.pending.append(slot)
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._ready, slot, answer)
        else:
            self._ready(slot, answer)

    def _ready(self, slot: list[bytes], answer: bytes) -> None:
        slot.append(answer)
        while self.pending and self.pending[0]:
            out = self.pending.popleft()[0]
            if not self.transport.is_closing():
                self.transport.write(out)


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_Http, "127.0.0.1", 0, backlog=4096)
    print(f"listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve())
