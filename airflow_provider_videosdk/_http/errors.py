"""
Reading failures and answers for the request policy (:mod:`._http.policy`): which exception caused
which, whether a TLS handshake met plain HTTP, ``Retry-After``, an API error's message, and the
texts that point the user at the cause. Pure functions, shared by both transports.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from datetime import timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.exceptions import VideoSDKError

if TYPE_CHECKING:
    from collections.abc import Callable

REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "request-id", "x-correlation-id")
AUTH_HINT = "; check the connection's API key and secret (or token) and the token's permissions"
PROXY_HINT = (
    "; the answer came from a proxy or through one: check HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY "
    "(and the proxy's own rules) before the connection's API key"
)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds to wait (delta-seconds or an HTTP date, never negative); None if absent or odd."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+", value, re.ASCII):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now())


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes, outermost first (urllib3's ``reason``, ``__cause__``/``__context__``, a last arg)."""
    chain = [exc]
    for _ in range(8):
        seen = chain[-1]
        reason = getattr(seen, "reason", None)
        inner = reason if isinstance(reason, BaseException) else seen.__cause__ or seen.__context__
        if inner is None and seen.args and isinstance(seen.args[-1], BaseException):
            inner = seen.args[-1]
        if inner is None or inner in chain:
            break
        chain.append(inner)
    return chain


def describe(exc: BaseException) -> str:
    """The innermost cause's class name, e.g. ``ConnectionRefusedError``; never the message (it may hold a URL)."""
    return type(_causes(exc)[-1]).__name__


# What OpenSSL says when the server's first bytes are not a TLS record (e.g. "HTTP/1.0 400"):
# WRONG_VERSION_NUMBER (OpenSSL 1.1-3.1), RECORD_LAYER_FAILURE and PACKET_LENGTH_TOO_LONG (3.2+), HTTP_REQUEST.
_PLAIN_HTTP_REASONS = ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST")


def plain_http_answered(exc: BaseException) -> bool:
    """True when ``exc`` (or a cause of it) is a TLS handshake that a plain-HTTP server answered."""
    for seen in _causes(exc):
        if isinstance(seen, OSError) and type(seen).__name__.startswith("SSL"):
            text = f"{getattr(seen, 'reason', '')} {seen}".upper().replace(" ", "_")
            if any(reason in text for reason in _PLAIN_HTTP_REASONS):
                return True
    return False


def json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def api_message(data: Any, body: bytes) -> str:
    if isinstance(data, dict):
        for key in ("message", "error", "msg", "statusMessage"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value:
                return value
    return body[:4096].decode("utf-8", "replace").strip() or "(empty body)"


def rid(request_id: str | None) -> str:
    return f" (request id {request_id})" if request_id else ""


def shape_error(where: str, what: str) -> VideoSDKError:
    """An answer of an unexpected shape, naming the endpoint and what was wrong."""
    return VideoSDKError(f"{where}: VideoSDK's answer has an unexpected shape: {what}")
