"""Injected faults: :class:`Fault`, and the broken TLS handshakes of ``Fault(tls=...)``."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import socket

REDIRECT_STATUSES = {301, 302, 303, 307, 308}
TLS_FAULTS = ("fail_handshake", "stall_handshake", "corrupt_after_request")
MAX_FAULT_SECONDS = 60.0  # no stalled handshake or trickled body lasts longer
HANDSHAKE_TIMEOUT = 10.0
# A fatal TLS alert record (handshake_failure), sent in answer to a ClientHello by ``tls="fail_handshake"``.
HANDSHAKE_FAILURE_ALERT = bytes([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28])
# Written beneath the TLS layer by ``tls="corrupt_after_request"``: not a valid TLS record.
NOT_A_TLS_RECORD = b"HTTP/1.1 200 OK\r\n\r\nthis is not a TLS record"


@dataclass
class Fault:
    """
    How to fail the next ``times`` requests that match ``path`` and ``method``.

    ``path`` is a prefix (``/v2/sip/call`` also hits ``/v2/sip/call/end`` and ``/v2/sip/call/{id}``)
    unless ``exact`` is set. A fault with ``tls`` set applies to the next ``times`` *connections*
    instead (taken when the connection is accepted, whatever it then asks for), and needs
    ``VideoSDKEmulator(tls=True)``.
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
    trickle_head: float | None = None  # send the status line and headers too (then the body) one byte at a time
    redirect: str | None = None  # answer with this Location and ``status`` (default 302)
    tls: Literal["fail_handshake", "stall_handshake", "corrupt_after_request"] | None = None
    exact: bool = False  # ``path`` must equal the request's path, not merely start it
    gzip: bool = False  # gzip the answer even if the client did not offer gzip (as a misbehaving server might)
    skip: int = 0  # let this many matching requests through untouched first (e.g. fail only the 2nd call)

    def __post_init__(self) -> None:
        if self.tls is not None and self.tls not in TLS_FAULTS:
            raise ValueError(f"tls must be one of {', '.join(TLS_FAULTS)}, got {self.tls!r}")
        if self.redirect is not None and self.status is not None and self.status not in REDIRECT_STATUSES:
            raise ValueError(f"a redirect needs a status in {sorted(REDIRECT_STATUSES)}, got {self.status}")
        if self.truncate is not None and self.truncate < 0:
            raise ValueError(f"truncate must be >= 0, got {self.truncate}")
        for name in ("trickle", "trickle_head"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0 seconds, got {value}")
        if self.skip < 0:
            raise ValueError(f"skip must be >= 0, got {self.skip}")
        if self.exact and self.path is None:
            raise ValueError("exact needs a path")

    def matches(self, method: str, path: str) -> bool:
        """True when this (non-TLS) fault applies to a request of ``method`` to ``path``."""
        return (
            self.tls is None
            and (self.method is None or self.method == method)
            and (self.path is None or (path == self.path if self.exact else path.startswith(self.path)))
        )


def break_handshake(sock: socket.socket, *, fail: bool) -> None:
    """Answer a ClientHello with a fatal alert (``fail``), or read and never answer until the client gives up."""
    deadline = time.monotonic() + (HANDSHAKE_TIMEOUT if fail else MAX_FAULT_SECONDS)
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        if not sock.recv(65536):
            return  # the client gave up
        if fail:
            sock.sendall(HANDSHAKE_FAILURE_ALERT)
            return
