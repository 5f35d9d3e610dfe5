"""The emulator's control API answers only a local client that holds its token, JSON only, within size caps."""

from __future__ import annotations

import http.client
import json
import warnings
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.testing import VideoSDKEmulator
from airflow_provider_videosdk.testing.emulator.handlers import MAX_API_BODY, MAX_CONTROL_BODY
from tests.testing.wire import token

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def emulator() -> Iterator[VideoSDKEmulator]:
    with VideoSDKEmulator() as emu:
        yield emu


def raw(
    emu: VideoSDKEmulator,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    declared: int | None = None,
    **headers: str,
) -> tuple[int, Any]:
    """
    One request with exactly ``headers`` (underscores read as dashes) on a fresh connection. With
    ``declared``, only the headers are sent, announcing a body of that many bytes: a server that
    answers from the headers alone answers; one that waits for the body times out.
    """
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        conn.putheader("Content-Length", str(len(body or b"") if declared is None else declared))
        conn.endheaders(body if declared is None else None)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def test_control_requests_without_the_token_are_refused(emulator: VideoSDKEmulator) -> None:
    local = {"Host": f"127.0.0.1:{emulator.port}"}
    assert raw(emulator, "GET", "/_emulator/tokens", **local)[0] == 401
    assert raw(emulator, "GET", "/_emulator/tokens", **local, X_Emulator_Token="guess")[0] == 401
    status, answer = raw(emulator, "GET", "/_emulator/tokens", **local, X_Emulator_Token=emulator.control_token)
    assert (status, answer) == (200, [])


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8765", "127.0.0.1.nip.io", ""])
def test_control_requests_naming_a_foreign_host_are_refused_even_with_the_token(
    emulator: VideoSDKEmulator, host: str
) -> None:
    headers = {"Host": host} if host else {}
    status, answer = raw(emulator, "GET", "/_emulator/tokens", **headers, X_Emulator_Token=emulator.control_token)
    assert status == 403 and "loopback Host" in answer["message"]


@pytest.mark.parametrize("host", ["localhost", "localhost:8765", "127.0.0.1", "[::1]:8765"])
def test_loopback_host_names_are_answered(emulator: VideoSDKEmulator, host: str) -> None:
    assert raw(emulator, "GET", "/_emulator/calls", Host=host, X_Emulator_Token=emulator.control_token)[0] == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_control_posts_that_are_not_json_are_refused(emulator: VideoSDKEmulator, content_type: str | None) -> None:
    headers = {"Host": "127.0.0.1", "X_Emulator_Token": emulator.control_token}
    if content_type:
        headers["Content_Type"] = content_type
    body = json.dumps({"status": 500, "times": 5}).encode()

    status, _ = raw(emulator, "POST", "/_emulator/faults", body, **headers)

    assert status == 415
    assert emulator.state.faults == [], "no fault was queued"


def test_bodies_over_the_cap_are_refused_unread(emulator: VideoSDKEmulator) -> None:
    # Only the headers are sent: the answer comes from Content-Length alone, before any byte of the body
    # (sending the body too would race the server's close: the client may see a broken pipe instead).
    local = {"Host": "127.0.0.1", "Content_Type": "application/json"}
    auth = token(emulator)
    status, answer = raw(emulator, "POST", "/v2/sip/call", declared=MAX_API_BODY + 1, **local, Authorization=auth)
    assert status == 413 and f"over {MAX_API_BODY} bytes" in answer["message"]
    assert emulator.requests == [] and emulator.sip_calls == []
    control = {"X_Emulator_Token": emulator.control_token}
    status, _ = raw(emulator, "POST", "/_emulator/faults", declared=MAX_CONTROL_BODY + 1, **local, **control)
    assert status == 413
    assert emulator.state.faults == []


def test_the_client_and_the_fixture_carry_the_token(videosdk_emulator: VideoSDKEmulator) -> None:
    from airflow_provider_videosdk.testing import EmulatorClient

    EmulatorClient(videosdk_emulator.url).add_fault(path="/v2/rooms", status=503)  # the fixture's token, from the env
    assert len(videosdk_emulator.state.faults) == 1
    with pytest.raises(OSError, match="401"):
        EmulatorClient(videosdk_emulator.url, token="not-the-token").calls()


def test_binding_anything_but_loopback_warns() -> None:
    with pytest.warns(UserWarning, match="binds '0.0.0.0', not a loopback address"):
        VideoSDKEmulator(host="0.0.0.0").stop()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VideoSDKEmulator(host="127.0.0.1").stop()
