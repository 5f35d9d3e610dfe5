"""
A local emulator of the VideoSDK REST endpoints this provider uses, over real HTTP on 127.0.0.1.

It checks the JWT and the raw ``Authorization`` header the way VideoSDK documents them, checks
bodies, answers in VideoSDK's shapes, records every request, simulates callees answering (they
then show up in ``GET /v2/sessions``), and can be told to fail for fault tests.

Run it on its own with::

    python -m airflow_provider_videosdk.testing.emulator --port 8765 --api-key K --api-secret S

Tests and tools steer a running emulator through ``/_emulator/*`` (see :class:`EmulatorClient`).
With ``--tls`` it serves HTTPS with a throwaway certificate (see :attr:`VideoSDKEmulator.ca_file`).
:class:`RefusingProxy` and :func:`closed_port` stand in for a proxy that refuses, or nothing listening.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import re
import secrets
import shutil
import signal
import socket
import socketserver
import ssl
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit

import jwt

if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_TRUNKS = {"trunk_demo": ["+15550100001", "+15550100002"]}
CALL_FIELDS = {"to", "from", "displayName", "meetingId", "trunkId", "participantId"}
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SIP = re.compile(r"sips?:[^@\s]+@[^@\s]+", re.IGNORECASE)
MAX_TOKEN_LIFETIME = 86400
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
TLS_FAULTS = ("fail_handshake", "stall_handshake", "corrupt_after_request")
MAX_FAULT_SECONDS = 60.0  # no stalled handshake or trickled body lasts longer
HANDSHAKE_TIMEOUT = 10.0
POLL_INTERVAL = 0.05  # how soon stop() returns
_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
# A fatal TLS alert record (handshake_failure), sent in answer to a ClientHello by ``tls="fail_handshake"``.
HANDSHAKE_FAILURE_ALERT = bytes([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28])
# Written beneath the TLS layer by ``tls="corrupt_after_request"``: not a valid TLS record.
NOT_A_TLS_RECORD = b"HTTP/1.1 200 OK\r\n\r\nthis is not a TLS record"


@dataclass
class Fault:
    """
    How to fail the next ``times`` requests that match ``path`` (prefix) and ``method``.

    A fault with ``tls`` set applies to the next ``times`` *connections* instead (taken when the
    connection is accepted, whatever it then asks for), and needs ``VideoSDKEmulator(tls=True)``.
    """

    status: int | None = None
    body: Any = None  # JSON-encoded into the answer
    raw: str | None = None  # sent as is, with Content-Type text/html
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering
    drop: bool = False  # close the connection without answering
    process: bool = False  # carry the request out before failing (a call is then really placed)
    path: str | None = None
    method: str | None = None
    times: int = 1
    truncate: int | None = None  # send the full Content-Length but only this many body bytes, then close
    trickle: float | None = None  # send the body one byte every this many seconds
    redirect: str | None = None  # answer with this Location and ``status`` (default 302)
    tls: Literal["fail_handshake", "stall_handshake", "corrupt_after_request"] | None = None

    def __post_init__(self) -> None:
        if self.tls is not None and self.tls not in TLS_FAULTS:
            raise ValueError(f"tls must be one of {', '.join(TLS_FAULTS)}, got {self.tls!r}")
        if self.redirect is not None and self.status is not None and self.status not in REDIRECT_STATUSES:
            raise ValueError(f"a redirect needs a status in {sorted(REDIRECT_STATUSES)}, got {self.status}")
        if self.truncate is not None and self.truncate < 0:
            raise ValueError(f"truncate must be >= 0, got {self.truncate}")
        if self.trickle is not None and self.trickle <= 0:
            raise ValueError(f"trickle must be > 0 seconds, got {self.trickle}")

    def matches(self, method: str, path: str) -> bool:
        """True when this (non-TLS) fault applies to a request of ``method`` to ``path``."""
        return (
            self.tls is None
            and (self.method is None or self.method == method)
            and (self.path is None or path.startswith(self.path))
        )


@dataclass
class RecordedRequest:
    """One request the emulator received, as it arrived, and the status it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int | None = None  # None when the connection was dropped


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # seeded with add_session
    answers: dict[str, float] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    connections: int = 0


class _Reply(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def _now_iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), tz=timezone.utc).isoformat()


def _session_json(session: dict[str, Any]) -> dict[str, Any]:
    """A session as ``GET /v2/sessions`` lists it; ``session`` holds epoch seconds."""
    return {
        "id": session["id"],
        "roomId": session["roomId"],
        "start": _now_iso(session["start"]),
        "end": None if session["end"] is None else _now_iso(session["end"]),
        "status": "ongoing" if session["end"] is None else "completed",
        "participants": [
            {
                "participantId": participant_id,
                "name": name,
                "timelog": [{"start": _now_iso(joined), "end": None if left is None else _now_iso(left)}],
            }
            for participant_id, name, joined, left in session["participants"]
        ],
    }


def _positive_int(query: dict[str, list[str]], name: str, default: int) -> int:
    value = (query.get(name) or [str(default)])[0]
    if not value.isdigit() or int(value) < 1:
        raise _Reply(400, {"statusCode": 400, "message": f"{name} must be a positive integer"})
    return int(value)


def _make_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 and localhost, valid for a day; returns (cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "VideoSDK emulator")])
    now = datetime.now(timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "emulator-cert.pem", directory / "emulator-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class VideoSDKEmulator:
    """
    The emulator; use as a context manager, or ``start()`` / ``stop()``.

    :param answer_after: seconds after which every callee answers; None: nobody answers
        unless listed in ``answers`` (number or SIP URI -> seconds).
    :param trunks: trunk id -> allowed caller numbers.
    :param tls: serve HTTPS with a throwaway self-signed certificate for 127.0.0.1 and localhost,
        which clients trust through :attr:`ca_file`; it is deleted on ``stop()``.
    """

    def __init__(
        self,
        *,
        api_key: str = "emulator-api-key",
        api_secret: str = "emulator-api-secret-0123456789abcdef",
        host: str = "127.0.0.1",
        port: int = 0,
        answer_after: float | None = None,
        answers: dict[str, float] | None = None,
        trunks: dict[str, list[str]] | None = None,
        tls: bool = False,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.answer_after = answer_after
        self.trunks = dict(trunks or DEFAULT_TRUNKS)
        self._lock = threading.Lock()
        self._state = _State(answers=dict(answers or {}))
        self._server = _Server((host, port), _Handler)
        self._server.emulator = self
        self._server.server_name_host = host
        self._thread: threading.Thread | None = None
        self._tempdir: str | None = None
        #: PEM file of the certificate to trust (``tls=True`` only), e.g. ``requests.get(..., verify=ca_file)``.
        self.ca_file: str | None = None
        if tls:
            self._tempdir = tempfile.mkdtemp(prefix="videosdk-emulator-tls-")
            cert, key = _make_certificate(Path(self._tempdir))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._server.ssl_context = context
            self.ca_file = str(cert)

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to put in a connection's host."""
        scheme = "https" if self._server.ssl_context else "http"
        return f"{scheme}://{self._server.server_name_host}:{self.port}"

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def start(self) -> VideoSDKEmulator:
        """Serve in a background thread; returns the emulator."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL,), name="videosdk-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, hang up open connections and remove the TLS certificate."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server.close_connections()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def __enter__(self) -> VideoSDKEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connection_json(self, extra: dict[str, Any] | None = None) -> str:
        """A ``videosdk`` connection as JSON, for ``AIRFLOW_CONN_<ID>``."""
        return json.dumps(
            {
                "conn_type": "videosdk",
                "login": self.api_key,
                "password": self.api_secret,
                "host": self.url,
                "extra": extra or {},
            }
        )

    # -- control ---------------------------------------------------------------------------------

    def add_fault(self, **kwargs: Any) -> None:
        """Queue a :class:`Fault`; faults apply in the order added."""
        fault = Fault(**kwargs)
        if fault.tls is not None and self._server.ssl_context is None:
            raise ValueError("tls faults need VideoSDKEmulator(tls=True)")
        with self._lock:
            self._state.faults.append(fault)

    def add_session(
        self,
        meeting_id: str,
        participants: Iterable[tuple[str, float]] = (),
        *,
        start: float | None = None,
        end: float | None = None,
    ) -> dict[str, Any]:
        """
        Seed a session of ``meeting_id``, e.g. last week's, for tests of stale answers.

        :param participants: (participant ID, joined at in epoch seconds) of who joined it.
        :param start: epoch seconds; default the first join, or now.
        :param end: epoch seconds, or None for a session still going on.
        :return: the session as ``GET /v2/sessions`` lists it.
        """
        joined = [(str(pid), float(at)) for pid, at in participants]
        first = min((at for _, at in joined), default=time.time())
        session = {
            "id": "session-" + secrets.token_hex(6),
            "roomId": meeting_id,
            "start": float(start) if start is not None else first,
            "end": float(end) if end is not None else None,
            "participants": [(pid, pid, at, end) for pid, at in joined],
        }
        with self._lock:
            self._state.sessions.append(session)
        return _session_json(session)

    def set_answer(self, to: str, after: float | None) -> None:
        """Make callee ``to`` answer ``after`` seconds after being called (None: never)."""
        with self._lock:
            if after is None:
                self._state.answers.pop(to, None)
            else:
                self._state.answers[to] = after

    def reset(self) -> None:
        """Forget every request, call, room, session, fault and answer."""
        with self._lock:
            self._state = _State()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._state.requests)

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Calls placed, each the request body plus ``participantId``, ``placedAt`` and ``answerAt``."""
        with self._lock:
            return [dict(c) for c in self._state.calls]

    @property
    def rooms(self) -> dict[str, dict[str, Any]]:
        """Rooms created so far, by ``roomId``."""
        with self._lock:
            return {k: dict(v) for k, v in self._state.rooms.items()}

    @property
    def tokens(self) -> set[str]:
        """Every token presented to the API, valid or not."""
        with self._lock:
            return set(self._state.tokens)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self._state.connections

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """The requests to exactly ``path`` (and ``method``, if given)."""
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    # -- request handling (called from the server's threads) -------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        if path.startswith("/_emulator/"):
            return None
        return self._take(lambda fault: fault.matches(method, path))

    def _take(self, wanted: Any) -> Fault | None:
        with self._lock:
            for fault in self._state.faults:
                if wanted(fault):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._state.faults.remove(fault)
                    return fault
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._state.requests.append(request)
            token = request.headers.get("authorization")
            if token:
                self._state.tokens.add(token)

    def _check_auth(self, headers: dict[str, str]) -> None:
        token = headers.get("authorization")
        if not token:
            raise _Reply(401, {"statusCode": 401, "message": "Token is required"})
        if " " in token:
            raise _Reply(401, {"statusCode": 401, "message": "Token must be sent without any prefix such as 'Bearer '"})
        try:
            claims = jwt.decode(
                token, self.api_secret, algorithms=["HS256"], options={"require": ["exp", "iat", "apikey"]}
            )
        except jwt.PyJWTError:
            raise _Reply(401, {"statusCode": 401, "message": "Token is invalid or expired"}) from None
        perms = claims.get("permissions")
        problems = []
        if claims.get("apikey") != self.api_key:
            problems.append("apikey does not match")
        if claims.get("version") != 2:
            problems.append("version must be 2")
        if "crawler" not in (claims.get("roles") or []):
            problems.append("roles must include crawler for the REST API")
        if not isinstance(perms, list) or not perms or not set(perms) <= {"allow_join", "ask_join", "allow_mod"}:
            problems.append("permissions must be a list of allow_join, ask_join, allow_mod")
        if (
            not all(isinstance(claims.get(c), int) for c in ("iat", "exp"))
            or claims["exp"] - claims["iat"] > MAX_TOKEN_LIFETIME
        ):
            problems.append("iat/exp must be epoch seconds, lifetime at most 24 h")
        if problems:
            raise _Reply(401, {"statusCode": 401, "message": "Invalid token: " + "; ".join(problems)})

    def _handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if path.startswith("/_emulator/"):
            return self._control(method, path, body)
        route = (method, path)
        if route == ("POST", "/v2/sip/outbound-call"):
            return 200, self._outbound_call(body)
        if route == ("POST", "/v2/rooms"):
            return 200, self._create_room(body)
        if method == "GET" and path.startswith("/v2/rooms/validate/"):
            room = self._state.rooms.get(path.rsplit("/", 1)[1])
            if room is None:
                raise _Reply(404, {"statusCode": 404, "message": "Room not found"})
            return 200, room
        if route == ("GET", "/v2/sessions"):
            return 200, self._sessions(query)
        raise _Reply(404, {"statusCode": 404, "message": f"Cannot {method} {path}"})

    def _outbound_call(self, body: Any) -> dict[str, Any]:
        def bad(message: str) -> _Reply:
            return _Reply(400, {"statusCode": 400, "message": message})

        if not isinstance(body, dict):
            raise bad("Body must be a JSON object")
        unknown = set(body) - CALL_FIELDS
        if unknown:
            raise bad(f"Unknown body fields: {sorted(unknown)}")
        for name in ("to", "displayName", "meetingId", "trunkId"):
            if not isinstance(body.get(name), str) or not body[name].strip():
                raise bad(f"{name} is required")
        for name in ("from", "participantId"):
            if name in body and (not isinstance(body[name], str) or not body[name]):
                raise bad(f"{name} must be a non-empty string when given")
        if not (E164.fullmatch(body["to"]) or SIP.fullmatch(body["to"])):
            raise bad("to must be a phone number in E.164 form or a SIP URI")
        numbers = self.trunks.get(body["trunkId"])
        if numbers is None:
            raise _Reply(404, {"statusCode": 404, "message": f"SIP trunk {body['trunkId']} not found"})
        if "from" in body and body["from"] not in numbers:
            raise bad("from must be one of the trunk's numbers")
        now = time.time()
        with self._lock:
            after = self._state.answers.get(body["to"], self.answer_after)
            call = {
                **body,
                "from": body.get("from", numbers[0]),
                "participantId": body.get("participantId") or secrets.token_hex(4),
                "placedAt": now,
                "answerAt": None if after is None else now + after,
            }
            self._state.calls.append(call)
        return {"statusCode": 200, "message": "Success", "participantId": call["participantId"]}

    def _create_room(self, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        custom = body.get("customRoomId")
        with self._lock:
            for room in self._state.rooms.values():
                if custom and room["customRoomId"] == custom:
                    return room
            room_id = "-".join(secrets.token_hex(2) for _ in range(3))
            room = {
                "roomId": room_id,
                "customRoomId": custom,
                "disabled": False,
                "createdAt": _now_iso(),
                "id": secrets.token_hex(12),
            }
            self._state.rooms[room_id] = room
            return room

    def _sessions(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """Seeded sessions plus, per meeting, one ongoing session of the callees who answered; newest first."""
        room_id = query["roomId"][0] if query.get("roomId") else None
        page = _positive_int(query, "page", 1)
        per_page = _positive_int(query, "perPage", 20)
        now = time.time()
        with self._lock:
            answered = [c for c in self._state.calls if c["answerAt"] is not None and c["answerAt"] <= now]
            sessions = [s for s in self._state.sessions if room_id is None or s["roomId"] == room_id]
        by_room: dict[str, list[dict[str, Any]]] = {}
        for call in answered:
            if room_id is None or call["meetingId"] == room_id:
                by_room.setdefault(call["meetingId"], []).append(call)
        for room, joined in by_room.items():
            participants = [(c["participantId"], c["displayName"], c["answerAt"], None) for c in joined]
            start = min(c["answerAt"] for c in joined)
            sessions.append(
                {"id": f"session-{room}", "roomId": room, "start": start, "end": None, "participants": participants}
            )
        sessions.sort(key=lambda s: s["start"], reverse=True)
        last_page = max(1, -(-len(sessions) // per_page))
        data = [_session_json(s) for s in sessions[(page - 1) * per_page : page * per_page]]
        return {
            "pageInfo": {"currentPage": page, "perPage": per_page, "lastPage": last_page, "total": len(sessions)},
            "data": data,
        }

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if (method, path) == ("GET", "/_emulator/requests"):
            return 200, [asdict(r) for r in self.requests]
        if (method, path) == ("GET", "/_emulator/calls"):
            return 200, self.calls
        if (method, path) == ("GET", "/_emulator/tokens"):
            return 200, sorted(self.tokens)
        try:
            if (method, path) == ("POST", "/_emulator/faults"):
                self.add_fault(**body)
                return 200, {"ok": True}
            if (method, path) == ("POST", "/_emulator/sessions"):
                participants = [(pid, at) for pid, at in body.get("participants") or []]
                return 200, self.add_session(
                    body["meetingId"], participants, start=body.get("start"), end=body.get("end")
                )
        except (TypeError, ValueError, KeyError) as exc:
            raise _Reply(400, {"message": f"bad control request: {exc}"}) from None
        if (method, path) == ("POST", "/_emulator/answers"):
            self.set_answer(body["to"], body.get("after"))
            return 200, {"ok": True}
        if (method, path) == ("POST", "/_emulator/reset"):
            self.reset()
            return 200, {"ok": True}
        raise _Reply(404, {"message": f"Cannot {method} {path}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    server_name_host = "127.0.0.1"
    allow_reuse_address = True
    request_queue_size = 1024  # benchmarks open ~1000 keep-alive connections at once
    emulator: VideoSDKEmulator
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
        with self.emulator._lock:
            self.emulator._state.connections += 1
        tls_fault = self.emulator._take(lambda fault: fault.tls is not None) if self.ssl_context else None
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
                    _break_handshake(sock, fail=tls_fault.tls == "fail_handshake")
                    return
                self.open_connections.discard(sock)
                sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                self.open_connections.add(sock)
                sock.settimeout(HANDSHAKE_TIMEOUT)
                sock.do_handshake()
                sock.settimeout(None)
            _Handler(sock, client_address, self, tls_fault)
        except Exception:
            pass  # a client that hangs up (timeouts, TLS probes, untrusted certificates) is part of the tests
        finally:
            self.open_connections.discard(sock)
            self.shutdown_request(sock)


def _break_handshake(sock: socket.socket, *, fail: bool) -> None:
    """Answer a ClientHello with a fatal alert (``fail``), or read and never answer until the client gives up."""
    deadline = time.monotonic() + (HANDSHAKE_TIMEOUT if fail else MAX_FAULT_SECONDS)
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        if not sock.recv(65536):
            return  # the client gave up
        if fail:
            sock.sendall(HANDSHAKE_FAILURE_ALERT)
            return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, a kept-alive connection waits ~40 ms for each answer.
    disable_nagle_algorithm = True
    server: _Server

    def __init__(self, request: Any, client_address: Any, server: _Server, tls_fault: Fault | None = None) -> None:
        self.tls_fault = tls_fault  # corrupt_after_request hits the connection's first request
        super().__init__(request, client_address, server)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        emulator = self.server.emulator
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest(method, parts.path, parse_qs(parts.query), headers, body)
        control = parts.path.startswith("/_emulator/")
        if not control:
            emulator._record(record)
        tls_fault, self.tls_fault = self.tls_fault, None
        fault = tls_fault or emulator._take_fault(method, parts.path)
        status, answer = 500, None
        if fault is None or fault.process:
            try:
                if not control:
                    emulator._check_auth(headers)
                    if method == "POST" and headers.get("content-type", "").split(";")[0] != "application/json":
                        raise _Reply(415, {"statusCode": 415, "message": "Content-Type must be application/json"})
                status, answer = emulator._handle(method, parts.path, record.query, body)
            except _Reply as reply:
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
        record.status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in extra_headers.items():
            self.send_header(name, value)
        self.end_headers()
        if fault is not None and fault.truncate is not None:
            self.wfile.write(payload[: fault.truncate])
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fault is not None and fault.trickle is not None:
            self._trickle(payload, fault.trickle)
        else:
            self.wfile.write(payload)

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
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class EmulatorClient:
    """
    Steers an emulator running in another process, through its ``/_emulator/*`` endpoints.

    It keeps one connection open, so that its calls after the first do not take a queued
    ``tls`` fault (those hit the next *connection*). A failed call raises ``HTTPError``.

    :param ca_file: the emulator's certificate, for an ``https://`` emulator (``--tls``).
    """

    def __init__(self, url: str, ca_file: str | None = None) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self._prefix = parts.path
        self._conn: http.client.HTTPConnection
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=ca_file)
            self._conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=10, context=context)
        else:
            self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        self._conn.close()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        with self._lock:
            reused = self._conn.sock is not None
            try:
                status, headers, payload = self._round_trip(method, path, data)
            except _STALE_CONNECTION:
                if not reused:
                    raise
                # The emulator was restarted since the last call, closing that connection: once more, afresh.
                status, headers, payload = self._round_trip(method, path, data)
        if status >= 400:
            raise HTTPError(self.url + path, status, payload.decode("utf-8", "replace"), headers, None)
        return json.loads(payload)

    def _round_trip(self, method: str, path: str, data: bytes | None) -> tuple[int, Any, bytes]:
        try:
            self._conn.request(method, self._prefix + path, data, {"Content-Type": "application/json"})
            resp = self._conn.getresponse()
            return resp.status, resp.headers, resp.read()
        except (http.client.HTTPException, OSError):
            self._conn.close()  # the next call connects afresh
            raise

    def requests(self) -> list[dict[str, Any]]:
        """Every request received so far, in order."""
        return self._call("GET", "/_emulator/requests")

    def calls(self) -> list[dict[str, Any]]:
        """Calls placed so far."""
        return self._call("GET", "/_emulator/calls")

    def tokens(self) -> list[str]:
        """Every token presented to the API."""
        return self._call("GET", "/_emulator/tokens")

    def add_fault(self, **fault: Any) -> None:
        """Queue a :class:`Fault` (keyword arguments as its fields)."""
        self._call("POST", "/_emulator/faults", fault)

    def add_session(
        self,
        meeting_id: str,
        participants: Iterable[tuple[str, float]] = (),
        *,
        start: float | None = None,
        end: float | None = None,
    ) -> dict[str, Any]:
        """See :meth:`VideoSDKEmulator.add_session`."""
        body = {"meetingId": meeting_id, "participants": [list(p) for p in participants], "start": start, "end": end}
        return self._call("POST", "/_emulator/sessions", body)

    def set_answer(self, to: str, after: float | None) -> None:
        """Make callee ``to`` answer ``after`` seconds after being called (None: never)."""
        self._call("POST", "/_emulator/answers", {"to": to, "after": after})

    def reset(self) -> None:
        """Forget every request, call, room, session, fault and answer."""
        self._call("POST", "/_emulator/reset", {})


class RefusingProxy:
    """
    An HTTP proxy on 127.0.0.1 that refuses everything: each request, ``CONNECT host:port`` included,
    gets ``403 Forbidden`` and the connection is closed. Use as a context manager.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _ProxyServer((host, port), _ProxyHandler)
        self._server.proxy = self
        self._host = host
        self._lock = threading.Lock()
        self._connections = 0
        self._requests: list[str] = []
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
        line = self.rfile.readline(65537)
        length = 0
        for _ in range(100):  # headers
            header = self.rfile.readline(65537)
            if header in (b"\r\n", b"\n", b""):
                break
            name, _, value = header.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value)
        self.rfile.read(min(length, 1 << 20))  # so that closing does not reset the connection
        with self.server.proxy._lock:
            self.server.proxy._requests.append(line.decode("latin-1").strip())
        body = b"Forbidden by proxy\n"
        self.wfile.write(
            b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` with nothing listening: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Run the emulator from the command line until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="emulator-api-key")
    parser.add_argument("--api-secret", default="emulator-api-secret-0123456789abcdef")
    parser.add_argument("--answer-after", type=float, default=None, help="every callee answers after N seconds")
    parser.add_argument(
        "--answer", action="append", default=[], metavar="TO=SECONDS", help="this callee answers after SECONDS"
    )
    parser.add_argument(
        "--trunk", action="append", default=[], metavar="ID=NUMBER[,NUMBER]", help="a SIP trunk and its numbers"
    )
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a throwaway certificate (path printed)")
    args = parser.parse_args(argv)
    answers = {k: float(v) for k, v in (a.split("=", 1) for a in args.answer)}
    trunks = {k: v.split(",") for k, v in (t.split("=", 1) for t in args.trunk)} or None
    emulator = VideoSDKEmulator(
        api_key=args.api_key,
        api_secret=args.api_secret,
        host=args.host,
        port=args.port,
        answer_after=args.answer_after,
        answers=answers,
        trunks=trunks,
        tls=args.tls,
    )
    print(f"VideoSDK emulator listening on {emulator.url}", flush=True)
    if emulator.ca_file:
        print(f"CA certificate: {emulator.ca_file}", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # so that the certificate is removed on SIGTERM too
    try:
        emulator._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
