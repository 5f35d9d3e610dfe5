"""
A local emulator of the VideoSDK REST endpoints this provider uses, over real HTTP on 127.0.0.1.

It checks the JWT and the raw ``Authorization`` header the way VideoSDK documents them, checks
bodies, answers in VideoSDK's shapes, records every request, simulates callees answering (they
then show up in ``GET /v2/sessions``), and can be told to fail for fault tests.

Run it on its own with::

    python -m airflow_provider_videosdk.testing.emulator --port 8765 --api-key K --api-secret S

Tests and tools steer a running emulator through ``/_emulator/*`` (see :class:`EmulatorClient`).
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import Request, urlopen

import jwt

DEFAULT_TRUNKS = {"trunk_demo": ["+15550100001", "+15550100002"]}
CALL_FIELDS = {"to", "from", "displayName", "meetingId", "trunkId", "participantId"}
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SIP = re.compile(r"sips?:[^@\s]+@[^@\s]+", re.IGNORECASE)
MAX_TOKEN_LIFETIME = 86400


@dataclass
class Fault:
    """How to fail the next ``times`` requests that match ``path`` (prefix) and ``method``."""

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

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))


@dataclass
class RecordedRequest:
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
    answers: dict[str, float] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    connections: int = 0


class _Reply(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def _now_iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), tz=timezone.utc).isoformat()


class VideoSDKEmulator:
    """
    The emulator; use as a context manager, or ``start()`` / ``stop()``.

    :param answer_after: seconds after which every callee answers; None: nobody answers
        unless listed in ``answers`` (number or SIP URI -> seconds).
    :param trunks: trunk id -> allowed caller numbers.
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

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._server.server_name_host}:{self.port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> VideoSDKEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="videosdk-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

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
        with self._lock:
            self._state.faults.append(Fault(**kwargs))

    def set_answer(self, to: str, after: float | None) -> None:
        """Make callee ``to`` answer ``after`` seconds after being called (None: never)."""
        with self._lock:
            if after is None:
                self._state.answers.pop(to, None)
            else:
                self._state.answers[to] = after

    def reset(self) -> None:
        with self._lock:
            self._state = _State()

    @property
    def requests(self) -> list[RecordedRequest]:
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
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    # -- request handling (called from the server's threads) -------------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        if path.startswith("/_emulator/"):
            return None
        with self._lock:
            for fault in self._state.faults:
                if fault.matches(method, path):
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
        room_id = (query.get("roomId") or [""])[0]
        page = int((query.get("page") or ["1"])[0])
        per_page = int((query.get("perPage") or ["20"])[0])
        now = time.time()
        with self._lock:
            joined = [
                c
                for c in self._state.calls
                if c["meetingId"] == room_id and c["answerAt"] is not None and c["answerAt"] <= now
            ]
        sessions = []
        if joined:
            start = min(c["answerAt"] for c in joined)
            sessions.append(
                {
                    "id": f"session-{room_id}",
                    "roomId": room_id,
                    "start": _now_iso(start),
                    "end": None,
                    "status": "ongoing",
                    "participants": [
                        {
                            "participantId": c["participantId"],
                            "name": c["displayName"],
                            "timelog": [{"start": _now_iso(c["answerAt"]), "end": None}],
                        }
                        for c in joined
                    ],
                }
            )
        last_page = max(1, -(-len(sessions) // per_page))
        data = sessions[(page - 1) * per_page : page * per_page]
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
        if (method, path) == ("POST", "/_emulator/faults"):
            self.add_fault(**body)
            return 200, {"ok": True}
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
    emulator: VideoSDKEmulator

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.emulator._lock:
            self.emulator._state.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up (timeouts, TLS probes) is part of the tests, not an error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle on, a kept-alive connection waits ~40 ms for each answer.
    disable_nagle_algorithm = True
    server: _Server

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
        fault = emulator._take_fault(method, parts.path)
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
            if fault.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status is not None:
                status = fault.status
                payload = json.dumps(
                    fault.body if fault.body is not None else {"statusCode": status, "message": "Injected fault"}
                ).encode()
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
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class EmulatorClient:
    """Steers an emulator running in another process, through its ``/_emulator/*`` endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = Request(self.url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def requests(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_emulator/requests")

    def calls(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_emulator/calls")

    def tokens(self) -> list[str]:
        return self._call("GET", "/_emulator/tokens")

    def add_fault(self, **fault: Any) -> None:
        self._call("POST", "/_emulator/faults", fault)

    def set_answer(self, to: str, after: float | None) -> None:
        self._call("POST", "/_emulator/answers", {"to": to, "after": after})

    def reset(self) -> None:
        self._call("POST", "/_emulator/reset", {})


def main(argv: list[str] | None = None) -> None:
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
    )
    print(f"VideoSDK emulator listening on {emulator.url}", flush=True)
    try:
        emulator._server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
