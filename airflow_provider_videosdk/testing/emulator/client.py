""":class:`EmulatorClient`: steers an emulator in another process through ``/_emulator/*``."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import threading
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError
from urllib.parse import urlsplit

from airflow_provider_videosdk.testing.emulator.control import TOKEN_ENV, TOKEN_HEADER

if TYPE_CHECKING:
    from collections.abc import Iterable

_STALE_CONNECTION = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class EmulatorClient:
    """
    Steers an emulator running in another process, through its ``/_emulator/*`` endpoints.

    It keeps one connection open, so that its calls after the first do not take a queued
    ``tls`` fault (those hit the next *connection*). A failed call raises ``HTTPError``.

    :param ca_file: the emulator's certificate, for an ``https://`` emulator (``--tls``).
    :param token: the emulator's control token (printed when it starts; ``emulator.control_token``
        in process); default the ``VIDEOSDK_EMULATOR_CONTROL_TOKEN`` environment variable.
    """

    def __init__(self, url: str, ca_file: str | None = None, *, token: str | None = None) -> None:
        token = token or os.environ.get(TOKEN_ENV)
        if not token:
            raise ValueError(
                f"EmulatorClient needs the emulator's control token: pass token= (printed when the emulator "
                f"starts) or set {TOKEN_ENV}"
            )
        self._headers = {"Content-Type": "application/json", TOKEN_HEADER: token}
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
            self._conn.request(method, self._prefix + path, data, self._headers)
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

    def sip_calls(self) -> list[dict[str, Any]]:
        """See :attr:`VideoSDKEmulator.sip_calls`."""
        return self._call("GET", "/_emulator/sip-calls")

    def placed_calls(self) -> list[dict[str, Any]]:
        """See :attr:`VideoSDKEmulator.placed_calls`: every call placed, through either API."""
        return self._call("GET", "/_emulator/placed-calls")

    def call_ends(self) -> list[dict[str, Any]]:
        """See :attr:`VideoSDKEmulator.call_ends`."""
        return self._call("GET", "/_emulator/call-ends")

    def set_callee(self, to: str, behaviour: str | None, after: float | None = None) -> None:
        """See :meth:`VideoSDKEmulator.set_callee`."""
        self._call("POST", "/_emulator/callees", {"to": to, "behaviour": behaviour, "after": after})

    def set_call_api(self, **options: Any) -> None:
        """See :meth:`VideoSDKEmulator.set_call_api`."""
        self._call("POST", "/_emulator/call-api", options)

    def reset(self) -> None:
        """See :meth:`VideoSDKEmulator.reset`."""
        self._call("POST", "/_emulator/reset", {})
