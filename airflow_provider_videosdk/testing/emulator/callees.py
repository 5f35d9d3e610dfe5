"""
The newer call API's model: scripted callees, and calls whose status moves with time.

A call's status is computed on read from its script (no background thread): ``initiated`` at
once, ``ringing`` :data:`RING_AFTER` s later, then the script's outcome, or ``not-answered`` at
``ringingTimeout``. An answered call ends after ``maxCallDuration``, if given, or when hung up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# "pickup_on_hangup" rings like "never", and picks up just as a hang-up arrives: the end meets an answer.
BEHAVIOURS = ("answer", "reject", "never", "fail", "voicemail", "pickup_on_hangup")
OUTCOMES = {"answer": "answered", "voicemail": "answered", "reject": "rejected"}  # carriers answer for voicemail
FINAL = frozenset({"rejected", "not-answered", "failed", "ended"})
PAGE_FORMATS = ("pageInfo", "pagination", "bare")
RING_AFTER = 0.3  # seconds from initiated to ringing
FAIL_AFTER = 0.1  # seconds from initiated to failed
DEFAULT_RINGING_TIMEOUT = 30.0


@dataclass(frozen=True)
class CalleeScript:
    """
    What a callee does when called: ``answer``/``reject``/``voicemail`` ``after`` seconds, ``never``,
    ``fail``, or ``pickup_on_hangup`` (rings, and picks up at the instant a hang-up arrives).
    """

    behaviour: str
    after: float | None = None

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {', '.join(BEHAVIOURS)}, got {self.behaviour!r}")
        if (self.behaviour in OUTCOMES) != (self.after is not None):
            raise ValueError(f"{self.behaviour} needs after=SECONDS" if self.after is None else "after is not used")
        if self.after is not None and self.after < 0:
            raise ValueError(f"after must be >= 0 seconds, got {self.after}")

    @classmethod
    def parse(cls, text: str) -> CalleeScript:
        """Read the CLI's form: ``answer:2``, ``reject:3``, ``voicemail:5``, ``never``, ``fail``."""
        behaviour, _, after = text.partition(":")
        return cls(behaviour, float(after) if after else None)


@dataclass
class CallApiOptions:
    """Lookup faults of the call API (``set_call_api``); the defaults are VideoSDK's documented behaviour."""

    list_lag: float = 0.0  # a call appears in GET /v2/sip/call lists only this many seconds after its POST
    upper_case_statuses: bool = False  # statuses on the wire in upper case, e.g. RINGING
    unknown_status: str | None = None  # reported instead of ringing, e.g. "queued"
    call_id_key: str = "id"  # the key of a call's id in lists, e.g. "callId"
    page_format: str = "pageInfo"  # or "pagination", or "bare" (a JSON list)
    ignore_room_filter: bool = False  # lists ignore roomId, returning every room's calls
    clock_offset: float = 0.0  # VideoSDK's clock is this many seconds ahead of ours (negative: behind)

    def __post_init__(self) -> None:
        lag = self.list_lag
        if isinstance(lag, bool) or not isinstance(lag, (int, float)) or lag < 0:
            raise ValueError(f"list_lag must be a number of seconds >= 0, got {lag!r}")
        if isinstance(self.clock_offset, bool) or not isinstance(self.clock_offset, (int, float)):
            raise ValueError(f"clock_offset must be a number of seconds, got {self.clock_offset!r}")
        for flag in ("upper_case_statuses", "ignore_room_filter"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be true or false, got {getattr(self, flag)!r}")
        for name in ("unknown_status", "call_id_key"):
            value = getattr(self, name)
            if (value is not None or name == "call_id_key") and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        if self.page_format not in PAGE_FORMATS:
            raise ValueError(f"page_format must be one of {', '.join(PAGE_FORMATS)}, got {self.page_format!r}")


@dataclass
class SipCall:
    """A call placed through ``POST /v2/sip/call``, as the emulator keeps it (times in epoch seconds)."""

    id: str
    body: dict[str, Any]
    placed_at: float
    room_id: str
    to: str
    from_: str
    gateway_id: str
    rule_id: str | None
    participant: dict[str, Any]
    metadata: dict[str, Any]
    script: CalleeScript
    ringing_timeout: float = DEFAULT_RINGING_TIMEOUT
    max_duration: float | None = None
    ended_at: float | None = None  # when an end request hung up a call that was not final yet
    picked_up_at: float | None = None  # when a pickup_on_hangup callee answered (as the hang-up arrived)

    def plan(self) -> list[tuple[str, float]]:
        """Every status the script leads to, with when, as if nobody hung up."""
        t0 = self.placed_at
        if self.script.behaviour == "fail":
            return [("initiated", t0), ("failed", t0 + FAIL_AFTER)]
        outcome, after = OUTCOMES.get(self.script.behaviour), self.script.after
        if outcome is None or after is None or after >= self.ringing_timeout:
            outcome, after = "not-answered", self.ringing_timeout
        events = [("initiated", t0), ("ringing", t0 + min(RING_AFTER, after)), (outcome, t0 + after)]
        if outcome == "answered" and self.max_duration is not None:
            events.append(("ended", t0 + after + self.max_duration))
        return events

    def timeline(self, now: float) -> list[tuple[str, float]]:
        """The statuses reached by ``now``, in order."""
        until = now if self.ended_at is None else self.ended_at
        if self.picked_up_at is not None:
            until = min(until, self.picked_up_at)
        reached = [(status, at) for status, at in self.plan() if at <= until]
        if self.picked_up_at is not None:
            reached.append(("answered", self.picked_up_at))
        return reached if self.ended_at is None else [*reached, ("ended", self.ended_at)]

    def status(self, now: float) -> str:
        """The status at ``now``."""
        return self.timeline(now)[-1][0]

    def join(self, now: float) -> tuple[str, str, str, float, float | None] | None:
        """(room, participant ID, name, joined, left) once answered, as ``GET /v2/sessions`` shows it."""
        times = dict(self.timeline(now))
        if "answered" not in times:
            return None
        return self.room_id, self.participant["id"], self.participant["name"], times["answered"], times.get("ended")
