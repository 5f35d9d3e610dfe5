"""A connection host without a scheme, against the plain-HTTP emulator: one attempt, a message that says what to do."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.calls import OutboundCall
from airflow_provider_videosdk.exceptions import VideoSDKError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from tests.helpers import CALL

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

EXPECTED = "answered the TLS handshake in plain HTTP (the connection's host has no scheme: https:// was assumed): is it http://?"


@pytest.fixture
def schemeless(videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch) -> VideoSDKHook:
    """The emulator's connection with its host written as ``127.0.0.1:port`` (no scheme), retries on."""
    conn = json.loads(videosdk_emulator.connection_json({"retry_attempts": 5, "retry_backoff": 0.5}))
    conn["host"] = conn["host"].split("://", 1)[1]
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", json.dumps(conn))
    return VideoSDKHook()


def test_sync_says_https_was_assumed_and_does_not_retry(
    schemeless: VideoSDKHook, videosdk_emulator: VideoSDKEmulator
) -> None:
    started = time.monotonic()
    with pytest.raises(VideoSDKError) as info:
        schemeless.outbound_call(**CALL)
    assert EXPECTED in str(info.value)
    assert str(info.value).endswith(f"write that in the connection's host: {videosdk_emulator.url}")
    assert "gave up after" not in str(info.value)  # one attempt: a retry could not heal it
    assert time.monotonic() - started < 5  # five attempts with a 0.5 s backoff would wait longer
    assert videosdk_emulator.requests == []


def test_async_says_https_was_assumed_and_does_not_retry(
    schemeless: VideoSDKHook, videosdk_emulator: VideoSDKEmulator
) -> None:
    async def place() -> None:
        async with schemeless.async_client() as client:
            await client.outbound_call(OutboundCall.build(**CALL))

    started = time.monotonic()
    with pytest.raises(VideoSDKError) as info:
        asyncio.run(place())
    assert EXPECTED in str(info.value)
    assert "gave up after" not in str(info.value)
    assert time.monotonic() - started < 5
    assert videosdk_emulator.requests == []
