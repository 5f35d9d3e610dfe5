"""Airflow task retries must not dial a call that an earlier try already placed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.version_compat import HAS_TASK_STATE_STORE

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = [pytest.mark.dags, pytest.mark.matrix]


@pytest.mark.python
@pytest.mark.skipif(not HAS_TASK_STATE_STORE, reason="the task state store arrived in Airflow 3.3")
def test_retry_after_a_placed_call_does_not_dial_again(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    result = run_dag("videosdk_retry_after_call")

    assert result.returncode == 0, result.output[-3000:]
    assert len(videosdk_emulator.calls) == 1
    pid = videosdk_emulator.calls[0]["participantId"]
    assert f"TRY 1 GOT {pid}" in result.output and f"TRY 2 GOT {pid}" in result.output
    assert "already placed on an earlier try" in result.output
    assert result.states()[("call", -1)] == ("success", 2)


def test_redial_on_retry_places_a_new_call_on_every_try(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    result = run_dag("videosdk_retry_redial")

    assert result.returncode == 0, result.output[-3000:]
    assert len(videosdk_emulator.calls) == 2
    first, second = (c["participantId"] for c in videosdk_emulator.calls)
    assert first != second
    assert f"TRY 2 GOT {second}" in result.output
    assert result.states()[("call", -1)] == ("success", 2)


@pytest.mark.skipif(HAS_TASK_STATE_STORE, reason="Airflow 3.3+ remembers the call")
def test_without_a_task_state_store_a_retry_dials_again_and_says_why(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    result = run_dag("videosdk_retry_after_call")

    assert result.returncode == 0, result.output[-3000:]
    assert len(videosdk_emulator.calls) == 2
    assert "no task state store, so whether an earlier try placed the call cannot be known" in result.output
    assert result.states()[("call", -1)] == ("success", 2)


@pytest.mark.parametrize(
    "fault",
    [
        {"truncate": 10, "process": True},
        {"drop": True, "process": True},
        {"status": 502, "process": True},
        {"redirect": "http://127.0.0.1:9/elsewhere", "status": 303, "process": True},
    ],
    ids=["truncated-body", "dropped-after-processing", "502", "303-redirect"],
)
def test_a_fault_that_may_have_placed_the_call_is_not_retried_by_airflow(
    videosdk_emulator: VideoSDKEmulator, run_dag, fault: dict
) -> None:
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", **fault)

    result = run_dag("videosdk_call_with_retries")

    assert len(videosdk_emulator.calls) == 1, result.output[-3000:]
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 1
    assert "VideoSDKOutcomeUnknownError" in result.output
    assert result.states()[("call", -1)] == ("failed", 1)


def test_a_task_timeout_mid_call_never_dials_twice(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    # VideoSDK places the call, then answers only after the task's 3 s execution_timeout.
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", delay=8, process=True)

    result = run_dag("videosdk_timeout_mid_call")

    assert len(videosdk_emulator.calls) == 1, result.output[-3000:]
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 1
    assert result.state("call") == "failed"
    if HAS_TASK_STATE_STORE:
        # The intent was stored before the POST: try 2 looked the participant up instead of dialling.
        assert "began this call" in result.output and "An earlier try may have placed this call" in result.output
        assert result.states()[("call", -1)] == ("failed", 2)
        assert videosdk_emulator.calls[0]["participantId"].startswith("airflow-")
    else:
        # No store to remember the try: the interruption becomes outcome-unknown, which Airflow never retries.
        # (Airflow 3.0's dags test wraps long error lines in a box: look for the two halves.)
        assert "VideoSDKOutcomeUnknownError" in result.output and "interrupted while" in result.output
        assert result.states()[("call", -1)] == ("failed", 1)


@pytest.mark.skipif(not HAS_TASK_STATE_STORE, reason="the task state store arrived in Airflow 3.3")
def test_after_a_task_timeout_mid_call_a_retry_finds_the_answered_call(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.set_answer("+14155550120", 0)  # the callee picks up at once
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", delay=8, process=True)

    result = run_dag("videosdk_timeout_mid_call")

    assert len(videosdk_emulator.calls) == 1, result.output[-3000:]
    assert "Found it: the earlier try placed the call" in result.output
    assert result.states()[("call", -1)] == ("success", 2)


@pytest.mark.skipif(not HAS_TASK_STATE_STORE, reason="the task state store arrived in Airflow 3.3")
def test_when_the_intent_cannot_be_stored_nothing_is_dialled(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    result = run_dag("videosdk_store_write_fails")

    assert videosdk_emulator.calls == [], result.output[-3000:]
    assert "Could not write the call's intent to the task state store, so the call was not placed" in result.output
    assert result.state("call") == "failed"


@pytest.mark.python
def test_with_gzipped_answers_the_call_is_placed_once_and_the_task_succeeds(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.gzip_over = 0  # every answer gzipped, as a web server in front of the API may do

    result = run_dag("videosdk_call_with_retries")

    assert len(videosdk_emulator.calls) == 1, result.output[-3000:]
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 1
    assert result.states()[("call", -1)] == ("success", 1)
