"""The HTTP(S) server and request handler: auth, faults, recording, then the emulator's routes."""

from __future__ import annotations

import gzip
import json
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from airflow_provider_videosdk.testing.emulator.auth import check_auth
from airflow_provider_videosdk.testing.emulator.control import check as check_control
from airflow_provider_videosdk.testing.emulator.faults import (
    HANDSHAKE_TIMEOUT,
    MAX_FAULT_SECONDS,
    NOT_A_TLS_RECORD,
    Fault,
    break_handshake,
)
from airflow_provider_videosdk.testing.emulator.state import RecordedRequest, Reply

if TYPE_CHECKING:
    import ssl

    from airflow_provider_videosdk.testing.emulator.host import Emulator

POLL_INTERVAL = 0.05  # how soon stop() returns
#: The largest request body read, for the API and for the control endpoints; a larger one gets a 413.
MAX_API_BODY = 64 * 1024
MAX_CONTROL_BODY = 1024 * 1024


class Server(ThreadingHTTPServer):
    """Serves each connection on a thread of its own, taking a queued TLS fault when it is accepted."""

    daemon_threads = True
    server_name_host = "127.0.0.1"
    allow_reuse_address = True
    request_queue_size = 1024  # benchmarks open ~1000 keep-alive connections at once
    emulator: Emulator
    ssl_context: ssl.SSLContext | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_connections: set[socket.socket] = set()

    def close_connections(self) -> None:
        """Hang up on every client still connected (kept-alive, stalled, trickled)."""
        for sock in list(self.open_connections):
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # beneath TLS: its state belongs to the handler
            except OSError:
                pass

    def process_request(self, request: Any, client_address: Any) -> None:
        """Count the connection, take its TLS fault (if any) now, and serve it on a thread of its own."""
        with self.emulator.lock:
            self.emulator.state.connections += 1
        tls_fault = self.emulator.take(lambda fault: fault.tls is not None) if self.ssl_context else None
        thread = threading.Thread(
            target=self._connection, args=(request, client_address, tls_fault), name="videosdk-emulator-connection"
        )
        thread.daemon = True
        thread.start()

    def _connection(self, sock: socket.socket, client_address: Any, tls_fault: Fault | None) -> None:
        self.open_connections.add(sock)
        try:
            if self.ssl_context is not None:
                if tls_fault is not None and tls_fault.tls != "corrupt_after_request":
                    break_handshake(sock, fail=tls_fault.tls == "fail_handshake")
                    return
                self.open_connections.discard(sock)
                sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                self.open_connections.add(sock)
                sock.settimeout(HANDSHAKE_TIMEOUT)
                sock.do_handshake()
                sock.settimeout(None)
            Handler(sock, client_address, self, tls_fault)
        except Exception:
            pass  # a client that hangs up (timeouts, TLS probes, untrusted certificates) is part of the tests
        finally:
            self.open_connections.discard(sock)
            self.shutdown_request(sock)


def _gzipped(over: int | None, fault: Fault | None, accept_encoding: str, payload: bytes) -> bool:
    """Whether to gzip an answer: a ``gzip`` fault says so, or it is longer than ``over`` and gzip was offered."""
    if fault is not None and fault.gzip:
        return True
    offered = {part.split(";")[0].strip().lower() for part in accept_encoding.split(",")}
    return over is not None and len(payload) > over and bool(offered & {"gzip", "x-gzip", "*"})


class Handler(BaseHTTPRequestHandler):
    """Reads a request, records it, takes its fault, routes it, and answers (or fails to, on purpose)."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, a kept-alive connection waits ~40 ms for each answer.
    disable_nagle_algorithm = True
    server: Server

    def __init__(self, request: Any, client_address: Any, server: Server, tls_fault: Fault | None = None) -> None:
        self.tls_fault = tls_fault  # corrupt_after_request hits the connection's first request
        super().__init__(request, client_address, server)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep quiet: tests read :attr:`VideoSDKEmulator.requests` instead."""

    def _serve(self, method: str) -> None:
        emulator = self.server.emulator
        parts = urlsplit(self.path)
        control = parts.path.startswith("/_emulator/")
        length = self._body_length(MAX_CONTROL_BODY if control else MAX_API_BODY)
        if length is None:
            return
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest(method, parts.path, parse_qs(parts.query), headers, body)
        if not control:
            emulator.record(record)
        tls_fault, self.tls_fault = self.tls_fault, None
        fault = tls_fault or emulator.take_fault(method, parts.path)
        status, answer = 500, None
        if fault is None or fault.process:
            try:
                if control:
                    check_control(emulator, method, headers)
                else:
                    check_auth(headers, emulator.api_key, emulator.api_secret)
                    if method == "POST" and headers.get("content-type", "").split(";")[0] != "application/json":
                        raise Reply(415, {"statusCode": 415, "message": "Content-Type must be application/json"})
                status, answer = emulator.handle(method, parts.path, record.query, body)
            except Reply as reply:
                status, answer = reply.status, reply.body
            except Exception as exc:  # a bug in the emulator must still answer
                status, answer = 500, {"statusCode": 500, "message": f"emulator error: {exc!r}"}
        extra_headers = {"x-request-id": "req_" + secrets.token_hex(6)}
        payload = json.dumps(answer).encode()
        content_type = "application/json"
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop or fault.tls:
                self.close_connection = True
                if fault.tls:  # corrupt_after_request: bytes beneath the TLS layer, which the client cannot decrypt
                    socket.socket.sendall(self.connection, NOT_A_TLS_RECORD)
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None or fault.redirect is not None:
                status = fault.status if fault.status is not None else 302
                payload = json.dumps(
                    fault.body if fault.body is not None else {"statusCode": status, "message": "Injected fault"}
                ).encode()
            if fault.redirect is not None:
                extra_headers["Location"] = fault.redirect
            if fault.raw is not None:
                payload, content_type = fault.raw.encode(), "text/html"
            if fault.retry_after is not None:
                extra_headers["Retry-After"] = fault.retry_after
        if _gzipped(emulator.gzip_over, fault, headers.get("accept-encoding", ""), payload):
            payload = gzip.compress(payload)
            extra_headers["Content-Encoding"] = "gzip"
        record.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra_headers.items():
            self.send_header(name, value)
        if fault is not None and fault.trickle_head is not None:
            buffered: list[bytes] = getattr(self, "_headers_buffer", [])  # what end_headers() would write
            head = b"".join(buffered) + b"\r\n"
            buffered.clear()
            self._trickle(head + payload, fault.trickle_head)
            return
        self.end_headers()
        if fault is not None and fault.truncate is not None:
            self.wfile.write(payload[: fault.truncate])
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault is not None and fault.trickle is not None:
            self._trickle(payload, fault.trickle)
        else:
            self.wfile.write(payload)

    def _body_length(self, cap: int) -> int | None:
        """The request's ``Content-Length``; None after answering 400 or 413 (unreadable, or over ``cap``)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if 0 <= length <= cap:
            return length
        status = 413 if length > cap else 400
        message = f"the body is over {cap} bytes" if length > cap else "Content-Length is not a number"
        payload = json.dumps({"statusCode": status, "message": message}).encode()
        self.close_connection = True  # the body is left unread: the connection cannot carry another request
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
        return None

    def _trickle(self, payload: bytes, interval: float) -> None:
        """Write one byte every ``interval`` seconds; stop when the client hangs up or after a minute."""
        deadline = time.monotonic() + MAX_FAULT_SECONDS
        for i in range(len(payload)):
            time.sleep(interval)
            try:
                if time.monotonic() > deadline:
                    break
                self.wfile.write(payload[i : i + 1])
            except OSError:
                break
        else:
            return
        self.close_connection = True  # the body is incomplete: the connection cannot carry another answer

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve("POST")
