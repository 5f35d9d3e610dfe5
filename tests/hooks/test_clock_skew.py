"""
The connection's ``clock_skew`` against a VideoSDK whose clock is behind ours: reconciliation still
finds the call its POST placed while the skew allowance covers the gap, and says "outcome unknown"
(never dials again) when it does not. Through the sync hook and the async client, over real HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.calls import SipCall
from airflow_provider_videosdk.exceptions import VideoSDKOutcomeUnknownError
from tests.hooks.test_call_api_hook import PLACE, CallApi

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

CALL = {"to": "+14155550165", "meeting_id": "skew-room", "gateway_id": "trunk_demo", "participant_id": "oncall-s"}
BEHIND = -20.0  # VideoSDK's clock, 20 s behind ours


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> CallApi:
    return CallApi(request.param)


def place_with_an_ambiguous_answer(api: CallApi, emulator: VideoSDKEmulator, monkeypatch, skew: float) -> dict:
    extra = {"retry_backoff": 0.01, "reconcile_timeout": 1.5, "clock_skew": skew}
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", emulator.connection_json(extra))
    emulator.set_call_api(clock_offset=BEHIND)
    emulator.add_fault(**PLACE, process=True, status=502)  # placed, but the answer says nothing
    return api("place_call", SipCall.build(**CALL))


def test_a_call_stamped_by_a_clock_20s_behind_is_found_within_the_default_30s_skew(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed = place_with_an_ambiguous_answer(api, videosdk_emulator, monkeypatch, skew=30)

    [recorded] = videosdk_emulator.sip_calls
    assert placed["id"] == recorded["id"]
    assert len(videosdk_emulator.requests_to("/v2/sip/call", "POST")) == 1


def test_a_skew_allowance_smaller_than_the_gap_is_outcome_unknown_not_a_second_call(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(VideoSDKOutcomeUnknownError, match="no call for participant oncall-s appeared"):
        place_with_an_ambiguous_answer(api, videosdk_emulator, monkeypatch, skew=5)

    assert len(videosdk_emulator.sip_calls) == 1
    assert len(videosdk_emulator.requests_to("/v2/sip/call", "POST")) == 1
