"""Fast tier: what goes on the wire and what comes back from it: ids in paths, error excerpts, no I/O."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
from airflow_provider_videosdk.hooks import call_api
from airflow_provider_videosdk.hooks.config import VideoSDKConfig
from airflow_provider_videosdk.hooks.policy import Exchange, RawResponse
from airflow_provider_videosdk.validation import EXCERPT_LENGTH, clean_path_id, excerpt

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJhcGlrZXkiOiJrIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
LEAKY = f"Callee John <john.doe@example.com> refused; token {JWT} for +14155550100; " + "detail " * 120


@pytest.mark.parametrize("value", [".", "..", "a/b", "../x", "a?b=1", "a#b", "a\x00b", "a\rb", "a\u2028b"])
def test_ids_that_would_change_the_url_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(VideoSDKInputError, match=r"^call_id must "):
        call_api.get_call_request(value)
    with pytest.raises(VideoSDKInputError, match=r"^room_id must"):
        clean_path_id("room_id", value)


@pytest.mark.parametrize("value", ["call_7f3a", "...", "a.b", "a b", "a%2Fb", "ü-1"])
def test_other_ids_are_accepted_and_quoted_into_one_path_segment(value: str) -> None:
    path = call_api.get_call_request(value).path
    assert path.startswith("/v2/sip/call/") and "/" not in path.removeprefix("/v2/sip/call/")


def test_an_excerpt_redacts_tokens_and_addresses_masks_numbers_and_is_short() -> None:
    text = excerpt(LEAKY)

    assert len(text) <= EXCERPT_LENGTH and text.endswith("\u2026")
    assert "john.doe" not in text and "example.com" not in text and "eyJ" not in text and "4155550100" not in text
    assert text.startswith("Callee John <<redacted>> refused; token <redacted> for +1415****100;")
    # Numbers may be kept (log_full_numbers); tokens and addresses never are.
    kept = excerpt(LEAKY, keep_numbers=True)
    assert "+14155550100" in kept and "eyJ" not in kept and "john.doe" not in kept
    assert excerpt("a\n  b\r\n") == "a b"


@pytest.mark.parametrize("where", ["message", "raw body"])
def test_an_api_error_holds_only_the_excerpt(where: str) -> None:
    config = VideoSDKConfig(base_url="https://api.example", api_key="k", api_secret="s", token=None)
    exchange = Exchange(call_api.get_call_request("c1"), config, logging.getLogger("test-wire"))
    exchange.begin()
    body = json.dumps({"message": LEAKY}).encode() if where == "message" else LEAKY.encode()

    with pytest.raises(VideoSDKError) as error:
        exchange.answered(RawResponse(400, {}, body))

    assert error.value.api_message == excerpt(LEAKY)
    assert str(error.value) == f"GET /v2/sip/call/c1: VideoSDK answered 400: {excerpt(LEAKY)}"
