"""
The newer call API's routes: ``POST /v2/sip/call``, ``GET /v2/sip/call[/{id}]``, ``POST /v2/sip/call/end``.

Gateways are the emulator's trunks (``trunk_demo`` serves both APIs); a ``routingRuleId`` routes
through the first one. ``waitUntilAnswered`` is accepted but the POST answers at once. Ending a
call that is already final answers 200 with the call unchanged.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.testing.emulator.callees import (
    DEFAULT_RINGING_TIMEOUT,
    FINAL,
    CallApiOptions,
    CalleeScript,
    SipCall,
)
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
    from collections.abc import Callable

    from airflow_provider_videosdk.testing.emulator.host import Emulator

PATH = "/v2/sip/call"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _participant(value: Any) -> bool:
    return isinstance(value, dict) and all(_text(value[k]) for k in ("id", "name") if k in value)


# Each optional body field: (check, what it must be). Required ones are checked in place_call.
OPTIONAL: dict[str, tuple[Callable[[Any], bool], str]] = {
    "sipCallFrom": (_text, "a non-empty string"),
    "routingRuleId": (_text, "a non-empty string"),
    "participant": (_participant, "an object whose id and name are non-empty strings"),
    "metadata": (lambda v: isinstance(v, dict), "an object"),
    "headers": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()), "an object of strings"),
    "ringingTimeout": (_seconds, "a positive number of seconds"),
    "maxCallDuration": (_seconds, "a positive number of seconds"),
    **{name: (_flag, "true or false") for name in ("waitUntilAnswered", "recordAudio", "dtmf", "hidePhoneNumber")},
    "includeHeaders": (lambda v: v in ("ALL", "SIP_X_HEADERS", "NONE"), "one of ALL, SIP_X_HEADERS, NONE"),
    "mediaEncryption": (lambda v: v in ("enable", "disable"), "enable or disable"),
}
FIELDS = {"sipCallTo", "destinationRoomId", "gatewayId", *OPTIONAL}


def handle(emu: Emulator, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
    """Route one request under ``/v2/sip/call``; returns the JSON to answer with status 200."""
    if (method, path) == ("POST", PATH):
        return {"data": place_call(emu, body)}
    if (method, path) == ("POST", PATH + "/end"):
        return {"data": end_call(emu, body)}
    if (method, path) == ("GET", PATH):
        return list_calls(emu, query)
    call_id = path[len(PATH) + 1 :]
    if method == "GET" and call_id and "/" not in call_id:
        with emu.lock:
            call, options = _find(emu, call_id), emu.state.call_api
        return {"data": call_json(call, time.time(), options)}
    raise Reply(404, {"statusCode": 404, "message": f"Cannot {method} {path}"})


def _find(emu: Emulator, call_id: str) -> SipCall:
    """The call with id ``call_id`` (hold the lock), or a 404."""
    for call in emu.state.sip_calls:
        if call.id == call_id:
            return call
    raise Reply(404, {"statusCode": 404, "message": "Call not found"})


def call_json(call: SipCall, now: float, options: CallApiOptions) -> dict[str, Any]:
    """The call as VideoSDK answers it at ``now``, with ``options``' lookup faults applied."""

    def wire(status: str) -> str:
        status = options.unknown_status if status == "ringing" and options.unknown_status else status
        return status.upper() if options.upper_case_statuses else status

    timeline = call.timeline(now)
    status, at = timeline[-1]
    answered = any(s == "answered" for s, _ in timeline)

    def stamp(t: float) -> str:  # a time as VideoSDK's clock tells it
        return now_iso(t + options.clock_offset)

    return {
        "id": call.id,
        "type": "outbound",
        "status": wire(status),
        "timelog": [{"status": wire(s), "timestamp": stamp(t)} for s, t in timeline],
        "roomId": call.room_id,
        "sessionId": session_id(call.room_id) if answered else None,
        "to": call.to,
        "from": call.from_,
        "gatewayId": call.gateway_id,
        "ruleId": call.rule_id,
        "participant": dict(call.participant),
        "metadata": call.metadata,
        "start": stamp(call.placed_at),
        "end": stamp(at) if status in FINAL else None,
        "createdAt": stamp(call.placed_at),
    }


def place_call(emu: Emulator, body: Any) -> dict[str, Any]:
    """``POST /v2/sip/call``: validate the body, record the call with its callee's script."""
    if not isinstance(body, dict):
        raise bad_request("Body must be a JSON object")
    if unknown := set(body) - FIELDS:
        raise bad_request(f"Unknown body fields: {sorted(unknown)}")
    for name in ("sipCallTo", "destinationRoomId", *(() if "routingRuleId" in body else ("gatewayId",))):
        if not _text(body.get(name)):
            raise bad_request(f"{name} is required")
    for name, (check, what) in OPTIONAL.items():
        if name in body and not check(body[name]):
            raise bad_request(f"{name} must be {what}")
    to = body["sipCallTo"]
    if not (E164.fullmatch(to) or SIP.fullmatch(to)):
        raise bad_request("sipCallTo must be a phone number in E.164 form or a SIP URI")
    gateway_id = body.get("gatewayId") or next(iter(emu.trunks))
    numbers = emu.trunks.get(gateway_id)
    if numbers is None:
        raise Reply(404, {"statusCode": 404, "message": f"Gateway {gateway_id} not found"})
    if "sipCallFrom" in body and body["sipCallFrom"] not in numbers:
        raise bad_request("sipCallFrom must be one of the gateway's numbers")
    participant = {**body.get("participant", {})}
    participant.setdefault("id", secrets.token_hex(4))
    participant.setdefault("name", participant["id"])
    now = int(time.time() * 1000) / 1000  # whole milliseconds, as startDate and endDate filter them
    with emu.lock:
        after = emu.state.answers.get(to, emu.answer_after)
        default = CalleeScript("never") if after is None else CalleeScript("answer", after)
        call = SipCall(
            id="call_" + secrets.token_hex(8),
            body=body,
            placed_at=now,
            room_id=body["destinationRoomId"],
            to=to,
            from_=body.get("sipCallFrom", numbers[0]),
            gateway_id=gateway_id,
            rule_id=body.get("routingRuleId"),
            participant=participant,
            metadata=body.get("metadata", {}),
            script=emu.state.callees.get(to, default),
            ringing_timeout=float(body.get("ringingTimeout", DEFAULT_RINGING_TIMEOUT)),
            max_duration=body.get("maxCallDuration"),
        )
        emu.state.sip_calls.append(call)
        options = emu.state.call_api
    return call_json(call, now, options)


def end_call(emu: Emulator, body: Any) -> dict[str, Any]:
    """``POST /v2/sip/call/end``: hang up a call not final yet; recorded whatever the outcome."""
    now = time.time()
    call_id = body.get("callId") if isinstance(body, dict) else None
    with emu.lock:
        ask: dict[str, Any] = {"callId": call_id, "body": body, "at": now, "statusBefore": None}
        emu.state.call_ends.append(ask)
        if not isinstance(body, dict):
            raise bad_request("Body must be a JSON object")
        if unknown := set(body) - {"callId"}:
            raise bad_request(f"Unknown body fields: {sorted(unknown)}")
        if not _text(call_id):
            raise bad_request("callId is required")
        call, options = _find(emu, str(call_id)), emu.state.call_api
        ask["statusBefore"] = call.status(now)
        if ask["statusBefore"] not in FINAL:
            if call.script.behaviour == "pickup_on_hangup" and call.picked_up_at is None:
                call.picked_up_at = now  # the callee picked up just as the hang-up arrived
                now += 0.001
            call.ended_at = now
    return call_json(call, now, options)


def _filters(query: dict[str, list[str]], now: float, offset: float) -> list[Callable[[SipCall], bool]]:
    """
    One predicate per filter in ``query``; an epoch-millisecond date that is not a number is a 400.
    Dates are compared on VideoSDK's clock, ``offset`` seconds ahead of ours.
    """
    arg = {k: v[0] for k, v in query.items() if v}
    dates = {}
    for name in ("startDate", "endDate"):
        if name in arg:
            if not arg[name].isdigit():
                raise bad_request(f"{name} must be epoch milliseconds")
            dates[name] = int(arg[name])
    checks: dict[str, Callable[[SipCall], bool]] = {
        "roomId": lambda c: c.room_id == arg["roomId"],
        "id": lambda c: c.id == arg["id"],
        "gatewayId": lambda c: c.gateway_id == arg["gatewayId"],
        "ruleId": lambda c: c.rule_id == arg["ruleId"],
        "type": lambda c: arg["type"] == "outbound",
        "sessionId": lambda c: c.join(now) is not None and session_id(c.room_id) == arg["sessionId"],
        "search": lambda c: any(arg["search"].lower() in s.lower() for s in (c.to, c.from_, c.room_id)),
        "startDate": lambda c: round((c.placed_at + offset) * 1000) >= dates["startDate"],
        "endDate": lambda c: round((c.placed_at + offset) * 1000) <= dates["endDate"],
    }
    return [check for name, check in checks.items() if name in arg]


def list_calls(emu: Emulator, query: dict[str, list[str]]) -> Any:
    """``GET /v2/sip/call``: filtered, newest first, one page in the configured page format."""
    page = positive_int(query, "page", 1)
    per_page = positive_int(query, "perPage", 20)
    now = time.time()
    with emu.lock:
        calls, options = list(emu.state.sip_calls), emu.state.call_api
    if options.ignore_room_filter:
        query = {k: v for k, v in query.items() if k != "roomId"}
    checks = _filters(query, now, options.clock_offset)
    # Newest first by the order the calls were placed in: two calls placed within the clock's
    # resolution (or across a clock step) would otherwise list in either order.
    found = [c for c in reversed(calls) if c.placed_at + options.list_lag <= now and all(check(c) for check in checks)]
    data = []
    for call in found[(page - 1) * per_page : page * per_page]:
        item = call_json(call, now, options)
        item[options.call_id_key] = item.pop("id")
        data.append(item)
    if options.page_format == "bare":
        return data
    last_page, total = max(1, -(-len(found) // per_page)), len(found)
    if options.page_format == "pagination":
        return {
            "data": data,
            "pagination": {"page": page, "perPage": per_page, "totalPages": last_page, "total": total},
        }
    return {"data": data, "pageInfo": {"currentPage": page, "perPage": per_page, "lastPage": last_page, "total": total}}


def emulator_view(call: SipCall, now: float) -> dict[str, Any]:
    """A call as ``emu.sip_calls`` lists it: true statuses, plus what only the emulator knows."""
    return {
        **call_json(call, now, CallApiOptions()),
        "body": call.body,
        "placedAt": call.placed_at,
        "endedAt": call.ended_at,
        "script": {"behaviour": call.script.behaviour, "after": call.script.after},
        "voicemail": call.script.behaviour == "voicemail" and call.join(now) is not None,
    }
