"""
SipCallOperator through ``airflow dags test``: every ambiguous POST ends with exactly one call, and the
task succeeds with that call's id whenever the call can be found. Each test counts the calls placed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.version_compat import HAS_TASK_STATE_STORE

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags
MATRIX = pytest.mark.matrix  # the older Airflows run the first case of each kind
PLACE = {"path": "/v2/sip/call", "method": "POST", "exact": True, "process": True}
CALL_TO = "+14155550190"  # the to of tests/dags/call_api_dags.py


def xcom_line(call: dict[str, Any]) -> str:
    participant = call["participant"]["id"]
    return f"XCOM return_value={call['id']} call_id={call['id']} participant_id={participant}"


@pytest.mark.parametrize(
    ("fault", "lag"),
    [pytest.param({"status": 502}, 0, marks=MATRIX), ({"drop": True}, 0), ({"truncate": 10}, 0), ({"status": 502}, 3)],
    ids=["502", "dropped", "truncated", "502-list-lags-3s"],
)
def test_an_ambiguous_post_is_reconciled_and_the_task_succeeds_with_the_call(
    videosdk_emulator: VideoSDKEmulator, run_dag, fault: dict[str, Any], lag: float
) -> None:
    videosdk_emulator.set_call_api(list_lag=lag)
    videosdk_emulator.add_fault(**PLACE, **fault)

    result = run_dag("videosdk_call_api_with_retries")

    calls = videosdk_emulator.sip_calls
    assert len(calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("success", 1)
    assert f"VideoSDK did place the call: found call {calls[0]['id']}" in result.output
    assert xcom_line(calls[0]) in result.output
    assert len(videosdk_emulator.requests_to("/v2/sip/call", "POST")) == 1


def test_a_call_that_does_not_appear_within_the_window_is_outcome_unknown(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.set_call_api(list_lag=30)
    videosdk_emulator.add_fault(**PLACE, status=502)
    conn = videosdk_emulator.connection_json({"retry_backoff": 0.01, "reconcile_timeout": 2})

    result = run_dag("videosdk_call_api_with_retries", env={"AIRFLOW_CONN_VIDEOSDK_DEFAULT": conn})

    assert len(videosdk_emulator.sip_calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("failed", 1)  # not retried by Airflow
    assert "VideoSDKOutcomeUnknownError" in result.output
    assert "appeared in meeting call-api-room's calls within 2s" in result.output


@MATRIX
def test_a_task_timeout_mid_call_never_dials_twice(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    videosdk_emulator.add_fault(**PLACE, delay=8)

    result = run_dag("videosdk_call_api_timeout_mid_call")

    calls = videosdk_emulator.sip_calls
    assert len(calls) == 1, result.output[-3000:]
    if HAS_TASK_STATE_STORE:
        # The intent said "sending": try 2 found the call in the meeting's calls instead of dialling.
        assert result.states()[("call", -1)] == ("success", 2)
        assert "Found it: the earlier try placed the call" in result.output
        assert xcom_line(calls[0]) in result.output
    else:
        assert result.states()[("call", -1)] == ("failed", 1)
        assert "interrupted while waiting for VideoSDK" in result.output


def test_a_refused_post_lets_the_retry_dial_once(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    # A 4xx certainly placed nothing: try 1 fails, try 2 dials and succeeds.
    videosdk_emulator.add_fault(path="/v2/sip/call", method="POST", exact=True, status=409)

    result = run_dag("videosdk_call_api_with_retries")

    calls = videosdk_emulator.sip_calls
    assert len(calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("success", 2)
    assert xcom_line(calls[0]) in result.output


@pytest.mark.parametrize("answers", [True, False], ids=["primary-answered", "primary-still-ringing"])
def test_skip_if_answered_reads_the_earlier_calls_status(
    videosdk_emulator: VideoSDKEmulator, run_dag, answers: bool
) -> None:
    videosdk_emulator.set_callee(CALL_TO, "answer" if answers else "never", after=0.5 if answers else None)

    result = run_dag("videosdk_call_api_skip_if_answered")

    (primary,) = videosdk_emulator.sip_calls
    if answers:
        assert result.state("call_secondary") == "skipped", result.output[-3000:]
        assert videosdk_emulator.calls == []
        assert f"Call {primary['id']} was already answered (status answered)" in result.output
        assert videosdk_emulator.call_ends == []
    else:
        # Still ringing when the next person is phoned: it is hung up first, then the secondary dialled.
        assert result.state("call_secondary") == "success", result.output[-3000:]
        assert [c["to"] for c in videosdk_emulator.calls] == ["+14155550191"]
        (end,) = videosdk_emulator.call_ends
        assert (end["callId"], end["statusBefore"]) == (primary["id"], "ringing")
        assert f"Call {primary['id']} is still ringing: hanging it up before phoning the next person" in result.output


@pytest.mark.parametrize("fault", [None, {"status": 502}], ids=["answered", "502-reconciled"])
def test_with_gzipped_answers_the_call_is_placed_once_and_found_again(
    videosdk_emulator: VideoSDKEmulator, run_dag, fault: dict[str, Any] | None
) -> None:
    videosdk_emulator.gzip_over = 0  # every answer gzipped: the POST's, and the call list reconciliation reads
    if fault is not None:
        videosdk_emulator.add_fault(**PLACE, **fault)

    result = run_dag("videosdk_call_api_with_retries")

    calls = videosdk_emulator.sip_calls
    assert len(calls) == 1, result.output[-3000:]
    assert len(videosdk_emulator.requests_to("/v2/sip/call", "POST")) == 1
    assert result.states()[("call", -1)] == ("success", 1)
    assert xcom_line(calls[0]) in result.output
    assert (f"VideoSDK did place the call: found call {calls[0]['id']}" in result.output) == (fault is not None)
