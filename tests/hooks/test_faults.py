"""
The retry policy under every fault the table of docs/reliability.md names, over real HTTP(S), for both transports.

Each test counts what VideoSDK (the emulator) really did: requests received and calls placed.
A failure before any byte left must be retried (never skip a call that could be placed); after
that, a call is never resent (never phone twice). Every test runs once through the sync hook
(``requests``) and once through the async client the triggerer uses (``httpx``).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk._http.policy import SendWatch
from airflow_provider_videosdk.calls import OutboundCall
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.testing import VideoSDKEmulator
from airflow_provider_videosdk.testing.emulator import RefusingProxy, closed_port
from tests.helpers import CALL, assert_no_secret

if TYPE_CHECKING:
    from collections.abc import Iterator

POST_PATH = "/v2/sip/outbound-call"
SECRET = "a-long-enough-secret-for-hs256-0123456789"


class Api:
    """Places calls and looks participants up through one transport: ``sync`` or ``async``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def call(self, watch: SendWatch | None = None, **hook_kwargs: Any) -> dict[str, Any]:
        hook = VideoSDKHook(**hook_kwargs)
        if self.kind == "sync":
            try:
                return hook.outbound_call(watch=watch, **CALL)
            finally:
                hook.close()

        async def place() -> dict[str, Any]:
            async with hook.async_client() as client:
                return await client.outbound_call(OutboundCall.build(**CALL), watch=watch)

        return asyncio.run(place())

    def find(self, meeting_id: str, participant_id: str) -> dict[str, Any] | None:
        hook = VideoSDKHook()
        if self.kind == "sync":
            return hook.find_participant(meeting_id, participant_id)

        async def find() -> dict[str, Any] | None:
            async with hook.async_client() as client:
                return await client.find_participant(meeting_id, participant_id)

        return asyncio.run(find())


@pytest.fixture(params=["sync", "async"])
def api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Api:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return Api(request.param)


def use(monkeypatch: pytest.MonkeyPatch, emulator: VideoSDKEmulator, *, host: str | None = None, **extra: Any) -> None:
    conn = emulator.connection_json({"retry_backoff": 0.01, **extra})
    if host is not None:  # e.g. a name that is not loopback, so that an environment proxy is used
        conn = conn.replace("127.0.0.1", host)
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", conn)


@pytest.fixture
def tls_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[VideoSDKEmulator]:
    """An HTTPS emulator whose throwaway certificate both transports trust through the environment."""
    with VideoSDKEmulator(tls=True) as emulator:
        assert emulator.ca_file is not None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_file)  # requests
        monkeypatch.setenv("SSL_CERT_FILE", emulator.ca_file)  # httpx
        use(monkeypatch, emulator)
        yield emulator


def posts(emulator: VideoSDKEmulator) -> int:
    return len(emulator.requests_to(POST_PATH))


# -- before any byte left: retried --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(429, "1"), (429, "http-date"), (429, None), (503, "1")],
    ids=["429-seconds", "429-http-date", "429-backoff", "503-with-retry-after"],
)
def test_refusals_that_say_nothing_was_done_are_retried(
    api: Api, videosdk_emulator: VideoSDKEmulator, status: int, retry_after: str | None
) -> None:
    if retry_after == "http-date":
        retry_after = email.utils.formatdate(time.time() + 2, usegmt=True)
    videosdk_emulator.add_fault(status=status, retry_after=retry_after, times=2, path=POST_PATH)

    started = time.monotonic()
    answer = api.call()

    assert posts(videosdk_emulator) == 3
    assert len(videosdk_emulator.calls) == 1
    assert answer["participantId"] == videosdk_emulator.calls[0]["participantId"]
    if retry_after is not None:
        assert time.monotonic() - started >= 1.0  # the waits were honoured


def test_a_refused_connection_is_retried_because_nothing_was_sent(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        json.dumps(
            {
                "conn_type": "videosdk",
                "login": "k",
                "password": SECRET,
                "host": f"http://127.0.0.1:{closed_port()}",
                "extra": {"retry_attempts": 3, "retry_backoff": 0.01},
            }
        ),
    )
    with pytest.raises(VideoSDKError) as err:
        api.call()

    assert "could not connect" in str(err.value) and "gave up after 3 attempts" in str(err.value)
    assert not isinstance(err.value, VideoSDKOutcomeUnknownError)


@pytest.mark.parametrize("tls", ["fail_handshake", "stall_handshake"])
def test_a_tls_handshake_that_fails_or_stalls_is_retried_and_nothing_is_processed(
    api: Api, tls_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch, tls: str
) -> None:
    use(monkeypatch, tls_emulator, retry_attempts=2, timeout=1)
    tls_emulator.add_fault(tls=tls, times=2)

    with pytest.raises(VideoSDKError) as err:
        api.call()

    assert "could not connect" in str(err.value) and "gave up after 2 attempts" in str(err.value)
    assert not isinstance(err.value, VideoSDKOutcomeUnknownError)
    assert tls_emulator.connections == 2
    assert tls_emulator.requests == [] and tls_emulator.calls == []


def test_after_a_failed_handshake_the_retry_places_the_call_once(api: Api, tls_emulator: VideoSDKEmulator) -> None:
    tls_emulator.add_fault(tls="fail_handshake")

    answer = api.call()

    assert tls_emulator.connections == 2
    assert [c["participantId"] for c in tls_emulator.calls] == [answer["participantId"]]


def test_a_proxy_that_refuses_the_tunnel_is_retried_because_nothing_reached_videosdk(
    api: Api, tls_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, tls_emulator, host="api.videosdk.invalid", retry_attempts=3)  # loopback skips proxies
    with RefusingProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with pytest.raises(VideoSDKError) as err:
            api.call()

    assert "could not connect" in str(err.value) and "gave up after 3 attempts" in str(err.value)
    assert not isinstance(err.value, VideoSDKOutcomeUnknownError)
    assert proxy.connections == 3
    assert all(line.startswith("CONNECT ") for line in proxy.requests)
    assert tls_emulator.requests == []


def test_a_proxy_that_is_down_is_retried(
    api: Api, tls_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, tls_emulator, host="api.videosdk.invalid", retry_attempts=2)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{closed_port()}")

    with pytest.raises(VideoSDKError, match="gave up after 2 attempts") as err:
        api.call()

    assert not isinstance(err.value, VideoSDKOutcomeUnknownError)
    assert tls_emulator.requests == []


# -- after the request started to leave: never resent -------------------------------------------


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ({"status": 500, "body": {"error": "upstream said 500"}}, "VideoSDK answered 500: upstream said 500"),
        ({"status": 502}, "VideoSDK answered 502: Injected fault"),
        ({"status": 504}, "VideoSDK answered 504"),
        ({"status": 503}, "VideoSDK answered 503"),
        ({"drop": True}, "the connection failed after sending"),
        ({"truncate": 10}, "the connection failed after sending"),
        (
            {"redirect": "http://127.0.0.1:9/moved", "status": 302},
            "answered 302, a redirect to http://127.0.0.1:9/moved",
        ),
        ({"redirect": "http://127.0.0.1:9/moved", "status": 303}, "answered 303, a redirect"),
        ({"status": 200, "raw": "<html>maintenance</html>"}, "answered 200 with a body that is not a JSON object"),
        ({"status": 200, "body": {"statusCode": 200, "message": "Success"}}, "answered 200 with no participantId"),
        ({"status": 200, "raw": "x" * (1 << 20 + 1)}, "the answer was larger than 1048576 bytes"),
    ],
    ids=[
        "500",
        "502",
        "504",
        "503-without-retry-after",
        "dropped",
        "truncated-body",
        "302",
        "303",
        "html-200",
        "no-participantId",
        "oversized-body",
    ],
)
def test_a_call_that_may_have_been_placed_is_never_resent(
    api: Api, videosdk_emulator: VideoSDKEmulator, fault: dict[str, Any], says: str
) -> None:
    videosdk_emulator.add_fault(path=POST_PATH, process=True, **fault)

    with pytest.raises(VideoSDKOutcomeUnknownError) as err:
        api.call()

    assert posts(videosdk_emulator) == 1
    assert len(videosdk_emulator.calls) == 1  # it really was placed: a resend would ring twice
    message = str(err.value)
    assert says in message
    assert "The call may or may not have been placed" in message
    assert_no_secret(message, videosdk_emulator)


def test_a_tls_error_while_reading_the_answer_is_never_resent(api: Api, tls_emulator: VideoSDKEmulator) -> None:
    tls_emulator.add_fault(tls="corrupt_after_request", process=True)

    with pytest.raises(VideoSDKOutcomeUnknownError, match="the connection failed after sending"):
        api.call()

    assert posts(tls_emulator) == 1 and len(tls_emulator.calls) == 1


def test_a_slow_answer_is_never_resent(
    api: Api, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, videosdk_emulator, timeout=0.5)
    videosdk_emulator.add_fault(path=POST_PATH, delay=1.5, process=True)

    with pytest.raises(VideoSDKOutcomeUnknownError, match=r"no complete answer within 0\.5s"):
        api.call()

    time.sleep(1.2)  # let the slow answer finish: still exactly one call
    assert posts(videosdk_emulator) == 1 and len(videosdk_emulator.calls) == 1


def test_a_trickling_answer_fails_at_the_deadline_not_when_the_server_stops(
    api: Api, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, videosdk_emulator, timeout=1.5)
    videosdk_emulator.add_fault(path=POST_PATH, trickle=0.2, process=True)  # ~80 bytes: 16 s of trickle

    started = time.monotonic()
    with pytest.raises(VideoSDKOutcomeUnknownError, match=r"no complete answer within 1\.5s"):
        api.call()

    assert time.monotonic() - started < 8  # at the 1.5 s deadline, not when the 16 s trickle ends
    assert posts(videosdk_emulator) == 1 and len(videosdk_emulator.calls) == 1


# -- answers that are errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"message": "meetingId is invalid"}, "VideoSDK answered 400: meetingId is invalid"),
        (401, {"msg": "Token is invalid or expired"}, "check the connection's API key and secret"),
        (403, {"statusMessage": "Forbidden"}, "VideoSDK answered 403: Forbidden"),
        (404, {"error": "Trunk not found"}, "VideoSDK answered 404: Trunk not found"),
        (409, {"message": "Conflict"}, "VideoSDK answered 409: Conflict"),
        (400, {"message": "+14155550140 is not reachable"}, "VideoSDK answered 400: +****0140 is not reachable"),
    ],
)
def test_client_errors_are_not_retried_and_carry_status_and_message(
    api: Api, videosdk_emulator: VideoSDKEmulator, status: int, body: dict[str, str], expected: str
) -> None:
    videosdk_emulator.add_fault(status=status, body=body, times=5)

    with pytest.raises(VideoSDKError) as err:
        api.call()

    assert posts(videosdk_emulator) == 1
    assert expected in str(err.value)
    assert err.value.status == status
    assert not isinstance(err.value, VideoSDKOutcomeUnknownError)


def test_retries_stop_at_the_attempt_limit(api: Api, videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.add_fault(status=429, body={"message": "Too many requests"}, times=10)

    with pytest.raises(VideoSDKError, match=r"answered 429: Too many requests .*gave up after 2 attempts"):
        api.call(retry_attempts=2)

    assert posts(videosdk_emulator) == 2 and videosdk_emulator.calls == []


def test_the_retry_budget_is_a_wall_clock_limit_for_the_whole_call(
    api: Api, videosdk_emulator: VideoSDKEmulator
) -> None:
    videosdk_emulator.add_fault(status=429, retry_after="1", times=10)

    started = time.monotonic()
    with pytest.raises(VideoSDKError, match=r"the next wait would pass the 2\.5s retry budget"):
        api.call(retry_max_wait=2.5, retry_attempts=10)

    assert time.monotonic() - started < 6  # 10 attempts, 1 s apart, would take 9 s
    # Attempts start at 0 s, after 1 s and after 2 s at the earliest; a 4th would start past the budget.
    # How many fit depends on how long each took, so only the bound is the provider's.
    assert 1 <= posts(videosdk_emulator) <= 3


@pytest.mark.parametrize("retry_after", ["\u00b2", "-5", "999999999999"])
def test_an_odd_retry_after_does_not_crash(api: Api, videosdk_emulator: VideoSDKEmulator, retry_after: str) -> None:
    videosdk_emulator.add_fault(status=429, retry_after=retry_after, times=1)

    if retry_after.isascii() and retry_after.isdigit():  # absurd: capped at the budget, so it gives up at once
        with pytest.raises(VideoSDKError, match="the next wait would pass the 60s retry budget"):
            api.call()
        assert videosdk_emulator.calls == []
    else:  # unreadable: plain backoff
        api.call()
        assert len(videosdk_emulator.calls) == 1


def test_a_netrc_entry_never_replaces_the_token(
    api: Api, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))

    api.call()

    (request,) = videosdk_emulator.requests
    assert request.headers["authorization"].count(".") == 2  # the JWT, not Basic credentials
    assert "netrc-password" not in json.dumps(request.headers)


# -- reads ---------------------------------------------------------------------------------------


def test_reads_are_retried_after_server_errors_and_drops(api: Api, videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.add_fault(status=502, path="/v2/sessions")
    videosdk_emulator.add_fault(drop=True, path="/v2/sessions")
    videosdk_emulator.add_fault(status=503, path="/v2/sessions")

    assert api.find("room-1", "nobody") is None
    assert len(videosdk_emulator.requests_to("/v2/sessions")) == 4


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ({"data": {"id": "s"}, "pageInfo": {"lastPage": 1}}, "'data' is dict, not a list"),
        ({"data": [], "pageInfo": {"lastPage": "n/a"}}, "'pageInfo.lastPage' is 'n/a'"),
        ({"data": [{"id": "s", "participants": {"p": 1}}]}, "'participants' is dict, not a list"),
    ],
    ids=["data-object", "lastPage-text", "participants-object"],
)
def test_odd_sessions_answers_raise_the_providers_error(
    api: Api, videosdk_emulator: VideoSDKEmulator, body: dict[str, Any], what: str
) -> None:
    videosdk_emulator.add_fault(status=200, body=body, path="/v2/sessions")

    with pytest.raises(VideoSDKError, match="GET /v2/sessions: VideoSDK's answer has an unexpected shape") as err:
        api.find("room-1", "p")

    assert what in str(err.value)


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


def test_a_real_auth_failure_names_the_fix_and_leaks_nothing(
    api: Api, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        videosdk_emulator.connection_json().replace(videosdk_emulator.api_secret, "wrong-secret-0123456789abcdef0123"),
    )
    with pytest.raises(VideoSDKError) as err:
        api.call()

    assert err.value.status == 401
    assert "Token is invalid or expired" in str(err.value)
    assert "check the connection's API key and secret" in str(err.value)
    assert_no_secret(str(err.value), videosdk_emulator)


# -- one deadline from connect to the last byte, headers included ----------------------------------


def test_trickled_headers_are_bounded_by_the_timeout(
    api: Api, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The call is placed, then the status line and headers arrive one byte every 0.2 s (~40 s in all).
    use(monkeypatch, videosdk_emulator, timeout=2)
    videosdk_emulator.add_fault(path=POST_PATH, process=True, trickle_head=0.2)

    started = time.monotonic()
    with pytest.raises(VideoSDKOutcomeUnknownError, match="no complete answer within 2s"):
        api.call()

    assert 1.9 < time.monotonic() - started < 10  # at the 2 s deadline, not when the ~40 s of headers end
    assert len(videosdk_emulator.calls) == 1 and posts(videosdk_emulator) == 1


def test_a_complete_answer_that_arrives_within_the_deadline_is_kept(
    api: Api, videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Headers and body trickle in over about a second: slow, but whole well before the 20 s deadline
    # (a loaded machine stretches the trickle's many short sleeps).
    use(monkeypatch, videosdk_emulator, timeout=20)
    videosdk_emulator.add_fault(path=POST_PATH, process=True, trickle_head=0.004)

    started = time.monotonic()
    answer = api.call()

    assert 0.5 < time.monotonic() - started < 20
    assert [c["participantId"] for c in videosdk_emulator.calls] == [answer["participantId"]]


# -- the send watch: what a caller (the intent store) is told -------------------------------------


def test_the_watch_hears_of_each_attempt_that_left_and_of_each_refusal(
    api: Api, videosdk_emulator: VideoSDKEmulator
) -> None:
    changes: list[bool] = []
    videosdk_emulator.add_fault(path=POST_PATH, status=429, retry_after="0")

    api.call(watch=SendWatch(on_change=changes.append))

    # Attempt 1 left, VideoSDK refused it (429: nothing placed), attempt 2 left and placed the call.
    assert changes == [True, False, True]
    assert len(videosdk_emulator.calls) == 1


def test_the_watch_hears_nothing_when_no_byte_left(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        json.dumps({"conn_type": "videosdk", "login": "k", "password": SECRET, "host": f"http://127.0.0.1:{closed_port()}",
                    "extra": {"retry_backoff": 0.01, "retry_attempts": 2}}),
    )  # fmt: skip
    watch = SendWatch(on_change=lambda value: pytest.fail("nothing left, so nothing may be reported"))

    with pytest.raises(VideoSDKError, match="could not connect"):
        api.call(watch=watch)

    assert watch.may_have_arrived is False


def test_when_the_watch_cannot_record_the_request_is_not_sent(api: Api, videosdk_emulator: VideoSDKEmulator) -> None:
    def cannot_record(value: bool) -> None:
        raise OSError("state store backend unavailable")

    with pytest.raises(VideoSDKError, match="not sent, because recording the request's progress failed") as err:
        api.call(watch=SendWatch(on_change=cannot_record))

    assert not isinstance(err.value, VideoSDKOutcomeUnknownError)
    assert videosdk_emulator.requests == [] and videosdk_emulator.calls == []
