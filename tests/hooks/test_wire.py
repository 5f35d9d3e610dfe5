"""
What reaches the wire and what comes back, over real HTTP through both transports: gzipped answers,
proxies (counting what reached one) and CA bundles from the environment, error excerpts in logs and
trigger events.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk._http.environment import CA_BUNDLE_VARIABLES
from airflow_provider_videosdk.calls import SipCall
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.testing.emulator import RefusingProxy, VideoSDKEmulator
from airflow_provider_videosdk.triggers.sip import SipCallStatusTrigger
from airflow_provider_videosdk.validation import EXCERPT_LENGTH, mask_phone
from tests.helpers import first_event
from tests.hooks.test_call_api_hook import CALL, PLACE, CallApi, posts

if TYPE_CHECKING:
    from collections.abc import Iterator

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJhcGlrZXkiOiJrIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
LEAKY = f"Callee John <john.doe@example.com> refused; token {JWT} for +14155550100; " + "detail " * 120


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No proxy nor CA variable set (in either case) but what the test sets."""
    for name in PROXY_VARIABLES + CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    yield monkeypatch


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
        number = mask_phone("+14155550100")
        assert api_text.startswith(f"Callee John <<redacted>> refused; token <redacted> for {number};")
        assert len(api_text) <= EXCERPT_LENGTH


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest) -> CallApi:
    return CallApi(request.param)


def gzipped(emulator: VideoSDKEmulator) -> list[Any]:
    return [r for r in emulator.requests if r.headers.get("accept-encoding") == "gzip"]


def test_gzipped_answers_are_decoded_calls_placed_read_listed_and_reconciled(
    api: CallApi, videosdk_emulator: VideoSDKEmulator
) -> None:
    videosdk_emulator.gzip_over = 0  # every answer the client offers to take gzipped
    placed = api("place_call", SipCall.build(**CALL))
    for _ in range(12):  # a call list well over 1 KiB
        VideoSDKHook().place_call(SipCall.build(**CALL))
    videosdk_emulator.add_fault(**PLACE, status=502, process=True)
    reconciled = api("place_call", SipCall.build(**CALL))

    assert api("get_call", placed["id"])["id"] == placed["id"]
    listed = api("list_calls", CALL["meeting_id"])
    assert len(json.dumps(listed)) > 1024 and len(listed) == 14
    assert {placed["id"], reconciled["id"]} <= {c["id"] for c in listed}
    assert posts(videosdk_emulator) == 14 and len(videosdk_emulator.sip_calls) == 14
    # Every request offered gzip, and only gzip, on both transports.
    assert len(gzipped(videosdk_emulator)) == len(videosdk_emulator.requests)


@pytest.mark.parametrize("method", ["place_call", "get_call"])
def test_a_gzip_that_inflates_past_the_cap_is_refused_on_both_transports(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, method: str
) -> None:
    call_id = VideoSDKHook().place_call(SipCall.build(**CALL))["id"]
    path = PLACE["path"] if method == "place_call" else f"/v2/sip/call/{call_id}"
    # ~4 KB on the wire, 4 MiB inflated; sent gzipped whatever the client offered.
    videosdk_emulator.add_fault(path=path, exact=True, status=200, body={"data": "0" * (4 << 20)}, gzip=True, times=9)
    conn = videosdk_emulator.connection_json({"retry_backoff": 0.01, "reconcile_timeout": 0})

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", conn)
        with pytest.raises(VideoSDKError, match="the answer was larger than 1048576 bytes") as error:
            api(method, SipCall.build(**CALL) if method == "place_call" else call_id)

    assert isinstance(error.value, VideoSDKOutcomeUnknownError) == (method == "place_call")
    assert posts(videosdk_emulator) == (2 if method == "place_call" else 1)  # a POST is never resent


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_host_is_reached_directly_whatever_the_proxy_variables_say(
    api: CallApi, videosdk_emulator: VideoSDKEmulator, env: pytest.MonkeyPatch, host: str
) -> None:
    conn = videosdk_emulator.connection_json({"retry_backoff": 0.01}).replace("127.0.0.1", host)
    env.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", conn)
    with RefusingProxy() as proxy:
        for name in PROXY_VARIABLES[:3]:
            env.setenv(name, proxy.url)
            env.setenv(name.lower(), proxy.url)
        placed = api("place_call", SipCall.build(**CALL))
        assert api("get_call", placed["id"])["id"] == placed["id"]

    assert proxy.connections == 0 and proxy.headers == []  # the Authorization header never reached it
    assert posts(videosdk_emulator) == 1 and len(videosdk_emulator.sip_calls) == 1


@pytest.mark.parametrize(
    ("status", "via", "who"),
    [
        (407, None, "a proxy answered 407"),
        (403, "1.1 corp-proxy", "VideoSDK or a proxy (Via: 1.1 corp-proxy) answered 403"),
    ],
    ids=["407", "403-via"],
)
def test_an_answer_from_a_proxy_says_so_instead_of_blaming_the_api_key(
    api: CallApi, env: pytest.MonkeyPatch, status: int, via: str | None, who: str
) -> None:
    conn = {"conn_type": "videosdk", "login": "k", "password": "s" * 32, "host": "http://api.videosdk.invalid"}
    conn["extra"] = {"allow_insecure_http": True}  # a plain-http request is what a proxy answers itself
    env.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", json.dumps(conn))
    with RefusingProxy(status=status, via=via) as proxy:
        env.setenv("HTTP_PROXY", proxy.url)
        with pytest.raises(VideoSDKError) as error:
            api("get_call", "call-1")

    text = str(error.value)
    assert who in text and "check HTTPS_PROXY, HTTP_PROXY" in text, text
    assert "check the connection's API key" not in text
    assert proxy.requests == ["GET http://api.videosdk.invalid/v2/sip/call/call-1 HTTP/1.1"]  # one, not retried


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_both_transports_trust_the_ca_bundle_the_environment_names(
    api: CallApi, env: pytest.MonkeyPatch, variable: str
) -> None:
    with VideoSDKEmulator(tls=True) as emulator:
        assert emulator.ca_file is not None
        env.setenv(variable, emulator.ca_file)
        env.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", emulator.connection_json({"retry_backoff": 0.01}))
        placed = api("place_call", SipCall.build(**CALL))

        assert [c["id"] for c in emulator.sip_calls] == [placed["id"]]
