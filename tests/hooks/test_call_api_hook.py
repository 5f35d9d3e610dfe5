"""
The hook's call API over real HTTP, through the sync hook and the async client alike: placing (never
resent, reconciled when the answer is lost), reading, listing in every page format, and hanging up.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.calls import ATTEMPT_KEY, SipCall
from airflow_provider_videosdk.exceptions import VideoSDKInputError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

CALL = {"to": "+14155550150", "meeting_id": "hook-room", "gateway_id": "trunk_demo", "display_name": "On-call"}
PLACE = {"path": "/v2/sip/call", "method": "POST", "exact": True}


class CallApi:
    """Runs one hook method through the sync hook or the async client."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        hook = VideoSDKHook()
        if self.kind == "sync":
            try:
                return getattr(hook, method)(*args, **kwargs)
            finally:
                hook.close()

        async def run() -> Any:
            async with hook.async_client() as client:
                return await getattr(client, method)(*args, **kwargs)

        return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> CallApi:
    return CallApi(request.param)


def posts(emulator: VideoSDKEmulator) -> int:
    return len(emulator.requests_to("/v2/sip/call", "POST"))


def test_a_call_is_placed_read_and_hung_up(api: CallApi, videosdk_emulator: VideoSDKEmulator) -> None:
    placed = api("place_call", SipCall.build(**CALL, ringing_timeout=30, metadata={"incident": "INC-7"}))

    [recorded] = videosdk_emulator.sip_calls
    assert placed["id"] == recorded["id"] and placed["participant"]["id"].startswith("airflow-")
    assert recorded["body"]["ringingTimeout"] == 30 and recorded["body"]["metadata"]["incident"] == "INC-7"
    assert recorded["body"]["metadata"][ATTEMPT_KEY] == placed["metadata"][ATTEMPT_KEY]  # this attempt's token
    assert api("get_call", placed["id"])["id"] == placed["id"]
    ended = api("end_call", placed["id"])
    assert ended["status"] == "ended"
    assert [e["callId"] for e in videosdk_emulator.call_ends] == [placed["id"]]


@pytest.mark.parametrize("fault", [{"status": 502}, {"drop": True}, {"truncate": 10}], ids=["502", "drop", "cut"])
def test_an_ambiguous_post_is_found_again_not_resent(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, fault: dict[str, Any]
) -> None:
    videosdk_emulator.set_call_api(list_lag=1.5, call_id_key="callId", page_format="pagination")
    videosdk_emulator.add_fault(**PLACE, process=True, **fault)

    placed = api("place_call", SipCall.build(**CALL))

    [recorded] = videosdk_emulator.sip_calls
    assert placed["id"] == recorded["id"]
    assert posts(videosdk_emulator) == 1


def test_a_call_not_found_within_the_window_is_outcome_unknown(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        videosdk_emulator.connection_json({"retry_backoff": 0.01, "reconcile_timeout": 1.5}),
    )
    videosdk_emulator.set_call_api(list_lag=30)
    videosdk_emulator.add_fault(**PLACE, process=True, status=502)

    started = time.monotonic()
    with pytest.raises(VideoSDKOutcomeUnknownError, match=r"appeared in meeting hook-room's calls within 1\.5s"):
        api("place_call", SipCall.build(**CALL))

    assert 1.4 < time.monotonic() - started < 10  # the 1.5 s window, not until the call is listed at 30 s
    assert len(videosdk_emulator.sip_calls) == 1 and posts(videosdk_emulator) == 1


def test_reconciliation_off_reports_at_once(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", videosdk_emulator.connection_json({"reconcile_timeout": 0}))
    videosdk_emulator.add_fault(**PLACE, process=True, status=502)

    with pytest.raises(VideoSDKOutcomeUnknownError, match="reconcile_timeout is 0: not looked up"):
        api("place_call", SipCall.build(**CALL))

    assert videosdk_emulator.requests_to("/v2/sip/call", "GET") == []


@pytest.mark.parametrize("page_format", ["pageInfo", "pagination", "bare"])
def test_every_page_is_listed_in_every_format(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, page_format: str
) -> None:
    hook = VideoSDKHook()
    ids = {hook.place_call(SipCall.build(**CALL))["id"] for _ in range(3)}
    hook.place_call(SipCall.build(**{**CALL, "meeting_id": "other-room"}))
    videosdk_emulator.set_call_api(page_format=page_format, call_id_key="callId", upper_case_statuses=True)

    listed = api("list_calls", "hook-room", since=time.time() - 60)

    assert {c["id"] for c in listed} == ids
    assert all(c["status"].isupper() for c in listed)
    assert api("list_calls", "hook-room", since=time.time() + 3600) == []


def test_a_read_that_fails_after_sending_is_retried(api: CallApi, videosdk_emulator: VideoSDKEmulator) -> None:
    call_id = VideoSDKHook().place_call(SipCall.build(**CALL))["id"]
    videosdk_emulator.add_fault(path=f"/v2/sip/call/{call_id}", drop=True)
    videosdk_emulator.add_fault(path="/v2/sip/call/end", status=502, process=True)

    assert api("get_call", call_id)["id"] == call_id
    assert api("end_call", call_id)["status"] == "ended"
    assert len(videosdk_emulator.requests_to(f"/v2/sip/call/{call_id}")) == 2
    assert len(videosdk_emulator.requests_to("/v2/sip/call/end")) == 2


@pytest.mark.parametrize("call_id", ["..", ".", "x/..", "x?y", "x#y"])
@pytest.mark.parametrize("method", ["get_call", "end_call"])
def test_a_call_id_that_is_not_one_path_segment_is_refused_before_any_request(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, method: str, call_id: str
) -> None:
    with pytest.raises(VideoSDKInputError, match="call_id must be an id without '/', '\\?', '#'"):
        api(method, call_id)

    assert videosdk_emulator.requests == []
