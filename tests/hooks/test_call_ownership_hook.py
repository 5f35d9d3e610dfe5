"""
Reconciliation over real HTTP, through the sync hook and the async client: only this attempt's call
is adopted, the window is absolute across slow pages, and a call on a page already read is found
however many pages there are.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.calls import SipCall
from airflow_provider_videosdk.exceptions import VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.testing.emulator.callees import CalleeScript
from airflow_provider_videosdk.testing.emulator.callees import SipCall as EmulatedCall
from tests.hooks.test_call_api_hook import PLACE, CallApi

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

CALL = {"to": "+14155550160", "meeting_id": "own-room", "gateway_id": "trunk_demo", "participant_id": "oncall-1"}


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> CallApi:
    return CallApi(request.param)


def use(monkeypatch: pytest.MonkeyPatch, emulator: VideoSDKEmulator, **extra: float) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", emulator.connection_json({"retry_backoff": 0.01, **extra}))


@pytest.mark.parametrize("where", ["same-room", "other-room-and-the-list-ignores-roomId"])
def test_an_earlier_call_with_the_same_participant_id_is_never_adopted(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    use(monkeypatch, videosdk_emulator, reconcile_timeout=1.5)
    room = CALL["meeting_id"] if where == "same-room" else "another-room"
    VideoSDKHook().place_call(SipCall.build(**{**CALL, "meeting_id": room}))  # someone else's call, listed
    videosdk_emulator.set_call_api(ignore_room_filter=True)
    videosdk_emulator.add_fault(**PLACE, status=502)  # ours: refused ambiguously, nothing placed

    with pytest.raises(VideoSDKOutcomeUnknownError, match="no call for participant oncall-1 appeared"):
        api("place_call", SipCall.build(**CALL))

    assert len(videosdk_emulator.sip_calls) == 1


def seed_calls(emulator: VideoSDKEmulator, count: int) -> None:
    """``count`` other calls in the room, just placed (within any reconcile window)."""
    now = time.time()
    with emulator.lock:
        for n in range(count):
            emulator.state.sip_calls.append(
                EmulatedCall(
                    id=f"call_other{n}",
                    body={},
                    placed_at=now,
                    room_id=CALL["meeting_id"],
                    to="+14155550161",
                    from_="+15550100001",
                    gateway_id="trunk_demo",
                    rule_id=None,
                    participant={"id": f"p{n}", "name": "x"},
                    metadata={},
                    script=CalleeScript("never"),
                )
            )


def test_the_reconcile_window_is_absolute_across_slow_pages(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, videosdk_emulator, reconcile_timeout=5)
    seed_calls(videosdk_emulator, 200)  # 4 pages of others; ours was never placed
    videosdk_emulator.add_fault(**PLACE, status=502)
    videosdk_emulator.add_fault(path="/v2/sip/call", method="GET", exact=True, delay=4, process=True, times=50)

    started = time.monotonic()
    with pytest.raises(VideoSDKOutcomeUnknownError, match="within 5s"):
        api("place_call", SipCall.build(**CALL))
    took = time.monotonic() - started

    print(f"MEASURED place_call, reconcile_timeout=5, 4 pages of 4 s each: {took:.1f}s")
    assert took < 5 + 3, took


def test_a_call_on_the_first_page_is_found_however_many_pages_match(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, videosdk_emulator, reconcile_timeout=5)
    seed_calls(videosdk_emulator, 1000)  # 1,000 other calls in the room, placed within the window
    videosdk_emulator.add_fault(**PLACE, status=502, process=True)

    found = api("place_call", SipCall.build(**CALL))

    assert found["id"] == videosdk_emulator.sip_calls[-1]["id"]  # ours: the newest, on page 1
    assert len(videosdk_emulator.requests_to("/v2/sip/call", "GET")) == 1
