"""Fast tier: the retry and phase policy's decisions, with a fake clock and no network."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from airflow_provider_videosdk._http.config import VideoSDKConfig
from airflow_provider_videosdk._http.outbound_api import outbound_call_request
from airflow_provider_videosdk._http.policy import (
    ApiRequest,
    BodyTooLarge,
    Exchange,
    Phase,
    Progress,
    RawResponse,
    describe,
    failure_phase,
    parse_retry_after,
)
from airflow_provider_videosdk.calls import OutboundCall
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.version_compat import AirflowFailException, AirflowTaskTimeout

POST = outbound_call_request(OutboundCall.build("+14155550100", "On-call", "room", "trunk"))
GET = ApiRequest("GET", "/v2/sessions")
LOG = logging.getLogger("test-policy")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def exchange(request: ApiRequest = POST, **settings: Any) -> tuple[Exchange, Clock]:
    clock = Clock()
    config = VideoSDKConfig(base_url="https://api.example", api_key="k", api_secret="s", token=None, **settings)
    ex = Exchange(request, config, LOG, clock=clock)
    ex.begin()
    return ex, clock


def answer(status: int, body: Any = None, **headers: str) -> RawResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {"message": "m"}).encode()
    return RawResponse(status, {k.replace("_", "-"): v for k, v in headers.items()}, raw)


def sent(flag: bool) -> Progress:
    return Progress(sent=flag)


def test_the_phase_is_what_the_transport_saw_not_the_exception_class() -> None:
    assert failure_phase(Progress()) is Phase.NOT_SENT
    assert failure_phase(Progress(sent=True)) is Phase.SENT


def test_a_success_returns_the_json_object() -> None:
    ex, _ = exchange()
    assert ex.answered(answer(200, {"participantId": "p1"})).answer == {"participantId": "p1"}


@pytest.mark.parametrize("request_", [POST, GET], ids=["POST", "GET"])
def test_a_failure_before_any_byte_left_is_retried_for_every_method(request_: ApiRequest) -> None:
    ex, _ = exchange(request_, retry_backoff=0.5)
    wait = ex.failed(sent(False), ConnectionRefusedError()).retry_in
    assert 0.5 <= wait <= 1.0


@pytest.mark.parametrize(
    "exc", [TimeoutError(), ConnectionResetError(), OSError("ssl"), ValueError("chunked")], ids=type
)
def test_any_failure_after_sending_a_post_is_outcome_unknown_and_not_retried(exc: Exception) -> None:
    ex, _ = exchange()
    with pytest.raises(VideoSDKOutcomeUnknownError, match="The call may or may not have been placed") as err:
        ex.failed(sent(True), exc)
    assert isinstance(err.value, AirflowFailException)


def test_a_failure_after_sending_a_get_is_retried() -> None:
    ex, _ = exchange(GET)
    assert ex.failed(sent(True), ConnectionResetError()).retry_in > 0


def test_a_failure_at_the_deadline_says_no_complete_answer_within_the_timeout() -> None:
    ex, clock = exchange(timeout=2)
    clock.now += 2
    with pytest.raises(VideoSDKOutcomeUnknownError, match="no complete answer within 2s"):
        ex.failed(sent(True), TimeoutError())


def test_an_oversized_answer_is_named() -> None:
    ex, _ = exchange()
    with pytest.raises(VideoSDKOutcomeUnknownError, match="larger than 1048576 bytes"):
        ex.failed(sent(True), BodyTooLarge())


def test_429_is_retried_always_waiting_retry_after() -> None:
    ex, _ = exchange()
    assert ex.answered(answer(429, retry_after="3")).retry_in == 3.0


@pytest.mark.parametrize(("status", "retry_after"), [(503, None), (500, None), (502, "3"), (504, None)])
def test_5xx_on_a_post_is_outcome_unknown_unless_503_says_when_to_come_back(
    status: int, retry_after: str | None
) -> None:
    ex, _ = exchange()
    headers = {"retry_after": retry_after} if retry_after else {}
    with pytest.raises(VideoSDKOutcomeUnknownError, match=f"answered {status}"):
        ex.answered(answer(status, **headers))


def test_503_with_retry_after_on_a_post_is_retried() -> None:
    ex, _ = exchange()
    assert ex.answered(answer(503, retry_after="2")).retry_in == 2.0


def test_5xx_on_a_get_is_retried() -> None:
    ex, _ = exchange(GET)
    assert ex.answered(answer(502)).retry_in > 0


@pytest.mark.parametrize("status", [301, 302, 303, 307])
def test_a_redirect_on_a_post_is_outcome_unknown_with_its_status(status: int) -> None:
    ex, _ = exchange()
    with pytest.raises(VideoSDKOutcomeUnknownError, match=f"answered {status}, a redirect to https://elsewhere") as e:
        ex.answered(answer(status, b"", location="https://elsewhere/x"))
    assert e.value.status == status


def test_a_redirect_on_a_get_is_an_error_not_retried() -> None:
    ex, _ = exchange(GET)
    with pytest.raises(VideoSDKError, match="answered 302") as e:
        ex.answered(answer(302, b""))
    assert not isinstance(e.value, VideoSDKOutcomeUnknownError)


@pytest.mark.parametrize("body", [b"<html>ok</html>", b"[1]", json.dumps({"participantId": ""}).encode()])
def test_a_2xx_without_the_required_key_on_a_post_is_outcome_unknown(body: bytes) -> None:
    ex, _ = exchange()
    with pytest.raises(VideoSDKOutcomeUnknownError, match="answered 200 with"):
        ex.answered(answer(200, body))


def test_4xx_is_an_error_with_status_message_and_a_hint_for_auth() -> None:
    ex, _ = exchange()
    with pytest.raises(VideoSDKError, match=r"answered 401: Token is invalid.*check the connection's API key") as e:
        ex.answered(answer(401, {"message": "Token is invalid or expired"}, x_request_id="req_1"))
    assert (e.value.status, e.value.request_id) == (401, "req_1")
    assert not isinstance(e.value, VideoSDKOutcomeUnknownError)


def test_phone_numbers_in_videosdk_messages_are_masked_unless_the_connection_keeps_them() -> None:
    ex, _ = exchange()
    with pytest.raises(VideoSDKError, match=r"\+\*\*\*\*0100 is not reachable"):
        ex.answered(answer(400, {"message": "+14155550100 is not reachable"}))
    ex, _ = exchange(log_full_numbers=True)
    with pytest.raises(VideoSDKError, match=r"\+14155550100 is not reachable"):
        ex.answered(answer(400, {"message": "+14155550100 is not reachable"}))


def test_attempts_are_bounded() -> None:
    ex, _ = exchange(retry_attempts=2, retry_backoff=0.01)
    assert ex.answered(answer(429)).retry_in > 0
    ex.begin()
    with pytest.raises(VideoSDKError, match=r"answered 429.*gave up after 2 attempts\)$"):
        ex.answered(answer(429))


def test_the_retry_budget_is_a_wall_clock_limit_for_the_whole_call() -> None:
    ex, clock = exchange(timeout=5, retry_max_wait=10, retry_backoff=0.01)
    clock.now += 9.5  # a slow first attempt used most of the budget
    with pytest.raises(VideoSDKError, match=r"gave up after 1 attempt; the next wait would pass the 10s retry budget"):
        ex.answered(answer(429, retry_after="1"))


def test_each_retry_gets_only_what_is_left_of_the_budget() -> None:
    ex, clock = exchange(timeout=5, retry_max_wait=8)
    clock.now += 5
    ex.answered(answer(429, retry_after="1"))
    clock.now += 1
    assert ex.begin()[0] == pytest.approx(2.0)


def test_an_absurd_retry_after_is_capped_at_the_budget_and_gives_up_at_once() -> None:
    ex, _ = exchange(retry_max_wait=60)
    with pytest.raises(VideoSDKError, match=r"the next wait would pass the 60s retry budget \(Retry-After: 999999s\)"):
        ex.answered(answer(429, retry_after="999999"))


@pytest.mark.parametrize("value", ["\u00b2", "-5", "1.5", "soon", "\u0663", ""])
def test_odd_retry_after_values_are_ignored(value: str) -> None:
    assert parse_retry_after(value) is None


def test_retry_after_as_an_http_date_is_never_negative() -> None:
    assert parse_retry_after("Sun, 29 Nov 2026 12:00:10 GMT", now=lambda: 1795953600.0) == 10.0
    assert parse_retry_after("Sun, 29 Nov 2026 12:00:10 GMT", now=lambda: 1795953700.0) == 0.0


def test_an_interruption_while_a_post_is_in_flight_is_outcome_unknown_chained_to_it() -> None:
    ex, _ = exchange()
    interruption = AirflowTaskTimeout("Timeout, PID: 1")
    with pytest.raises(VideoSDKOutcomeUnknownError, match="interrupted while waiting for VideoSDK") as e:
        ex.interrupted(sent(True), interruption, outcome_unknown=True)
    assert e.value.__cause__ is interruption


def test_an_interruption_is_left_alone_before_sending_or_when_a_store_remembers() -> None:
    ex, _ = exchange()
    ex.interrupted(sent(False), KeyboardInterrupt(), outcome_unknown=True)
    ex.interrupted(sent(True), KeyboardInterrupt(), outcome_unknown=False)


def test_describe_names_the_innermost_cause_without_its_message() -> None:
    try:
        try:
            raise ConnectionRefusedError("http://user:secret@host")
        except ConnectionRefusedError as inner:
            raise OSError("outer") from inner
    except OSError as exc:
        assert describe(exc) == "ConnectionRefusedError"
