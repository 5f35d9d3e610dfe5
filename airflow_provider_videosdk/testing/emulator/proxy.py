"""Stand-ins for a network in the way: :class:`RefusingProxy` and :func:`closed_port`."""

from __future__ import annotations

import socket
import socketserver
import threading
from typing import Any

from airflow_provider_videosdk.testing.emulator.handlers import POLL_INTERVAL


class RefusingProxy:
    """
    An HTTP proxy on 127.0.0.1 that refuses everything: each request, ``CONNECT host:port`` included,
    gets ``status`` (``403 Forbidden``; 407 asks for proxy credentials) and the connection is closed.
    Use as a context manager.

    :param via: sent as the answer's ``Via`` header (as proxies that name themselves do), if given.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, status: int = 403, via: str | None = None) -> None:
        self._server = _ProxyServer((host, port), _ProxyHandler)
        self._server.proxy = self
        self._host = host
        self.status = status
        self.via = via
        self._lock = threading.Lock()
        self._connections = 0
        self._requests: list[str] = []
        self._headers: list[dict[str, str]] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to put in a connection's host."""
        return f"http://{self._host}:{self._server.server_address[1]}"

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self._connections

    @property
    def requests(self) -> list[str]:
        """Request lines received, such as ``CONNECT 127.0.0.1:443 HTTP/1.1``."""
        with self._lock:
            return list(self._requests)

    @property
    def headers(self) -> list[dict[str, str]]:
        """The headers of each request received (lower-case names), in order: did an ``Authorization`` reach it?"""
        with self._lock:
            return [dict(h) for h in self._headers]

    def __enter__(self) -> RefusingProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL,), name="refusing-proxy", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: RefusingProxy

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.proxy._lock:
            self.proxy._connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _ProxyHandler(socketserver.StreamRequestHandler):
    timeout = 10
    server: _ProxyServer

    def handle(self) -> None:
        proxy = self.server.proxy
        line = self.rfile.readline(65537)
        headers: dict[str, str] = {}
        for _ in range(100):
            header = self.rfile.readline(65537)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = headers.get("content-length", "")
        self.rfile.read(min(int(length), 1 << 20) if length.isdigit() else 0)  # so that closing does not reset
        with proxy._lock:
            proxy._requests.append(line.decode("latin-1").strip())
            proxy._headers.append(headers)
        reason = "Proxy Authentication Required" if proxy.status == 407 else "Forbidden"
        body = f"{reason} by proxy\n".encode()
        head = f"HTTP/1.1 {proxy.status} {reason}\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        if proxy.status == 407:
            head += 'Proxy-Authenticate: Basic realm="proxy"\r\n'
        if proxy.via:
            head += f"Via: {proxy.via}\r\n"
        self.wfile.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` with nothing listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
