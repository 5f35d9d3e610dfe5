"""Fast tier: input validation and masking, no I/O."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_videosdk.calls import CALL_FIELDS, OutboundCall
from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.validation import (
    clean_callee,
    clean_e164,
    clean_id,
    clean_int,
    clean_seconds,
    clean_text,
    clean_time,
    mask_numbers,
    mask_phone,
)

GOOD_SIP = [
    "sip:+14155550100@sip.example.com",
    "sips:bob@pbx.example.com:5061",
    "sip:alice@10.0.0.7;transport=tcp",
    "sip:alice@[2001:db8::1]:5060;transport=udp;lr",
    "sip:user%20name@example.com",
]
BAD_SIP = [
    "sip:+14155550100@sip.example.com?X-Header=1",  # URI headers
    "sip:a@b>,<sip:c@d",  # a second URI
    "<sip:a@b>",
    "sip:a,b@example.com",
    "sip:a@b.example.com,sip:c@d.example.com",
    "sip:alice:secret@example.com",  # a password
    "sip:+1415 5550100@sip.example.com",
    "sip:+14155550100@",
    "sip:@sip.example.com",
    "sip:a@-bad-.example.com",
    "sip:a@example.com;x=\u00e9",
]


@pytest.mark.parametrize("uri", GOOD_SIP)
def test_sip_uris_with_user_host_port_and_params_are_accepted(uri: str) -> None:
    assert clean_callee("to", uri) == uri


@pytest.mark.parametrize("uri", BAD_SIP)
def test_sip_uris_that_could_carry_more_than_one_callee_are_refused(uri: str) -> None:
    with pytest.raises(VideoSDKInputError, match=r"^to must be (an E.164 number .*, or )?a SIP URI such as sip:"):
        clean_callee("to", uri)


@pytest.mark.parametrize("number", ["+14155550100", "+442071838750"])
def test_e164_numbers_are_accepted(number: str) -> None:
    assert clean_callee("to", f"  {number} ") == number


ARABIC_INDIC_DIGITS = "+\u0661\u0664\u0661\u0665\u0665\u0665\u0665"


@pytest.mark.parametrize("number", ["14155550100", "+12345", "+1234567890123456", ARABIC_INDIC_DIGITS])
def test_numbers_that_are_not_ascii_e164_are_refused(number: str) -> None:
    with pytest.raises(VideoSDKInputError, match=r"to must be an E\.164 number"):
        clean_callee("to", number)


@pytest.mark.parametrize("value", [None, "None", "null", " NULL ", "", "  "])
@pytest.mark.parametrize("clean", [clean_id, clean_callee, clean_e164])
def test_a_value_that_rendered_to_nothing_is_refused_as_such_not_masked(clean: Any, value: str | None) -> None:
    message = f"meeting_id rendered to nothing ({value!r}): did an XCom or param return None?"
    with pytest.raises(VideoSDKInputError, match=re.escape(message)):
        clean("meeting_id", value)


@pytest.mark.parametrize("value", ["{{ params.m }}", "room-{{ run_id }}", "{% if x %}a{% endif %}"])
def test_unrendered_template_text_is_refused(value: str) -> None:
    with pytest.raises(VideoSDKInputError, match="meeting_id still holds template text"):
        clean_id("meeting_id", value)


def test_empty_rendering_is_refused_naming_the_field() -> None:
    with pytest.raises(VideoSDKInputError, match=r"trunk_id rendered to nothing \('  '\)"):
        OutboundCall.build("+14155550100", "On-call", "room", "  ")


def test_control_characters_are_refused_in_every_text_field() -> None:
    with pytest.raises(VideoSDKInputError, match="display_name must not contain control characters"):
        OutboundCall.build("+14155550100", "On\r\nX-Injected: 1", "room", "trunk")


def test_the_outbound_call_body_leaves_out_unset_fields() -> None:
    call = OutboundCall.build(" +14155550100", "On-call", "room-1", "trunk-1")
    assert call.body() == {"to": "+14155550100", "displayName": "On-call", "meetingId": "room-1", "trunkId": "trunk-1"}
    full = OutboundCall.build("+14155550100", "On-call", "room-1", "trunk-1", "+15550100001", "p-1")
    assert full.body()["from"] == "+15550100001" and full.body()["participantId"] == "p-1"
    assert CALL_FIELDS == ("to", "display_name", "meeting_id", "trunk_id", "from_number", "participant_id")


def test_bounds_name_the_field_and_the_expected_form() -> None:
    with pytest.raises(VideoSDKInputError, match=r"timeout must be > 0 and <= 600 seconds, got 0"):
        clean_seconds("timeout", 0, maximum=600)
    with pytest.raises(VideoSDKInputError, match=r"retry_attempts must be an integer from 1 to 20, got '\u0663'"):
        clean_int("retry_attempts", "\u0663", minimum=1, maximum=20)
    with pytest.raises(VideoSDKInputError, match="display_name must be at most 128 characters, got 129"):
        clean_text("display_name", "x" * 129, max_length=128)


def test_times_are_read_from_iso_text_numbers_and_datetimes() -> None:
    from datetime import datetime, timezone

    expected = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc).timestamp()
    assert clean_time("answered_after", "2026-11-29T12:00:00Z") == expected
    assert clean_time("answered_after", str(expected)) == expected
    assert clean_time("answered_after", datetime(2026, 11, 29, 12, 0)) == expected
    with pytest.raises(VideoSDKInputError, match="answered_after must be a time"):
        clean_time("answered_after", "yesterday")


def test_phone_numbers_are_masked_in_free_text_unless_kept() -> None:
    text = "Callee +14155550100 is busy; sip:+14155550199@sip.example.com rejected"
    assert mask_numbers(text) == "Callee +****0100 is busy; sip:+****0199@sip.example.com rejected"
    assert mask_numbers(text, keep=True) == text


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155550100", "+****0100"),
        ("+1234567", "+****7"),  # a short number: at least 6 digits stay hidden
        ("+447911123456", "+****3456"),
        ("sip:+14155550100@sip.example.com", "sip:+****0100@sip.example.com"),
        ("sip:john.smith@corp.example.com", "sip:****@corp.example.com"),
        ("sips:bob@pbx.example.com:5061;transport=tls", "sips:****@pbx.example.com:5061"),
        ("not a number", "****"),
    ],
)
def test_a_mask_shows_at_most_the_last_four_digits_and_no_sip_user(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


@pytest.mark.parametrize(
    "written",
    ["+14155550100", "+1 415 555 0100", "+1-415-555-0100", "+1 (415) 555-0100", "(415) 555-0100", "415.555.0100"],
)
def test_numbers_are_found_in_text_whatever_their_separators(written: str) -> None:
    masked = mask_numbers(f"Callee {written} is busy.")
    assert masked.startswith("Callee ") and masked.endswith("****0100 is busy.")
    assert "555" not in masked and "415" not in masked


def test_short_figures_and_words_in_text_are_left_alone() -> None:
    text = "HTTP 404: call call_9f3a2b1c not found after 3 attempts (limit 100)"
    assert mask_numbers(text) == text
