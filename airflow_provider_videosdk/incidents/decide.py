"""
What the escalation DAG decides, free of I/O: task ids, the first answer of a level, and the summary.

The operators (``incidents.operators``) fetch the calls and the acknowledgements; what they mean is
decided here, so that it is tested in the fast tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.calls import outcome_of, status_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Step

OPEN_TASK = "open_incident"
SUMMARY_TASK = "summary"
ANSWERED_TASK = "answered"
ACK_TASK = "acknowledge"
GATE_TASK = "escalate"
ACK_OPTION = "Acknowledge"


def call_task_id(step: Step, index: int) -> str:
    """The task that phones callee ``index`` (0-based) of ``step``."""
    return f"{step.group_id}.call_{index + 1}"


def wait_task_id(step: Step, index: int) -> str:
    """The sensor that waits for that call."""
    return f"{step.group_id}.wait_{index + 1}"


def ack_task_id(policy: EscalationPolicy, step: Step) -> str:
    """The task whose result is the step's acknowledgement: the first answer, or the human's response."""
    return f"{step.group_id}.{ACK_TASK if policy.ack == 'human' else ANSWERED_TASK}"


def answered_at(call: dict[str, Any]) -> float | None:
    """When the call was answered (its timelog's ``answered`` entry), as Unix time; None if not answered."""
    from airflow_provider_videosdk._http.call_api import parse_when

    if outcome_of(call) != "answered":
        return None
    for entry in call.get("timelog") or []:
        if isinstance(entry, dict) and str(entry.get("status", "")).lower() == "answered":
            return parse_when(entry.get("timestamp", entry.get("time")))
    return None


def first_answer(calls: Sequence[dict[str, Any] | None]) -> tuple[int | None, list[int]]:
    """
    Of a level's calls (None: never placed), the index of the one answered first, and the indexes of
    the calls to hang up: every other one not final yet. No answer: ``(None, [])``, nothing is hung up.
    """
    answered = [(answered_at(c) or float("inf"), i) for i, c in enumerate(calls) if c and outcome_of(c) == "answered"]
    if not answered:
        return None, []
    winner = min(answered)[1]
    ringing = [i for i, c in enumerate(calls) if c and i != winner and outcome_of(c) in ("pending", "unknown")]
    return winner, ringing


@dataclass(frozen=True)
class CallRow:
    """One call of the escalation, as the summary shows it."""

    group_id: str
    callee: str  # as it may be logged (masked unless the connection says otherwise)
    call_id: str | None
    placed_at: float | None
    status: str  # the call's final status, or why there is none (e.g. "not phoned")


def acknowledger(ack: str, step: Step, result: Any, callee_for_log: Sequence[str]) -> str | None:
    """Who acknowledged at ``step`` (policy's ``ack`` mode) from its ack task's result (None: nobody did there)."""
    if result is None:
        return None
    if ack == "human":
        user = result.get("responded_by_user") if isinstance(result, dict) else None
        name = (user or {}).get("name") or (user or {}).get("id") or "someone"
        return f"{name} (Acknowledge pressed, at {step.group_id})"
    index = result.get("callee") if isinstance(result, dict) else None
    who = callee_for_log[index] if isinstance(index, int) and 0 <= index < len(callee_for_log) else "a callee"
    return f"{who} (answered at {step.group_id})"


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%H:%M:%S") if at is not None else "-"


def summary_text(key: str, rows: Sequence[CallRow], acknowledged_by: str | None) -> str:
    """The run's outcome at a glance: who was phoned when, each call's final status, who acknowledged."""
    lines = [f"Incident {key}: " + (f"acknowledged by {acknowledged_by}" if acknowledged_by else "nobody acknowledged")]
    placed = [r for r in rows if r.call_id]
    lines.append(f"{len(placed)} call(s) placed:")
    lines += [f"  {_when(r.placed_at)} UTC  {r.group_id:<24} {r.callee:<28} {r.status:<14} {r.call_id}" for r in placed]
    skipped = sorted({r.group_id for r in rows if not r.call_id})
    if skipped:
        lines.append(f"not phoned: {', '.join(skipped)}")
    return "\n".join(lines)


def final_status(call: dict[str, Any] | None) -> str:
    """A call's status for the summary (``answered`` when its timelog shows it, whatever came after)."""
    if call is None:
        return "unknown"
    return "answered" if outcome_of(call) == "answered" else status_of(call) or "unknown"
