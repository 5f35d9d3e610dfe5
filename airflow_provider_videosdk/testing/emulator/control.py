"""
The ``/_emulator/*`` control endpoints that :class:`EmulatorClient` talks to.

They can read every token minted against the emulator and steer its answers, so each control
request must carry the emulator's random control token (``X-Emulator-Token``; printed at start,
:attr:`VideoSDKEmulator.control_token`), name a loopback host in ``Host`` (a foreign name means
a page in a browser reached it through DNS rebinding), and a POST must be ``application/json``
(a cross-site form or ``text/plain`` POST cannot be).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.testing.emulator.state import Reply

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing.emulator.host import Emulator


#: The header that carries the control token.
TOKEN_HEADER = "X-Emulator-Token"
#: Where the command line reads the control token from (a random one when unset).
TOKEN_ENV = "VIDEOSDK_EMULATOR_CONTROL_TOKEN"
#: ``Host`` names a control request may carry (besides any loopback IP address).
LOOPBACK_NAMES = ("localhost",)


def is_loopback_host(host: str) -> bool:
    """True when ``host`` (a name or IP address, IPv6 with or without brackets) is loopback."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_header_name(value: str) -> str:
    """The host of a ``Host`` header, without its port (``[::1]:8765`` -> ``::1``)."""
    value = value.strip()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def check(emu: Emulator, method: str, headers: dict[str, str]) -> None:
    """Refuse a control request from anywhere but a local client that holds the token (raises :class:`Reply`)."""
    host = host_header_name(headers.get("host", ""))
    if not is_loopback_host(host):
        raise Reply(403, {"message": f"control requests must name a loopback Host, got {host[:60]!r}"})
    if not secrets.compare_digest(headers.get(TOKEN_HEADER.lower(), "").encode(), emu.control_token.encode()):
        raise Reply(401, {"message": f"control requests need the emulator's control token in {TOKEN_HEADER}"})
    if method == "POST" and headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise Reply(415, {"message": "control requests must be application/json"})


def handle(emu: Emulator, method: str, path: str, body: Any) -> tuple[int, Any]:
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
    if route == ("GET", "/_emulator/placed-calls"):
        return 200, emu.placed_calls
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
