"""
The retry policy, one test per row of the README's table, against the emulator over real HTTP.

Each test asserts how many requests reached the emulator, how many calls it placed, and what
the user is told.
"""

from __future__ import annotations

import email.utils
import socket
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

CALL = {"to": "+14155550130", "display_name": "On-call", "meeting_id": "war-room", "trunk_id": "trunk_demo"}
POST_PATH = "/v2/sip/outbound-call"


def use_connection(monkeypatch: pytest.MonkeyPatch, emulator: VideoSDKEmulator, **extra: Any) -> VideoSDKHook:
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", emulator.connection_json({"retry_backoff": 0.01, **extra}))
    return VideoSDKHook()


def assert_no_secret(text: str, emulator: VideoSDKEmulator) -> None:
    assert emulator.api_secret not in text
    for token in emulator.tokens:
        assert token not in text


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(429, "1"), (503, "1"), (429, "http-date"), (503, None)],
    ids=["429-seconds", "503-seconds", "429-http-date", "503-backoff"],
)
def test_not_processed_statuses_are_retried_honouring_retry_after(
    videosdk_emulator: VideoSDKEmulator, status: int, retry_after: str | None
) -> None:
    if retry_after == "http-date":
        retry_after = email.utils.formatdate(time.time() + 2, usegmt=True)
    videosdk_emulator.add_fault(status=status, retry_after=retry_after, times=2, path=POST_PATH)
    hook = VideoSDKHook()

    started = time.monotonic()
    answer = hook.outbound_call(**CALL)
    elapsed = time.monotonic() - started

    assert len(videosdk_emulator.requests_to(POST_PATH)) == 3
    assert len(videosdk_emulator.calls) == 1
    assert answer["participantId"] == videosdk_emulator.calls[0]["participantId"]
    if retry_after is None:
        assert elapsed < 1  # backoff from the 0.01 s the fixture's connection sets
    else:
        assert elapsed >= 1.0  # both waits honoured (HTTP dates have 1 s resolution)


def test_retries_are_bounded_by_attempts(videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    videosdk_emulator.add_fault(status=429, body={"message": "Too many requests"}, times=10)
    hook = use_connection(monkeypatch, videosdk_emulator, retry_attempts=3)

    with pytest.raises(VideoSDKError) as info:
        hook.outbound_call(**CALL)

    assert len(videosdk_emulator.requests_to(POST_PATH)) == 3
    assert videosdk_emulator.calls == []
    assert info.value.status == 429
    assert "VideoSDK answered 429: Too many requests" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)
    assert not isinstance(info.value, VideoSDKOutcomeUnknownError)


def test_retries_are_bounded_by_total_wait(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    videosdk_emulator.add_fault(status=503, retry_after="30", times=5)
    hook = use_connection(monkeypatch, videosdk_emulator, retry_max_wait=5)

    started = time.monotonic()
    with pytest.raises(VideoSDKError) as info:
        hook.outbound_call(**CALL)

    assert time.monotonic() - started < 2
    assert len(videosdk_emulator.requests_to(POST_PATH)) == 1
    assert "the next wait would pass the 5s retry budget (Retry-After: 30s)" in str(info.value)


def test_operator_arguments_override_the_connections_retry_settings(
    videosdk_emulator: VideoSDKEmulator,
) -> None:
    videosdk_emulator.add_fault(status=429, times=10)
    hook = VideoSDKHook(retry_attempts=2)

    with pytest.raises(VideoSDKError, match="gave up after 2 attempts"):
        hook.outbound_call(**CALL)
    assert len(videosdk_emulator.requests_to(POST_PATH)) == 2


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_retried_because_nothing_was_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        f'{{"conn_type": "videosdk", "login": "k", "password": "a-long-enough-secret-for-hs256-0123", '
        f'"host": "http://127.0.0.1:{port}", "extra": {{"retry_attempts": 3, "retry_backoff": 0.01}}}}',
    )
    with pytest.raises(VideoSDKError) as info:
        VideoSDKHook().outbound_call(**CALL)

    assert "could not connect" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)
    assert not isinstance(info.value, VideoSDKOutcomeUnknownError)


def test_tls_handshake_failure_is_retried_and_nothing_is_processed(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator speaks plain HTTP: an https:// client fails in the TLS handshake, before sending.
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        videosdk_emulator.connection_json({"retry_attempts": 2, "retry_backoff": 0.01}).replace("http://", "https://"),
    )
    with pytest.raises(VideoSDKError) as info:
        VideoSDKHook().outbound_call(**CALL)

    assert "could not connect" in str(info.value) and "SSLError" in str(info.value)
    assert "gave up after 2 attempts" in str(info.value)
    assert videosdk_emulator.requests == [] and videosdk_emulator.calls == []


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_on_the_call_are_ambiguous_and_never_resent(
    videosdk_emulator: VideoSDKEmulator, status: int
) -> None:
    videosdk_emulator.add_fault(status=status, body={"error": f"upstream said {status}"}, process=True)

    with pytest.raises(VideoSDKOutcomeUnknownError) as info:
        VideoSDKHook().outbound_call(**CALL)

    assert len(videosdk_emulator.requests_to(POST_PATH)) == 1
    assert len(videosdk_emulator.calls) == 1  # it really was placed: resending would ring twice
    message = str(info.value)
    assert f"VideoSDK answered {status}: upstream said {status}" in message
    assert "the call may or may not have been placed" in message.lower()
    assert "(request id req_" in message and info.value.request_id
    assert info.value.status == status
    assert_no_secret(message, videosdk_emulator)


def test_read_timeout_is_ambiguous_and_never_resent(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    videosdk_emulator.add_fault(delay=1.5, process=True)
    hook = use_connection(monkeypatch, videosdk_emulator, timeout=0.5)

    with pytest.raises(VideoSDKOutcomeUnknownError) as info:
        hook.outbound_call(**CALL)

    assert len(videosdk_emulator.requests_to(POST_PATH)) == 1
    assert "no answer within 0.5s" in str(info.value)
    assert "may or may not have been placed" in str(info.value)
    time.sleep(1.2)  # let the slow answer finish: still exactly one call
    assert len(videosdk_emulator.calls) == 1


def test_connection_dropped_after_sending_is_ambiguous(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.add_fault(drop=True, process=True)

    with pytest.raises(VideoSDKOutcomeUnknownError) as info:
        VideoSDKHook().outbound_call(**CALL)

    assert len(videosdk_emulator.requests_to(POST_PATH)) == 1
    assert len(videosdk_emulator.calls) == 1
    assert "the connection failed after sending: RemoteDisconnected" in str(info.value)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 200, "raw": "<html>maintenance</html>"},
        {"status": 200, "body": {"statusCode": 200, "message": "Success"}},
        {"status": 201, "body": ["not", "an", "object"]},
    ],
    ids=["html-body", "no-participantId", "json-list"],
)
def test_success_without_a_participant_id_is_ambiguous(
    videosdk_emulator: VideoSDKEmulator, fault: dict[str, Any]
) -> None:
    videosdk_emulator.add_fault(process=True, **fault)

    with pytest.raises(VideoSDKOutcomeUnknownError) as info:
        VideoSDKHook().outbound_call(**CALL)

    assert len(videosdk_emulator.requests_to(POST_PATH)) == 1
    assert "may or may not have been placed" in str(info.value)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"message": "meetingId is invalid"}, "VideoSDK answered 400: meetingId is invalid"),
        (401, {"msg": "Token is invalid or expired"}, "check the connection's API key and secret"),
        (403, {"statusMessage": "Forbidden"}, "VideoSDK answered 403: Forbidden"),
        (404, {"error": "Trunk not found"}, "VideoSDK answered 404: Trunk not found"),
        (409, {"message": "Conflict"}, "VideoSDK answered 409: Conflict"),
    ],
)
def test_other_client_errors_are_not_retried_and_carry_status_and_message(
    videosdk_emulator: VideoSDKEmulator, status: int, body: dict[str, str], expected: str
) -> None:
    videosdk_emulator.add_fault(status=status, body=body, times=5)

    with pytest.raises(VideoSDKError) as info:
        VideoSDKHook().outbound_call(**CALL)

    assert len(videosdk_emulator.requests_to(POST_PATH)) == 1
    assert expected in str(info.value)
    assert info.value.status == status
    assert not isinstance(info.value, VideoSDKOutcomeUnknownError)


def test_real_auth_failure_from_a_wrong_secret(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        videosdk_emulator.connection_json().replace(videosdk_emulator.api_secret, "wrong-secret-0123456789abcdef0123"),
    )
    with pytest.raises(VideoSDKError) as info:
        VideoSDKHook().outbound_call(**CALL)

    assert info.value.status == 401
    assert "Token is invalid or expired" in str(info.value)
    assert "check the connection's API key and secret" in str(info.value)
    assert_no_secret(str(info.value), videosdk_emulator)


def test_reads_are_retried_on_server_errors_and_dropped_connections(videosdk_emulator: VideoSDKEmulator) -> None:
    hook = VideoSDKHook()
    room = hook.create_room()["roomId"]
    videosdk_emulator.add_fault(status=502, path="/v2/sessions")
    videosdk_emulator.add_fault(drop=True, path="/v2/sessions")

    assert hook.find_participant(room, "nobody") is None
    assert len(videosdk_emulator.requests_to("/v2/sessions")) == 3


def test_room_creation_failure_is_ambiguous_with_its_own_wording(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.add_fault(status=500, path="/v2/rooms")

    with pytest.raises(VideoSDKOutcomeUnknownError, match="The room may or may not have been created"):
        VideoSDKHook().create_room()
    assert len(videosdk_emulator.requests_to("/v2/rooms")) == 1


def test_room_creation_with_a_custom_id_is_idempotent_so_it_is_retried(videosdk_emulator: VideoSDKEmulator) -> None:
    hook = VideoSDKHook()
    videosdk_emulator.add_fault(status=500, path="/v2/rooms", process=True)

    room = hook.create_room(custom_room_id="incident-42")

    assert len(videosdk_emulator.requests_to("/v2/rooms")) == 2
    assert hook.create_room(custom_room_id="incident-42")["roomId"] == room["roomId"]
