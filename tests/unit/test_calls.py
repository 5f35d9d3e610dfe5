"""The call API's call object, its checks, and the listing of calls: pure logic, no I/O."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_videosdk._http.call_api import (
    MAX_CALL_PAGES,
    CallListing,
    call_from_answer,
    end_call_request,
    match_call,
    place_call_request,
)
from airflow_provider_videosdk.calls import (
    CALL_API_FIELDS,
    MAX_METADATA_BYTES,
    MAX_USER_METADATA_BYTES,
    STATUSES,
    SipCall,
    call_fields_table,
    outcome_of,
    status_table,
)
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
from airflow_provider_videosdk.operators.sip import SipCallOperator

OPERATORS_PAGE = (Path(__file__).resolve().parents[2] / "docs" / "operators.md").read_text()
BASE = {"to": "+14155550100", "meeting_id": "room-1", "gateway_id": "gw-1"}


def test_the_body_uses_the_sdks_wire_names_and_leaves_out_what_was_not_given() -> None:
    call = SipCall.build(
        **BASE,
        from_number="+15550100001",
        display_name="On-call",
        participant_id="p-1",
        ringing_timeout="30",
        max_call_duration=600.0,
        metadata={"incident": "INC-1"},
    )

    assert call.body() == {
        "sipCallTo": "+14155550100",
        "destinationRoomId": "room-1",
        "gatewayId": "gw-1",
        "sipCallFrom": "+15550100001",
        "participant": {"name": "On-call", "id": "p-1"},
        "ringingTimeout": 30,
        "maxCallDuration": 600,
        "metadata": {"incident": "INC-1"},
    }
    assert SipCall.build(**BASE).body() == {
        "sipCallTo": "+14155550100",
        "destinationRoomId": "room-1",
        "gatewayId": "gw-1",
    }
    assert SipCall.build(**BASE, participant_id="p-1").body()["participant"] == {"id": "p-1"}


def test_each_field_is_sent_under_the_wire_name_the_table_documents() -> None:
    # The README's field table reads each field's wire name from the field; body() writes them out.
    values = {"from_number": "+15550100001", "display_name": "On-call", "participant_id": "p-1"}
    values |= {"ringing_timeout": 30, "max_call_duration": 600, "metadata": {"incident": "INC-1"}}
    for route in ({"gateway_id": "gw-1"}, {"routing_rule_id": "rr-1"}):
        call = SipCall.build(to="+14155550100", meeting_id="room-1", **route, **values)
        for f in dataclasses.fields(SipCall):
            if getattr(call, f.name) is None:
                continue
            sent: Any = call.body()
            for key in f.metadata["wire"].split("."):
                sent = sent[key]
            assert sent == getattr(call, f.name), f.name


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("to", "4155550100", "to must be an E.164 number"),
        ("meeting_id", None, "meeting_id rendered to nothing (None): did an XCom or param return None?"),
        ("gateway_id", "None", "gateway_id rendered to nothing ('None')"),
        ("from_number", "555", "from_number must be an E.164 number"),
        ("ringing_timeout", 0, "ringing_timeout must be > 0 and <= 300 seconds"),
        ("ringing_timeout", 301, "ringing_timeout must be > 0 and <= 300 seconds"),
        ("max_call_duration", "soon", "max_call_duration must be a number of seconds"),
        ("max_call_duration", 86401, "max_call_duration must be > 0 and <= 86400 seconds"),
        ("metadata", ["a"], "metadata must be a JSON object"),
        ("metadata", {"k": {1, 2}}, "metadata must be JSON-serialisable"),
        ("metadata", {"k": "x" * MAX_METADATA_BYTES}, f"metadata must be at most {MAX_USER_METADATA_BYTES} bytes"),
        ("display_name", "{{ params.name }}", "display_name still holds template text"),
    ],
)
def test_each_bad_field_is_named_with_the_form_expected(field: str, value: Any, message: str) -> None:
    with pytest.raises(VideoSDKInputError, match=re.escape(message)):
        SipCall.build(**{**BASE, field: value})


def test_the_operators_template_fields_are_the_calls_fields() -> None:
    assert tuple(SipCallOperator.template_fields) == (*CALL_API_FIELDS, "skip_if_answered")
    assert CALL_API_FIELDS[:3] == ("to", "meeting_id", "gateway_id")


def test_the_readme_holds_the_generated_tables() -> None:
    assert call_fields_table() in OPERATORS_PAGE
    assert status_table() in OPERATORS_PAGE


@pytest.mark.parametrize(
    ("call", "outcome"),
    [
        ({"status": "ringing"}, "pending"),
        ({"status": "RINGING"}, "pending"),
        ({"status": "answered"}, "answered"),
        ({"status": "ended", "timelog": [{"status": "answered"}]}, "answered"),
        ({"status": "ended", "timelog": [{"status": "ringing"}]}, "unanswered"),
        ({"status": "Rejected"}, "unanswered"),
        ({"status": "queued"}, "unknown"),
        ({}, "unknown"),
    ],
)
def test_what_each_status_means(call: dict[str, Any], outcome: str) -> None:
    assert outcome_of(call) == outcome


def test_every_status_of_the_sdk_is_in_the_table() -> None:
    sdk = "initiated ringing answered ended not-answered missed rejected failed abandoned incoming verified"
    assert set(sdk.split()) <= set(STATUSES)


def test_placing_is_never_resent_and_ending_may_be() -> None:
    assert not place_call_request(SipCall.build(**BASE)).resendable
    end = end_call_request("call-1")
    assert end.resendable and end.json == {"callId": "call-1"}


def test_an_answer_without_a_call_id_is_an_error_naming_the_endpoint() -> None:
    assert call_from_answer({"data": {"callId": "c-1", "status": "ringing"}}, "GET x")["id"] == "c-1"
    with pytest.raises(VideoSDKError, match=r"GET x: .*no 'id'"):
        call_from_answer({"data": {"status": "ringing"}}, "GET x")


def page(data: list[dict[str, Any]], fmt: str, number: int, last: int) -> Any:
    if fmt == "bare":
        return data
    if fmt == "pageInfo":
        return {"data": data, "pageInfo": {"currentPage": number, "perPage": 1, "lastPage": last, "total": last}}
    return {"data": data, "pagination": {"page": number, "perPage": 1, "totalPages": last, "total": last}}


@pytest.mark.parametrize("fmt", ["pageInfo", "pagination"])
def test_every_page_is_read_in_either_paged_format(fmt: str) -> None:
    listing = CallListing("room-1")
    pages = [[{"id": "c-1"}], [{"callId": "c-2"}], [{"id": "c-3"}]]
    for number, data in enumerate(pages, start=1):
        assert listing.request().params["page"] == number
        done = listing.feed(page(data, fmt, number, len(pages)))
        assert done == (number == len(pages))
    assert [c["id"] for c in listing.calls] == ["c-1", "c-2", "c-3"]


def test_a_bare_list_is_the_only_page_and_old_calls_are_dropped() -> None:
    listing = CallListing("room-1", since=1_800_000_000.0)
    assert listing.request().params["startDate"] == 1_800_000_000_000

    assert listing.feed(
        [{"id": "old", "createdAt": "2020-01-01T00:00:00Z"}, {"id": "new", "createdAt": 1_800_000_001_000}]
    )
    assert [c["id"] for c in listing.calls] == ["new"]


def test_too_many_pages_is_an_error_never_not_found() -> None:
    listing = CallListing("room-1")
    for number in range(1, MAX_CALL_PAGES):
        assert not listing.feed(page([], "pageInfo", number, 99))
    with pytest.raises(VideoSDKError, match="99 pages of calls match"):
        listing.feed(page([], "pageInfo", MAX_CALL_PAGES, 99))


def test_the_call_found_again_is_the_newest_for_that_participant() -> None:
    calls = [
        {"id": "a", "participant": {"id": "p-1"}, "createdAt": "2026-12-01T10:00:00Z"},
        {"id": "b", "participant": {"id": "p-1"}, "createdAt": "2026-12-01T10:05:00Z"},
        {"id": "c", "participant": {"id": "p-2"}, "createdAt": "2026-12-01T10:06:00Z"},
    ]
    assert match_call(calls, "p-1")["id"] == "b"  # type: ignore[index]
    assert match_call(calls, "p-3") is None


def test_a_routing_rule_routes_the_call_instead_of_a_gateway() -> None:
    call = SipCall.build(to="+14155550100", meeting_id="room-1", routing_rule_id="rule-7")

    assert call.body() == {"sipCallTo": "+14155550100", "destinationRoomId": "room-1", "routingRuleId": "rule-7"}


@pytest.mark.parametrize(
    ("route", "got"), [({}, "neither"), ({"gateway_id": "gw-1", "routing_rule_id": "rule-7"}, "gateway_id and")]
)
def test_exactly_one_of_gateway_id_and_routing_rule_id(route: dict[str, str], got: str) -> None:
    with pytest.raises(VideoSDKInputError, match=f"exactly one of gateway_id or routing_rule_id, got {got}"):
        SipCall.build(to="+14155550100", meeting_id="room-1", **route)
    with pytest.raises(VideoSDKInputError, match="call: give exactly one of gateway_id or routing_rule_id"):
        SipCallOperator(task_id="call", to="+14155550100", meeting_id="room-1", **route)
