"""The emulator itself: :class:`VideoSDKEmulator`, its life cycle, its controls and its routes."""

from __future__ import annotations

import dataclasses
import json
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.testing.emulator import call_api, control, outbound_api, placed
from airflow_provider_videosdk.testing.emulator.callees import CalleeScript
from airflow_provider_videosdk.testing.emulator.faults import Fault
from airflow_provider_videosdk.testing.emulator.handlers import POLL_INTERVAL, Handler, Server
from airflow_provider_videosdk.testing.emulator.state import DEFAULT_TRUNKS, RecordedRequest, Reply, State
from airflow_provider_videosdk.testing.emulator.tls import make_certificate

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from airflow_provider_videosdk.testing.emulator.client import EmulatorClient


class VideoSDKEmulator:
    """
    The emulator; use as a context manager, or ``start()`` / ``stop()``.

    :param answer_after: seconds after which every callee answers; None: nobody answers
        unless listed in ``answers`` (number or SIP URI -> seconds).
    :param trunks: trunk id -> allowed caller numbers.
    :param tls: serve HTTPS with a throwaway self-signed certificate for 127.0.0.1 and localhost,
        which clients trust through :attr:`ca_file`; it is deleted on ``stop()``.
    :param gzip_over: gzip every answer longer than this many bytes when the client offers gzip
        (as a web server in front of an API may); None: never (see also ``Fault(gzip=True)``).
    :param control_token: the token ``/_emulator/*`` requests must carry; default a random one.
        Binding ``host`` to anything but loopback warns: anyone who can reach it can then use it.
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
        gzip_over: int | None = None,
        control_token: str | None = None,
    ) -> None:
        if not control.is_loopback_host(host):
            warnings.warn(
                f"the VideoSDK emulator binds {host!r}, not a loopback address: anyone who can reach it can "
                "place calls and read the tokens it saw with the control token",
                UserWarning,
                stacklevel=2,
            )
        #: What ``/_emulator/*`` requests must carry in ``X-Emulator-Token`` (see :class:`EmulatorClient`).
        self.control_token = control_token or secrets.token_urlsafe(24)
        self.api_key = api_key
        self.api_secret = api_secret
        self.answer_after = answer_after
        self.trunks = dict(trunks or DEFAULT_TRUNKS)
        #: Answers longer than this many bytes are gzipped when the client offers gzip; None: never.
        self.gzip_over = gzip_over
        self.lock = threading.Lock()
        self.state = State(answers=dict(answers or {}))
        self._server = Server((host, port), Handler)
        self._server.emulator = self
        self._server.server_name_host = host
        self._thread: threading.Thread | None = None
        self._tempdir: str | None = None
        #: PEM file of the certificate to trust (``tls=True`` only), e.g. ``requests.get(..., verify=ca_file)``.
        self.ca_file: str | None = None
        if tls:
            self._tempdir = tempfile.mkdtemp(prefix="videosdk-emulator-tls-")
            cert, key = make_certificate(Path(self._tempdir))
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

    def client(self) -> EmulatorClient:
        """An :class:`EmulatorClient` for this emulator, holding its control token."""
        from airflow_provider_videosdk.testing.emulator.client import EmulatorClient

        return EmulatorClient(self.url, self.ca_file, token=self.control_token)

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
        with self.lock:
            self.state.faults.append(fault)

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
        with self.lock:
            self.state.sessions.append(session)
        return outbound_api.session_json(session)

    def set_answer(self, to: str, after: float | None) -> None:
        """Make callee ``to`` answer ``after`` seconds after being called (None: never)."""
        with self.lock:
            if after is None:
                self.state.answers.pop(to, None)
            else:
                self.state.answers[to] = after

    def set_callee(self, to: str, behaviour: str | None, after: float | None = None) -> None:
        """
        Script callee ``to`` for ``POST /v2/sip/call``; ``behaviour`` None forgets the script.

        ``answer``, ``reject`` or ``voicemail`` (answered, as carriers report it) ``after`` seconds
        from the POST; ``never`` (rings until ``ringingTimeout``, then ``not-answered``); ``fail``.
        A callee without a script answers as :meth:`set_answer` / ``answer_after`` say, or never.
        """
        script = None if behaviour is None else CalleeScript(behaviour, after)
        with self.lock:
            if script is None:
                self.state.callees.pop(to, None)
            else:
                self.state.callees[to] = script

    def set_call_api(self, **options: Any) -> None:
        """
        Set the call API's lookup faults (the others keep their value); see :class:`CallApiOptions`.

        ``list_lag`` (seconds before a call is listed), ``upper_case_statuses``, ``unknown_status``
        (reported instead of ``ringing``), ``call_id_key`` (``callId`` in lists), ``page_format``
        (``pageInfo``, ``pagination`` or ``bare``), ``clock_offset`` (seconds VideoSDK's clock is
        ahead of ours, negative if behind: the times it reports and filters by).
        """
        with self.lock:
            self.state.call_api = dataclasses.replace(self.state.call_api, **options)

    def reset(self) -> None:
        """Forget every request, call, room, session, fault, answer, callee script and call-API option."""
        with self.lock:
            self.state = State()

    # -- observation -----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self.lock:
            return list(self.state.requests)

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Calls placed, each the request body plus ``participantId``, ``placedAt`` and ``answerAt``."""
        with self.lock:
            return [dict(c) for c in self.state.calls]

    @property
    def sip_calls(self) -> list[dict[str, Any]]:
        """
        Calls placed through ``POST /v2/sip/call``, oldest first: each the call object as of now
        (true statuses, no lookup faults) plus ``body``, ``placedAt``, ``endedAt`` (hung up at),
        ``script`` and ``voicemail`` (answered by voicemail).
        """
        now = time.time()
        with self.lock:
            return [call_api.emulator_view(c, now) for c in self.state.sip_calls]

    @property
    def placed_calls(self) -> list[dict[str, Any]]:
        """Every call placed, through either API, oldest first, in one shape (see :func:`.placed.placed_calls`)."""
        return placed.placed_calls(self.calls, self.sip_calls, time.time())

    @property
    def call_ends(self) -> list[dict[str, Any]]:
        """Every ``POST /v2/sip/call/end`` received: ``callId``, ``body``, ``at`` and ``statusBefore``."""
        with self.lock:
            return [dict(e) for e in self.state.call_ends]

    @property
    def rooms(self) -> dict[str, dict[str, Any]]:
        """Rooms created so far, by ``roomId``."""
        with self.lock:
            return {k: dict(v) for k, v in self.state.rooms.items()}

    @property
    def tokens(self) -> set[str]:
        """Every token presented to the API, valid or not."""
        with self.lock:
            return set(self.state.tokens)

    @property
    def connections(self) -> int:
        """TCP connections accepted so far."""
        return self.state.connections

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """The requests to exactly ``path`` (and ``method``, if given)."""
        return [r for r in self.requests if r.path == path and (method is None or r.method == method)]

    # -- request handling (called from the server's threads) -------------------------------------

    def take_fault(self, method: str, path: str) -> Fault | None:
        if path.startswith("/_emulator/"):
            return None
        return self.take(lambda fault: fault.matches(method, path))

    def take(self, wanted: Callable[[Fault], bool]) -> Fault | None:
        with self.lock:
            for fault in self.state.faults:
                if wanted(fault):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        self.state.faults.remove(fault)
                    return fault
        return None

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.state.requests.append(request)
            token = request.headers.get("authorization")
            if token:
                self.state.tokens.add(token)

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        if path.startswith("/_emulator/"):
            return control.handle(self, method, path, body)
        if path == call_api.PATH or path.startswith(call_api.PATH + "/"):
            return 200, call_api.handle(self, method, path, query, body)
        route = (method, path)
        if route == ("POST", "/v2/sip/outbound-call"):
            return 200, outbound_api.outbound_call(self, body)
        if route == ("POST", "/v2/rooms"):
            return 200, outbound_api.create_room(self, body)
        if method == "GET" and path.startswith("/v2/rooms/validate/"):
            return 200, outbound_api.validate_room(self, path.rsplit("/", 1)[1])
        if route == ("GET", "/v2/sessions"):
            return 200, outbound_api.sessions(self, query)
        raise Reply(404, {"statusCode": 404, "message": f"Cannot {method} {path}"})
