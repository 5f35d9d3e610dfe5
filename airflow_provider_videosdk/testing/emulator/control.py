"""The ``/_emulator/*`` control endpoints that :class:`EmulatorClient` talks to."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.testing.emulator.state import Reply

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing.emulator.core import VideoSDKEmulator


def handle(emu: VideoSDKEmulator, method: str, path: str, body: Any) -> tuple[int, Any]:
    """Answer one control request; a malformed one gets a 400."""
    route = (method, path)
    if route == ("GET", "/_emulator/requests"):
        return 200, [asdict(r) for r in emu.requests]
    if route == ("GET", "/_emulator/calls"):
        return 200, emu.calls
    if route == ("GET", "/_emulator/tokens"):
        return 200, sorted(emu.tokens)
    if route == ("GET", "/_emulator/sip-calls"):
        return 200, emu.sip_calls
    if route == ("GET", "/_emulator/call-ends"):
        return 200, emu.call_ends
    try:
        if route == ("POST", "/_emulator/faults"):
            emu.add_fault(**body)
            return 200, {"ok": True}
        if route == ("POST", "/_emulator/sessions"):
            participants = [(pid, at) for pid, at in body.get("participants") or []]
            return 200, emu.add_session(body["meetingId"], participants, start=body.get("start"), end=body.get("end"))
        if route == ("POST", "/_emulator/callees"):
            emu.set_callee(body["to"], body.get("behaviour"), body.get("after"))
            return 200, {"ok": True}
        if route == ("POST", "/_emulator/call-api"):
            emu.set_call_api(**body)
            return 200, {"ok": True}
    except (TypeError, ValueError, KeyError) as exc:
        raise Reply(400, {"message": f"bad control request: {exc}"}) from None
    if route == ("POST", "/_emulator/answers"):
        emu.set_answer(body["to"], body.get("after"))
        return 200, {"ok": True}
    if route == ("POST", "/_emulator/reset"):
        emu.reset()
        return 200, {"ok": True}
    raise Reply(404, {"message": f"Cannot {method} {path}"})
