"""Which listed call is ours, what a hang-up met, and the call's bounds: the pure decisions of issue 21."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_provider_videosdk._http.call_api import (
    MAX_CALL_PAGES,
    RECONCILE_INTERVAL,
    CallSearch,
    Placement,
    Reconciliation,
    is_ours,
    placed_call_of,
)
from airflow_provider_videosdk._http.config import VideoSDKConfig
from airflow_provider_videosdk.call_watch import judge_hang_up
from airflow_provider_videosdk.calls import (
    ATTEMPT_KEY,
    MAX_METADATA_BYTES,
    MAX_USER_METADATA_BYTES,
    SipCall,
    attempt_of,
    metadata_size,
    with_attempt,
)
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError, VideoSDKOutcomeUnknownError

BEGAN = 1_800_000_000.0  # when the POST began (Unix time)
CALL = with_attempt(
    SipCall.build(to="+14155550100", meeting_id="room-1", gateway_id="gw-1", participant_id="oncall-run-1")
)


def listed(**changes: Any) -> dict[str, Any]:
    """Our call as a list shows it, with ``changes``."""
    call = {
        "id": "c-ours",
        "roomId": "room-1",
        "to": "+14155550100",
        "participant": {"id": "oncall-run-1"},
        "metadata": {ATTEMPT_KEY: attempt_of(CALL)},
        "createdAt": (BEGAN + 0.2) * 1000,
    }
    return {**call, **changes}


def test_each_attempt_gets_its_own_token_and_keeps_it() -> None:
    again = with_attempt(SipCall.build(**{k: getattr(CALL, k) for k in ("to", "meeting_id", "gateway_id")}))
    assert attempt_of(CALL) and attempt_of(again) and attempt_of(CALL) != attempt_of(again)
    assert with_attempt(CALL) is CALL
    assert CALL.body()["metadata"] == {ATTEMPT_KEY: attempt_of(CALL)}


@pytest.mark.parametrize(
    "changes",
    [
        {"metadata": {}},  # a sibling mapped task's call: same participant id, no (or another) token
        {"metadata": {ATTEMPT_KEY: "0" * 32}},
        {"roomId": "room-2"},  # a list that ignored roomId
        {"to": "+14155550101"},
        {"participant": {"id": "oncall-run-2"}},
        {"createdAt": (BEGAN - 10) * 1000},  # an earlier call in the same room
        {"createdAt": None},  # a call that does not say when it was created cannot be proved new
    ],
    ids=["no-token", "other-token", "other-room", "other-number", "other-participant", "older", "no-time"],
)
def test_a_call_is_ours_only_when_token_room_number_participant_and_time_all_match(changes: dict) -> None:
    assert is_ours(listed(), CALL, BEGAN)
    assert not is_ours(listed(**changes), CALL, BEGAN)


def test_the_skew_allowance_is_the_callers() -> None:
    early = listed(createdAt=(BEGAN - 45) * 1000)  # VideoSDK's clock 45 s behind ours
    assert not is_ours(early, CALL, BEGAN - 30)
    assert is_ours(early, CALL, BEGAN - 60)


def pages(items: list[dict[str, Any]], number: int, last: int) -> dict[str, Any]:
    return {"data": items, "pageInfo": {"currentPage": number, "lastPage": last}}


def test_the_search_stops_at_the_first_page_that_holds_our_call() -> None:
    search = CallSearch(CALL, BEGAN)
    assert search.request().params["startDate"] == int(BEGAN * 1000)
    assert not search.feed(pages([listed(id="other", metadata={})], 1, 5))
    assert search.feed(pages([listed()], 2, 5))
    assert search.found is not None and search.found["id"] == "c-ours"


def test_the_page_cap_counts_only_when_nothing_matched() -> None:
    # 1,001 calls in the window, ours on the first page: found.
    search = CallSearch(CALL, BEGAN)
    assert search.feed(pages([listed(id=f"c-{i}", metadata={}) for i in range(49)] + [listed()], 1, 21))
    assert search.found is not None
    # Nothing matched in MAX_CALL_PAGES pages of more: that cannot be called "not found".
    search = CallSearch(CALL, BEGAN)
    for number in range(1, MAX_CALL_PAGES):
        assert not search.feed(pages([], number, 21))
    with pytest.raises(VideoSDKError, match="without finding the call"):
        search.feed(pages([], MAX_CALL_PAGES, 21))


@pytest.mark.parametrize("answer", [{"data": {"status": "initiated"}}, {"data": "ok"}, {"statusCode": 200}])
def test_a_2xx_that_does_not_identify_the_call_is_outcome_unknown(answer: dict) -> None:
    with pytest.raises(VideoSDKOutcomeUnknownError, match="may or may not have been placed"):
        placed_call_of(answer, "POST /v2/sip/call")
    assert placed_call_of({"data": {"id": "c-1"}}, "POST /v2/sip/call")["id"] == "c-1"


@pytest.mark.parametrize(
    ("ended", "outcome"),
    [
        (
            {"status": "ended", "timelog": [{"status": "ringing"}, {"status": "answered"}, {"status": "ended"}]},
            "answered",
        ),
        ({"status": "answered"}, "answered"),
        ({"status": "ended", "timelog": [{"status": "ringing"}, {"status": "ended"}]}, "unanswered"),
        (None, "unknown"),
    ],
    ids=["answered-as-hung-up", "answered", "hung-up-ringing", "unreadable"],
)
def test_a_hang_up_that_meets_an_answer_counts_as_answered(ended: dict | None, outcome: str) -> None:
    look = judge_hang_up(ended, "c-1")
    assert look.outcome == outcome
    if outcome == "answered":
        assert "answered as it was hung up" in look.message


def test_metadata_is_counted_in_utf8_bytes_of_compact_json_and_the_bound_is_inclusive() -> None:
    accents = {"k": "é" * 1500}
    assert metadata_size(accents) == 3008
    assert SipCall.build(**{**BASE_FIELDS, "metadata": accents}).metadata == accents
    at_bound = {"k": "x" * (MAX_USER_METADATA_BYTES - len('{"k":""}'))}
    assert metadata_size(at_bound) == MAX_USER_METADATA_BYTES
    sent = with_attempt(SipCall.build(**{**BASE_FIELDS, "metadata": at_bound}))
    assert metadata_size(sent.body()["metadata"]) == MAX_METADATA_BYTES  # the token fills the rest exactly
    over = {"k": at_bound["k"] + "x"}
    with pytest.raises(VideoSDKInputError, match=f"at most {MAX_USER_METADATA_BYTES} bytes as compact UTF-8 JSON"):
        SipCall.build(**{**BASE_FIELDS, "metadata": over})
    with pytest.raises(VideoSDKInputError, match=f"must not set '{ATTEMPT_KEY}'"):
        SipCall.build(**{**BASE_FIELDS, "metadata": {ATTEMPT_KEY: "x"}})


BASE_FIELDS = {"to": "+14155550100", "meeting_id": "room-1", "gateway_id": "gw-1"}


@pytest.mark.parametrize("name", ["ringing_timeout", "max_call_duration"])
def test_ringing_and_duration_are_whole_seconds_and_a_fraction_is_refused(name: str) -> None:
    assert (
        SipCall.build(**{**BASE_FIELDS, name: "30"}).body()[
            {"ringing_timeout": "ringingTimeout"}.get(name, "maxCallDuration")
        ]
        == 30
    )
    for fraction in (0.001, 29.5):
        with pytest.raises(VideoSDKInputError, match=f"{name} must be a whole number of seconds"):
            SipCall.build(**{**BASE_FIELDS, name: fraction})


def _config(**settings: Any) -> VideoSDKConfig:
    return VideoSDKConfig(base_url="https://api.example", api_key="k", api_secret="s", token=None, **settings)


def test_a_reconciliation_reads_pages_without_pausing_and_pauses_between_look_ups() -> None:
    log = logging.getLogger("test")
    # The POST began at BEGAN by VideoSDK's clock: no skew allowance, so the window starts there.
    reconciliation = Reconciliation(CALL, BEGAN, _config(reconcile_timeout=30.0, clock_skew=0.0), log)
    request, budget = reconciliation.next_request() or pytest.fail("the window is open")
    assert request.params["page"] == 1 and request.params["startDate"] == int(BEGAN * 1000)
    assert 0 < budget <= 30.0
    reconciliation.feed(pages([listed(id="other", metadata={})], 1, 2))
    assert reconciliation.found is None and reconciliation.pause() == 0.0  # the next page, at once
    request, _ = reconciliation.next_request() or pytest.fail("the window is open")
    assert request.params["page"] == 2
    reconciliation.feed(pages([], 2, 2))  # read to the end without the call: look again after a while
    assert reconciliation.found is None and reconciliation.pause() == RECONCILE_INTERVAL
    request, _ = reconciliation.next_request() or pytest.fail("the window is open")
    assert request.params["page"] == 1  # a new look-up starts from the first page
    reconciliation.failed(VideoSDKError("GET /v2/sip/call: VideoSDK answered 500"))
    assert reconciliation.pause() == RECONCILE_INTERVAL
    reconciliation.next_request()
    reconciliation.feed(pages([listed()], 1, 1))
    assert reconciliation.found is not None and reconciliation.found["id"] == "c-ours"


def test_a_reconciliation_with_no_window_sends_nothing() -> None:
    reconciliation = Reconciliation(CALL, BEGAN, _config(reconcile_timeout=0.0), logging.getLogger("test"))
    assert reconciliation.next_request() is None


def test_a_placement_that_found_nothing_says_what_it_looked_for() -> None:
    placement = Placement(CALL)
    error = VideoSDKOutcomeUnknownError("POST /v2/sip/call: no complete answer within 5s", status=None)
    with pytest.raises(VideoSDKOutcomeUnknownError, match="no call for participant oncall-run-1 appeared in") as info:
        placement.settle(error, None, _config(reconcile_timeout=10.0), logging.getLogger("test"))
    assert str(info.value).endswith("within 10s")
    assert placement.reconcilable(error)
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as interruption:
        error.__cause__ = interruption
    assert not placement.reconcilable(error)
