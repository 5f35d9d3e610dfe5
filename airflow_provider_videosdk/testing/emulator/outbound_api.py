"""The outbound-call API's routes: ``POST /v2/sip/outbound-call``, rooms, and ``GET /v2/sessions``."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.testing.emulator.state import (
    E164,
    SIP,
    Reply,
    bad_request,
    now_iso,
    positive_int,
    session_id,
)

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing.emulator.host import Emulator

CALL_FIELDS = {"to", "from", "displayName", "meetingId", "trunkId", "participantId"}


def session_json(session: dict[str, Any]) -> dict[str, Any]:
    """A session as ``GET /v2/sessions`` lists it; ``session`` holds epoch seconds."""
    return {
        "id": session["id"],
        "roomId": session["roomId"],
        "start": now_iso(session["start"]),
        "end": None if session["end"] is None else now_iso(session["end"]),
        "status": "ongoing" if session["end"] is None else "completed",
        "participants": [
            {
                "participantId": participant_id,
                "name": name,
                "timelog": [{"start": now_iso(joined), "end": None if left is None else now_iso(left)}],
            }
            for participant_id, name, joined, left in session["participants"]
        ],
    }


def outbound_call(emu: Emulator, body: Any) -> dict[str, Any]:
    """``POST /v2/sip/outbound-call``: validate, record the call, answer with its participant ID."""
    if not isinstance(body, dict):
        raise bad_request("Body must be a JSON object")
    unknown = set(body) - CALL_FIELDS
    if unknown:
        raise bad_request(f"Unknown body fields: {sorted(unknown)}")
    for name in ("to", "displayName", "meetingId", "trunkId"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise bad_request(f"{name} is required")
    for name in ("from", "participantId"):
        if name in body and (not isinstance(body[name], str) or not body[name]):
            raise bad_request(f"{name} must be a non-empty string when given")
    if not (E164.fullmatch(body["to"]) or SIP.fullmatch(body["to"])):
        raise bad_request("to must be a phone number in E.164 form or a SIP URI")
    numbers = emu.trunks.get(body["trunkId"])
    if numbers is None:
        raise Reply(404, {"statusCode": 404, "message": f"SIP trunk {body['trunkId']} not found"})
    if "from" in body and body["from"] not in numbers:
        raise bad_request("from must be one of the trunk's numbers")
    now = time.time()
    with emu.lock:
        after = emu.state.answers.get(body["to"], emu.answer_after)
        call = {
            **body,
            "from": body.get("from", numbers[0]),
            "participantId": body.get("participantId") or secrets.token_hex(4),
            "placedAt": now,
            "answerAt": None if after is None else now + after,
        }
        emu.state.calls.append(call)
    return {"statusCode": 200, "message": "Success", "participantId": call["participantId"]}


def create_room(emu: Emulator, body: Any) -> dict[str, Any]:
    """``POST /v2/rooms``, idempotent on ``customRoomId``."""
    body = body if isinstance(body, dict) else {}
    custom = body.get("customRoomId")
    with emu.lock:
        for room in emu.state.rooms.values():
            if custom and room["customRoomId"] == custom:
                return room
        room_id = "-".join(secrets.token_hex(2) for _ in range(3))
        room = {
            "roomId": room_id,
            "customRoomId": custom,
            "disabled": False,
            "createdAt": now_iso(),
            "id": secrets.token_hex(12),
        }
        emu.state.rooms[room_id] = room
        return room


def validate_room(emu: Emulator, room_id: str) -> dict[str, Any]:
    """``GET /v2/rooms/validate/{roomId}``."""
    room = emu.state.rooms.get(room_id)
    if room is None:
        raise Reply(404, {"statusCode": 404, "message": "Room not found"})
    return room


def sessions(emu: Emulator, query: dict[str, list[str]]) -> dict[str, Any]:
    """Seeded sessions plus, per meeting, one ongoing session of who answered a call (either API); newest first."""
    room_id = query["roomId"][0] if query.get("roomId") else None
    page = positive_int(query, "page", 1)
    per_page = positive_int(query, "perPage", 20)
    now = time.time()
    with emu.lock:
        joins: list[tuple[str, str, str, float, float | None]] = [
            (c["meetingId"], c["participantId"], c["displayName"], c["answerAt"], None)
            for c in emu.state.calls
            if c["answerAt"] is not None and c["answerAt"] <= now
        ]
        joins += [join for call in emu.state.sip_calls if (join := call.join(now)) is not None]
        found = [s for s in emu.state.sessions if room_id is None or s["roomId"] == room_id]
    by_room: dict[str, list[tuple[str, str, float, float | None]]] = {}
    for room, pid, name, joined, left in joins:
        if room_id is None or room == room_id:
            by_room.setdefault(room, []).append((pid, name, joined, left))
    for room, participants in by_room.items():
        start = min(joined for _, _, joined, _ in participants)
        session = {"id": session_id(room), "roomId": room, "start": start, "end": None, "participants": participants}
        found.append(session)
    found.sort(key=lambda s: s["start"], reverse=True)
    last_page = max(1, -(-len(found) // per_page))
    data = [session_json(s) for s in found[(page - 1) * per_page : page * per_page]]
    return {
        "pageInfo": {"currentPage": page, "perPage": per_page, "lastPage": last_page, "total": len(found)},
        "data": data,
    }
