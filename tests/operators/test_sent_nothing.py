"""
A try that sent nothing must never stop the next try from dialling; an escalation that cannot look must
still call; a host with credentials never leaks them. Each test counts the calls the emulator placed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS
from tests.helpers import assert_no_secret

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags
MATRIX = pytest.mark.matrix  # what the older Airflows run too


@MATRIX
@pytest.mark.skipif(
    not AIRFLOW_V_3_0_PLUS,
    reason="Airflow 2.11's dags test lets a task timeout escape the whole run, so no retry follows; "
    "tests/hooks/test_interruption.py proves the same in-process there",
)
def test_a_task_timeout_in_the_backoff_before_a_retry_does_not_block_the_next_try(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    # Try 1: the POST is refused (429, come back in 20 s) and execution_timeout (3 s) fires in that wait.
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", status=429, retry_after="20")

    result = run_dag("videosdk_timeout_in_backoff")

    assert len(videosdk_emulator.calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("success", 2)
    assert "An earlier try may have placed this call" not in result.output
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 2  # the refused one, then the call


@MATRIX
def test_a_connection_that_cannot_be_read_does_not_block_the_next_try(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    result = run_dag("videosdk_connection_unreadable_once")

    assert len(videosdk_emulator.calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("success", 2)
    assert "secrets backend unavailable" in result.output
    assert "An earlier try may have placed this call" not in result.output


@pytest.mark.parametrize(
    ("choice", "calls", "state"),
    [pytest.param("call", 1, "success", marks=MATRIX), ("skip", 0, "skipped"), ("fail", 0, "failed")],
)
def test_skip_if_answered_when_the_look_up_fails(
    videosdk_emulator: VideoSDKEmulator, run_dag, choice: str, calls: int, state: str
) -> None:
    # GET /v2/sessions answers 503 every time; the call API itself works.
    videosdk_emulator.add_fault(path="/v2/sessions", status=503, times=1000)
    conn = videosdk_emulator.connection_json({"retry_backoff": 0.05, "retry_max_wait": 2})

    result = run_dag(f"videosdk_skip_lookup_fails_{choice}", env={"AIRFLOW_CONN_VIDEOSDK_DEFAULT": conn})

    assert len(videosdk_emulator.calls) == calls, result.output[-3000:]
    assert result.state("call_secondary") == state
    assert "Could not tell whether airflow-primary-participant answered" in result.output
    # The look-up was retried as a read, within its budget, before giving up.
    assert len(videosdk_emulator.requests_to("/v2/sessions")) > 1
    if choice == "call":
        assert "phoning +****0120 anyway (skip_if_answered_on_error='call'" in result.output


def test_credentials_in_the_host_are_refused_and_never_echoed(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    host = videosdk_emulator.url.replace("http://", "http://ops-user:hunter2-pass@")
    conn = videosdk_emulator.connection_json().replace(videosdk_emulator.url, host)

    result = run_dag("videosdk_call_with_retries", env={"AIRFLOW_CONN_VIDEOSDK_DEFAULT": conn})

    assert videosdk_emulator.calls == [] and videosdk_emulator.requests == []
    assert result.state("call") == "failed"
    assert "host must not hold a user name or password" in result.output
    assert "hunter2-pass" not in result.output and "ops-user" not in result.output
    assert_no_secret(result.output, videosdk_emulator)


@MATRIX
def test_credentials_in_the_host_stay_out_of_test_connection_and_the_triggers_error(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.triggers.sip import SipCallAnsweredTrigger
    from tests.helpers import first_event

    for host in (
        videosdk_emulator.url.replace("http://", "http://ops-user:hunter2-pass@"),
        videosdk_emulator.url.replace("http://", "ftp://ops-user:hunter2-pass@"),
        "ops-user:hunter2-pass@127.0.0.1",
    ):
        monkeypatch.setenv(
            "AIRFLOW_CONN_VIDEOSDK_DEFAULT", videosdk_emulator.connection_json().replace(videosdk_emulator.url, host)
        )
        ok, message = VideoSDKHook().test_connection()
        trigger = SipCallAnsweredTrigger(meeting_id="room", participant_id="p1", end_time=time.time() + 5)
        event = asyncio.run(first_event(trigger))

        assert not ok and "host must not hold a user name or password" in message, message
        assert event["status"] == "error" and event["input_error"] is True
        for text in (message, event["message"]):
            assert "hunter2-pass" not in text and "ops-user" not in text, text
    assert videosdk_emulator.requests == []
