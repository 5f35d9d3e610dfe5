"""Fast tier: reading VideoSDK's sessions answers: freshness, pages and odd shapes."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_videosdk._http.outbound_api import CLOCK_SKEW, MAX_SESSION_PAGES, ParticipantLookup
from airflow_provider_videosdk.exceptions import VideoSDKError
from airflow_provider_videosdk.triggers.sip import SipCallAnsweredTrigger

NOW = 1_795_953_600.0  # 2026-11-29T12:00:00Z


def page(participants: list[Any], *, last_page: Any = 1, start: str = "2026-11-29T11:59:00Z") -> dict[str, Any]:
    return {
        "pageInfo": {"currentPage": 1, "perPage": 50, "lastPage": last_page},
        "data": [{"id": "s1", "roomId": "room", "start": start, "participants": participants}],
    }


def joined(pid: str, at: str) -> dict[str, Any]:
    return {"participantId": pid, "name": "x", "timelog": [{"start": at, "end": None}]}


def test_a_join_after_the_call_counts() -> None:
    lookup = ParticipantLookup("room", "p1", joined_after=NOW)
    assert lookup.feed(page([joined("p1", "2026-11-29T12:00:05Z")]))
    assert lookup.found is not None and lookup.found["sessionId"] == "s1"


def test_last_weeks_join_with_the_same_participant_id_does_not_count() -> None:
    lookup = ParticipantLookup("room", "p1", joined_after=NOW)
    assert lookup.feed(page([joined("p1", "2026-11-22T12:00:05Z")]))
    assert lookup.found is None


def test_a_join_within_the_clock_skew_before_the_call_counts_and_one_beyond_does_not() -> None:
    inside = ParticipantLookup("room", "p1", joined_after=NOW + CLOCK_SKEW - 1)
    inside.feed(page([joined("p1", "2026-11-29T12:00:00+00:00")]))
    beyond = ParticipantLookup("room", "p1", joined_after=NOW + CLOCK_SKEW + 1)
    beyond.feed(page([joined("p1", "2026-11-29T12:00:00+00:00")]))
    assert inside.found is not None and beyond.found is None


def test_pages_are_read_until_the_last() -> None:
    lookup = ParticipantLookup("room", "p1", joined_after=None)
    assert not lookup.feed(page([], last_page=3))
    assert lookup.request().params == {"roomId": "room", "page": 2, "perPage": 50}
    assert not lookup.feed(page([], last_page=3))
    assert lookup.feed(page([], last_page=3)) and lookup.found is None


def test_more_pages_than_it_reads_is_an_error_never_a_silent_not_answered() -> None:
    lookup = ParticipantLookup("room", "p1", joined_after=None)
    for _ in range(MAX_SESSION_PAGES - 1):
        assert not lookup.feed(page([], last_page=MAX_SESSION_PAGES + 5))
    with pytest.raises(VideoSDKError, match=f"has {MAX_SESSION_PAGES + 5} pages of sessions; read the first 20"):
        lookup.feed(page([], last_page=MAX_SESSION_PAGES + 5))


@pytest.mark.parametrize(
    ("answer", "what"),
    [
        ({"data": {"id": "s1"}}, "'data' is dict, not a list"),
        ({"data": [], "pageInfo": {"lastPage": "n/a"}}, "'pageInfo.lastPage' is 'n/a', not a page number"),
        ({"data": [{"participants": {"p1": {}}}]}, "'participants' is dict, not a list"),
        ({"data": ["s1"]}, "a session is str, not an object"),
        ({"data": [{"participants": [{"participantId": "p1", "timelog": "x"}]}]}, "'timelog' is not a list"),
        ({"data": [{"participants": [joined("p1", "yesterday")]}]}, "'yesterday' is not an ISO-8601 timestamp"),
        ({"data": [{"participants": [joined("p1", 5)]}]}, "a timestamp is int, not a string"),
    ],
)
def test_odd_but_parseable_answers_raise_the_providers_error_naming_the_endpoint(answer: dict, what: str) -> None:
    lookup = ParticipantLookup("room", "p1", joined_after=NOW)
    with pytest.raises(VideoSDKError, match=r"^GET /v2/sessions: VideoSDK's answer has an unexpected shape: ") as e:
        lookup.feed(answer)
    assert what in str(e.value)


def test_the_trigger_serializes_back_to_the_same_state() -> None:
    trigger = SipCallAnsweredTrigger(
        meeting_id="m", participant_id="p", end_time=NOW, poll_interval=2, videosdk_conn_id="c", joined_after=NOW - 5
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_videosdk.triggers.sip.SipCallAnsweredTrigger"
    assert SipCallAnsweredTrigger(**kwargs).serialize() == (path, kwargs)
    assert kwargs["joined_after"] == NOW - 5 and kwargs["end_time"] == NOW


@pytest.mark.parametrize(
    ("interval", "remaining", "elapsed", "wait"),
    [
        (2, 10, 0, 2),
        (2, 10, 0.3, 1.7),  # the look-up took 0.3 s: the cadence stays one poll per interval
        (2, 10, 2.5, 0.0),
        (0.1, 10, 0, 1.0),
        (3, 3, 0, 2.5),
        (3, 1.2, 0, 0.7),
        (3, 0.4, 0, 0.4),
        (3, -1, 0, 0.0),
    ],
)
def test_the_trigger_polls_at_its_interval_and_looks_once_more_just_before_the_deadline(
    interval: float, remaining: float, elapsed: float, wait: float
) -> None:
    trigger = SipCallAnsweredTrigger(meeting_id="m", participant_id="p", end_time=NOW, poll_interval=interval)
    assert trigger._next_wait(remaining, elapsed) == pytest.approx(wait)
