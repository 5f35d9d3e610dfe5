"""What the emulator remembers (requests, calls, rooms, sessions, faults, callees) and the helpers its routes share."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.testing.emulator.callees import CallApiOptions, CalleeScript, SipCall

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing.emulator.faults import Fault

DEFAULT_TRUNKS = {"trunk_demo": ["+15550100001", "+15550100002"]}
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SIP = re.compile(r"sips?:[^@\s]+@[^@\s]+", re.IGNORECASE)


@dataclass
class RecordedRequest:
    """One request the emulator received, as it arrived, and the status it answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int | None = None  # None when the connection was dropped
    at: float = field(default_factory=time.time)  # when it arrived (Unix time)


@dataclass
class State:
    """Everything ``reset()`` forgets."""

    requests: list[RecordedRequest] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # seeded with add_session
    answers: dict[str, float] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    connections: int = 0
    sip_calls: list[SipCall] = field(default_factory=list)  # placed through POST /v2/sip/call
    call_ends: list[dict[str, Any]] = field(default_factory=list)  # POST /v2/sip/call/end requests
    callees: dict[str, CalleeScript] = field(default_factory=dict)
    call_api: CallApiOptions = field(default_factory=CallApiOptions)


class Reply(Exception):
    """Raised by a route to answer at once with ``status`` and JSON ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body


def bad_request(message: str) -> Reply:
    """A 400 answer in VideoSDK's error shape."""
    return Reply(400, {"statusCode": 400, "message": message})


def now_iso(ts: float | None = None) -> str:
    """Epoch seconds (default now) as an ISO-8601 UTC string."""
    return datetime.fromtimestamp(ts if ts is not None else time.time(), tz=timezone.utc).isoformat()


def session_id(room_id: str) -> str:
    """The id of the ongoing session that callees who answered join in ``room_id``."""
    return f"session-{room_id}"


def positive_int(query: dict[str, list[str]], name: str, default: int) -> int:
    """The query parameter ``name`` as a positive integer, or ``default`` when absent."""
    value = (query.get(name) or [str(default)])[0]
    if not value.isdigit() or int(value) < 1:
        raise bad_request(f"{name} must be a positive integer")
    return int(value)
