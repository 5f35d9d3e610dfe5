"""One view of the calls an emulator placed, through either API: what a test or a person asks first."""

from __future__ import annotations

from typing import Any

#: The keys of each placed call, in the order the CLI prints them.
PLACED_KEYS = ("api", "to", "meetingId", "participantId", "displayName", "status", "callId", "placedAt")


def placed_calls(outbound: list[dict[str, Any]], sip: list[dict[str, Any]], now: float) -> list[dict[str, Any]]:
    """
    The calls of ``POST /v2/sip/outbound-call`` (``outbound``: ``emulator.calls``) and of
    ``POST /v2/sip/call`` (``sip``: ``emulator.sip_calls``) as one list, oldest first, each with
    :data:`PLACED_KEYS`: ``api`` is ``"outbound-call"`` or ``"call"``; ``status`` is the call
    API's status, or for the outbound-call API (which reports none) ``"answered"`` once the callee
    answered, else ``"placed"``; ``callId`` is None for the outbound-call API.
    """
    rows = [
        {
            "api": "outbound-call",
            "to": c["to"],
            "meetingId": c["meetingId"],
            "participantId": c["participantId"],
            "displayName": c.get("displayName"),
            "status": "answered" if c["answerAt"] is not None and c["answerAt"] <= now else "placed",
            "callId": None,
            "placedAt": c["placedAt"],
        }
        for c in outbound
    ]
    rows += [
        {
            "api": "call",
            "to": c["to"],
            "meetingId": c["roomId"],
            "participantId": (c.get("participant") or {}).get("id"),
            "displayName": (c.get("participant") or {}).get("name"),
            "status": c["status"],
            "callId": c["id"],
            "placedAt": c["placedAt"],
        }
        for c in sip
    ]
    return sorted(rows, key=lambda row: row["placedAt"])


def format_table(rows: list[dict[str, Any]]) -> str:
    """``rows`` (:func:`placed_calls`) as a plain-text table, one call a line; a line saying so when there is none."""
    if not rows:
        return "no calls placed"
    shown = [[("" if row[k] is None else str(row[k])) for k in PLACED_KEYS[:-1]] for row in rows]
    widths = [max(len(k), *(len(r[i]) for r in shown)) for i, k in enumerate(PLACED_KEYS[:-1])]
    lines = [PLACED_KEYS[:-1], *shown]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines)
