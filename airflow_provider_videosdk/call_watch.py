"""
What one look at a call (``GET /v2/sip/call/{id}``) means to the status sensor and its trigger, free of I/O.

Both read a call's status through :func:`judge`, so the worker's pokes and the triggerer's polls
decide alike. The meaning of each status is :data:`airflow_provider_videosdk.calls.STATUSES`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_videosdk._http.call_api import call_created_at, parse_when, participant_id_of
from airflow_provider_videosdk.calls import STATUSES, call_id_of, outcome_of, status_of

#: Outcomes after which the sensor stops looking.
FINAL_OUTCOMES = ("answered", "unanswered", "stale")


@dataclass(frozen=True)
class CallLook:
    """
    One look at a call: its ``outcome`` and lower-case ``status``, and a sentence saying so.

    ``outcome`` is ``answered``; ``unanswered`` (final, nobody answered); ``stale`` (the call was
    created before the DAG run started, so it never counts); ``pending`` (not final yet); or
    ``unknown`` (a status this provider does not know: not final, to be logged once).
    """

    outcome: str
    status: str
    message: str

    @property
    def final(self) -> bool:
        """True when the sensor is done looking (answered, final without an answer, or stale)."""
        return self.outcome in FINAL_OUTCOMES


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, tz=timezone.utc).isoformat(timespec="seconds")


def judge(call: dict[str, Any], call_id: str, *, created_after: float | None, skew: float) -> CallLook:
    """
    What ``call`` (a call object) means for call ``call_id``.

    A call created more than ``skew`` seconds (VideoSDK's clock may lag ours) before
    ``created_after`` (the DAG run's start, Unix time) is ``stale`` whatever its status; a call
    that tells no creation time is judged by its status alone.
    """
    status = status_of(call)
    created = call_created_at(call)
    if created_after is not None and created is not None and created < created_after - skew:
        return CallLook(
            "stale",
            status,
            f"Call {call_id} was created at {_iso(created)}, before this DAG run started ({_iso(created_after)}): "
            "a call from an earlier run never counts (pass this run's call id, e.g. the call task's output)",
        )
    outcome = outcome_of(call)
    if outcome == "answered":
        return CallLook(outcome, status, f"Call {call_id} was answered (status '{status}')")
    if outcome == "unanswered":
        meaning = STATUSES[status][1]
        if STATUSES[status][0] == "ended":
            meaning = "it ended with no 'answered' in its timelog"
        return CallLook(outcome, status, f"Call {call_id} was not answered: its status is '{status}' ({meaning})")
    if outcome == "unknown":
        return CallLook(
            outcome,
            status,
            f"Call {call_id} has status '{status}', which this provider does not know: treated as not final",
        )
    return CallLook(outcome, status, f"Call {call_id} is '{status}': not answered yet")


#: The keys of a call object that say nothing about the person called, and what :func:`judge` reads.
_IMPERSONAL_KEYS = ("id", "status", "createdAt", "start", "sessionId")
_TIMELOG_KEYS = ("status", "timestamp", "time")


def impersonal(call: dict[str, Any]) -> dict[str, Any]:
    """
    ``call`` without personal data: no ``to``, ``from``, participant name or metadata; what
    :func:`judge` needs (id, status, timelog, creation time, session, participant id) stays.
    The status trigger's event carries this, as it is stored in the metadata DB.
    """
    kept = {key: call[key] for key in _IMPERSONAL_KEYS if key in call}
    timelog = call.get("timelog")
    if isinstance(timelog, list):
        kept["timelog"] = [
            {key: entry[key] for key in _TIMELOG_KEYS if key in entry} for entry in timelog if isinstance(entry, dict)
        ]
    participant_id = participant_id_of(call)
    if participant_id is not None:
        kept["participant"] = {"id": participant_id}
    return kept


def call_summary(call: dict[str, Any]) -> dict[str, Any]:
    """
    What the status sensor returns (XCom): ``call_id``, ``status``, ``participant_id``, ``session_id``
    and ``answered_at`` (ISO-8601 UTC, from the timelog; None when it tells no time). No personal data.
    """
    answered_at = None
    timelog = call.get("timelog")
    for entry in timelog if isinstance(timelog, list) else []:
        if isinstance(entry, dict) and str(entry.get("status", "")).strip().lower() == "answered":
            when = parse_when(entry.get("timestamp", entry.get("time")))
            answered_at = None if when is None else _iso(when)
            break
    session_id = call.get("sessionId")
    return {
        "call_id": call_id_of(call),
        "status": status_of(call),
        "participant_id": participant_id_of(call),
        "session_id": session_id if isinstance(session_id, str) and session_id else None,
        "answered_at": answered_at,
    }


def judge_hang_up(ended: dict[str, Any] | None, call_id: str) -> CallLook:
    """
    What a hang-up met: ``ended`` is what ``POST /v2/sip/call/end`` answered, or the call read after
    it (None when neither could be had). A call whose status or timelog shows ``answered`` was
    answered as it was hung up: it counts as answered (``outcome`` ``answered``).
    """
    if ended is None:
        return CallLook("unknown", "", f"Call {call_id}: what the hang-up met could not be read")
    status = status_of(ended)
    if outcome_of(ended) == "answered":
        return CallLook("answered", status, f"Call {call_id} was answered as it was hung up (status '{status}')")
    return CallLook("unanswered", status, f"Call {call_id} was hung up unanswered (status '{status}')")
