"""What reaches the wire and what comes back, over real HTTP: error excerpts in logs and trigger events."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from airflow_provider_videosdk.exceptions import VideoSDKError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.triggers.sip import SipCallStatusTrigger
from airflow_provider_videosdk.validation import EXCERPT_LENGTH
from tests.helpers import first_event

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJhcGlrZXkiOiJrIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
LEAKY = f"Callee John <john.doe@example.com> refused; token {JWT} for +14155550100; " + "detail " * 120


def leaked(text: str) -> list[str]:
    return [part for part in ("john.doe@", "eyJ", "4155550100") if part in text]


def test_an_api_error_reaches_the_log_and_the_trigger_event_as_a_short_redacted_excerpt(
    videosdk_emulator: VideoSDKEmulator,
) -> None:
    videosdk_emulator.add_fault(path="/v2/sip/call/call-1", status=400, body={"message": LEAKY}, times=2)
    hook = VideoSDKHook()
    try:
        try:
            hook.get_call("call-1")
        except VideoSDKError as exc:
            raised = str(exc)
    finally:
        hook.close()
    trigger = SipCallStatusTrigger(call_id="call-1", end_time=time.time() + 20, poll_interval=1)
    event = asyncio.run(first_event(trigger))

    assert event["status"] == "error"
    for text in (raised, event["message"]):
        assert leaked(text) == [], text
        api_text = text.split("VideoSDK answered 400: ", 1)[1].split(" (request id", 1)[0]
        assert api_text.startswith("Callee John <<redacted>> refused; token <redacted> for +1415****100;")
        assert len(api_text) <= EXCERPT_LENGTH
