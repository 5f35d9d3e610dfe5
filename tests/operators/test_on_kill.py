"""A call task killed after VideoSDK placed its call hangs the call up, unless it was answered (``on_kill``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.hang_up import KILL_HANG_UP_WAIT
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.operators.sip import SipCallOperator, SipOutboundCallOperator

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

TO = "+14155550171"


def _placed_by(operator: SipCallOperator) -> str:
    """Place the operator's call as its execute does, and leave the task as a kill would find it."""
    hook = VideoSDKHook()
    try:
        result = operator._place(hook, operator._checked_call(), None, True)
    finally:
        hook.close()
    return str(result["call_id"])


def _operator() -> SipCallOperator:
    return SipCallOperator(task_id="call", to=TO, meeting_id="kill-room", gateway_id="trunk_demo", ringing_timeout=60)


def test_a_killed_call_task_hangs_its_ringing_call_up(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_callee(TO, "never")
    operator = _operator()
    call_id = _placed_by(operator)

    operator.on_kill()

    (call,) = videosdk_emulator.sip_calls
    (end,) = videosdk_emulator.call_ends
    assert call["id"] == call_id
    assert end["callId"] == call_id and end["statusBefore"] in ("initiated", "ringing")
    assert call["status"] == "ended"


def test_a_killed_call_task_leaves_an_answered_call_up(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_callee(TO, "answer", after=0)
    operator = _operator()
    _placed_by(operator)

    operator.on_kill()

    assert videosdk_emulator.call_ends == []
    (call,) = videosdk_emulator.sip_calls
    assert "answered" in [t["status"] for t in call["timelog"]]


@pytest.mark.parametrize("fault", [{"status": 503, "times": 99}, {"delay": 30, "times": 99}], ids=["503", "stalled"])
def test_on_kill_never_raises_nor_hangs_when_videosdk_fails(videosdk_emulator: VideoSDKEmulator, fault: dict) -> None:
    videosdk_emulator.set_callee(TO, "never")
    operator = _operator()
    _placed_by(operator)
    videosdk_emulator.add_fault(path="/v2/sip/call", **fault)

    started = time.monotonic()
    operator.on_kill()  # returns: a failed hang-up is logged, not raised

    # Bounded by the hang-up's own wait (a ceiling well below Airflow's 5 s from SIGTERM to SIGKILL,
    # plus slack for a loaded machine), not by the stalled server's 30 s.
    assert time.monotonic() - started < KILL_HANG_UP_WAIT + 2


def test_on_kill_before_anything_was_placed_sends_nothing(videosdk_emulator: VideoSDKEmulator) -> None:
    SipOutboundCallOperator(
        task_id="call", to=TO, display_name="On-call", meeting_id="kill-room", trunk_id="trunk_demo"
    ).on_kill()
    _operator().on_kill()

    assert videosdk_emulator.requests == []
