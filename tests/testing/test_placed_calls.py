"""One view of what the emulator placed, through both APIs: in process, over HTTP, and from the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from airflow_provider_videosdk.calls import SipCall
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.testing.emulator import EmulatorClient
from airflow_provider_videosdk.testing.emulator.control import TOKEN_ENV
from tests.helpers import CALL

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

CLI = [sys.executable, "-m", "airflow_provider_videosdk.testing.emulator", "calls"]


def place_both(emulator: VideoSDKEmulator) -> None:
    """One call through the outbound-call API, then one through the call API (answered at once)."""
    emulator.set_callee("+14155550141", "answer", after=0)
    hook = VideoSDKHook()
    try:
        hook.outbound_call(**CALL)
        hook.place_call(SipCall.build(to="+14155550141", meeting_id="war-room", gateway_id="trunk_demo"))
    finally:
        hook.close()


def test_placed_calls_lists_both_apis_in_one_shape_oldest_first(videosdk_emulator: VideoSDKEmulator) -> None:
    place_both(videosdk_emulator)

    first, second = videosdk_emulator.placed_calls
    assert (first["api"], first["to"], first["meetingId"]) == ("outbound-call", CALL["to"], "war-room")
    assert first["participantId"] == videosdk_emulator.calls[0]["participantId"]
    assert first["callId"] is None and first["status"] == "placed"  # this callee never answers
    (sip_call,) = videosdk_emulator.sip_calls
    assert (second["api"], second["to"], second["callId"]) == ("call", "+14155550141", sip_call["id"])
    assert second["participantId"] == sip_call["participant"]["id"]
    assert first["placedAt"] <= second["placedAt"]
    # The seed-only view and the call-API-only view each hold one of them.
    assert len(videosdk_emulator.calls) == 1 and len(videosdk_emulator.sip_calls) == 1


def test_the_client_and_the_cli_show_what_the_emulator_placed(videosdk_emulator: VideoSDKEmulator) -> None:
    place_both(videosdk_emulator)
    expected = videosdk_emulator.placed_calls
    over_http = EmulatorClient(videosdk_emulator.url).placed_calls()
    assert [(c["api"], c["to"], c["callId"]) for c in over_http] == [(c["api"], c["to"], c["callId"]) for c in expected]

    env = {**os.environ, TOKEN_ENV: videosdk_emulator.control_token}
    table = subprocess.run(
        [*CLI, "--url", videosdk_emulator.url], env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    header, outbound, call = table.splitlines()
    assert header.split() == ["api", "to", "meetingId", "participantId", "displayName", "status", "callId"]
    assert outbound.split()[:3] == ["outbound-call", CALL["to"], "war-room"]
    assert call.split()[:2] == ["call", "+14155550141"] and expected[1]["callId"] in call
    as_json = subprocess.run(
        [*CLI, "--url", videosdk_emulator.url, "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert [c["to"] for c in json.loads(as_json.stdout)] == [CALL["to"], "+14155550141"]


def test_the_cli_without_the_control_token_says_so(videosdk_emulator: VideoSDKEmulator) -> None:
    env = {k: v for k, v in os.environ.items() if k != TOKEN_ENV}
    proc = subprocess.run([*CLI, "--url", videosdk_emulator.url], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "needs the emulator's control token" in proc.stderr
