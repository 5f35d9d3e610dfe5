"""
The sync transport: one ``requests.Session`` whose connections report when a request starts to leave.

Phase tracking: the session's adapter builds urllib3 connections of our own classes. Connecting
(TCP, a proxy's ``CONNECT``, the TLS handshake) happens before anything of the request is
written; the first ``send()`` of request bytes marks the :class:`Progress` of the request in
flight. So a failure is "never sent" only when the transport saw that nothing left.

One deadline: connecting is bounded by the timeout, and every read of the answer, the status line
and headers included, by what is left of it (:class:`_DeadlineReader`), so a server that trickles
its headers cannot hold a request past its deadline.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from airflow_provider_videosdk._http.body import BodyDecoder
from airflow_provider_videosdk._http.environment import ca_bundle, is_loopback
from airflow_provider_videosdk._http.policy import Progress, RawResponse

if TYPE_CHECKING:
    from airflow_provider_videosdk._http.policy import ApiRequest

_PROGRESS: ContextVar[Progress | None] = ContextVar("videosdk_progress", default=None)
_DEADLINE: ContextVar[float | None] = ContextVar("videosdk_deadline", default=None)
_READ_SIZE = 65536
# Every key of an environment proxy (HTTP_PROXY -> "http", ALL_PROXY -> "all"); None: no proxy for it.
_NO_PROXIES: dict[str, Any] = {"http": None, "https": None, "all": None}


class _DeadlineSocket:
    """
    A socket as an answer reads it: each read waits only for what is left of the request's deadline.

    ``http.client`` reads the status line, the headers and the body through ``sock.makefile("rb")``;
    the file made here reads through :class:`_DeadlineReader`, which sets the socket's timeout to the
    time left before each read (a per-read timeout alone lets a trickled answer last forever).
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        """A buffered reader that waits at most until the deadline."""
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _DeadlineReader(io.RawIOBase):
    """The socket's own unbuffered file (which keeps the socket open while it is), read against a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._file = sock.makefile("rb", buffering=0)

    def readable(self) -> bool:
        """Always: it is an answer's file."""
        return True

    def readinto(self, buffer: Any) -> int | None:
        """Read into ``buffer``, waiting at most until the deadline."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer did not arrive in full before the deadline")
        self._sock.settimeout(left)
        return self._file.readinto(buffer)

    def close(self) -> None:
        """Close the file, and with it the socket's last reference when the connection closed it."""
        if not self.closed:
            self._file.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """``http.client``'s response, reading through a :class:`_DeadlineSocket` when a deadline is set."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        deadline = _DEADLINE.get()
        if deadline is not None and isinstance(sock, socket.socket):  # not a TLS-in-TLS proxy tunnel
            sock = _DeadlineSocket(sock, deadline)
        super().__init__(sock, *args, **kwargs)


class _PhaseTracking:
    """Mixin for urllib3 connections: marks the request in flight at its first byte, not while connecting."""

    _connecting = False
    sock: Any

    def connect(self) -> None:
        self._connecting = True  # a proxy CONNECT is sent from here: that is not our request
        try:
            super().connect()  # type: ignore[misc]
        finally:
            self._connecting = False

    def send(self, data: Any) -> None:
        if not self._connecting:
            if self.sock is None:
                self.connect()  # what http.client would do inside send(), but before the mark
            progress = _PROGRESS.get()
            if progress is not None:
                progress.mark_sent()  # may raise (the caller's record failed): then nothing is sent
        super().send(data)  # type: ignore[misc]


class _HTTPConnection(_PhaseTracking, HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(_PhaseTracking, HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _TrackingAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose pools, direct or through an HTTP(S) proxy, use the tracking connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


class TokenAuth(requests.auth.AuthBase):
    """Sends the token as the raw ``Authorization`` value; as ``auth``, it also keeps ``~/.netrc`` out."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._token
        return request

    def __repr__(self) -> str:
        return "TokenAuth(<masked>)"


class SyncTransport:
    """
    Sends one request at a time over a kept-alive ``requests.Session``; proxies (but for loopback
    hosts) and the CA bundle come from the environment (:mod:`.environment`).
    """

    def __init__(self, headers: dict[str, str]) -> None:
        self.session = requests.Session()
        self.session.headers.update(headers)
        adapter = _TrackingAdapter()
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def send(self, request: ApiRequest, url: str, token: str, timeout: float, progress: Progress) -> RawResponse:
        """
        Send ``request`` and read its whole answer within ``timeout`` seconds of wall-clock time.

        Raises whatever the network raised; ``progress`` says whether the request had started to leave.
        """
        deadline = time.monotonic() + timeout
        reset = _PROGRESS.set(progress)
        reset_deadline = _DEADLINE.set(deadline)
        try:
            response = self.session.request(
                request.method,
                url,
                json=request.json,
                params=request.params,
                auth=TokenAuth(token),
                proxies=dict(_NO_PROXIES) if is_loopback(url) else None,
                verify=ca_bundle() or True,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        finally:
            _PROGRESS.reset(reset)
            _DEADLINE.reset(reset_deadline)
        try:
            body = _read_body(response, deadline)
        except BaseException:
            response.close()
            raise
        response.raw.release_conn()
        return RawResponse(response.status_code, {k.lower(): v for k, v in response.headers.items()}, body)

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()


def _read_body(response: requests.Response, deadline: float) -> bytes:
    """
    Read the raw body chunk by chunk (each socket read is bounded by the deadline: see
    :class:`_DeadlineReader`) and decode it as it comes (:class:`BodyDecoder`).
    """
    raw = response.raw
    decoder = BodyDecoder(response.headers.get("content-encoding"))
    while True:
        if deadline - time.monotonic() <= 0:
            raise TimeoutError("the answer did not arrive in full before the deadline")
        chunk = raw.read1(_READ_SIZE, decode_content=False)
        if not chunk:
            return decoder.body()
        decoder.feed(chunk)
