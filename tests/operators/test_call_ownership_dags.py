"""
The call API's promises through ``airflow dags test`` against the emulator: a call is adopted only if
this attempt placed it, a hang-up that meets an answer counts as answered, every wait keeps its
deadline, and an unknown outcome still guards the next call. Each test counts the calls placed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.version_compat import HAS_TASK_STATE_STORE

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = [pytest.mark.dags, pytest.mark.matrix]
PLACE = {"path": "/v2/sip/call", "method": "POST", "exact": True}
MAPPED = ["+14155550170", "+14155550171", "+14155550172"]  # tests/dags/ownership_dags.py
PRIMARY = "+14155550175"
CALL_API_TO = "+14155550190"  # tests/dags/call_api_dags.py
RINGS = "+14155550180"  # tests/dags/call_status_dags.py


def test_finding_1_a_mapped_call_never_adopts_a_siblings_call(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    # Map index 1's POST answers 502 and places nothing; its siblings share its participant id.
    videosdk_emulator.add_fault(**PLACE, status=502, skip=1)
    conn = videosdk_emulator.connection_json({"retry_backoff": 0.01, "reconcile_timeout": 2})

    result = run_dag("videosdk_call_api_mapped", env={"AIRFLOW_CONN_VIDEOSDK_DEFAULT": conn})

    calls = videosdk_emulator.sip_calls
    assert len(calls) == 2, result.output[-3000:]
    states = {index: state for (task, index), (state, _) in result.states().items() if task == "call"}
    unplaced = next(i for i, to in enumerate(MAPPED) if to not in {c["to"] for c in calls})
    assert states[unplaced] == "failed", result.output[-3000:]  # outcome unknown: not green, not retried
    assert sorted(s for i, s in states.items() if i != unplaced) == ["success", "success"]
    assert "VideoSDKOutcomeUnknownError" in result.output
    assert "VideoSDK did place the call" not in result.output


@pytest.mark.parametrize("mode", ["poke", "deferrable"])
def test_finding_2_the_status_sensor_succeeds_when_its_hang_up_meets_an_answer(
    videosdk_emulator: VideoSDKEmulator, run_dag, mode: str
) -> None:
    videosdk_emulator.set_callee(RINGS, "pickup_on_hangup")  # picks up just as the hang-up arrives

    result = run_dag(f"videosdk_call_status_timeout_{mode}")

    (call,) = videosdk_emulator.sip_calls
    (end,) = videosdk_emulator.call_ends
    assert end["statusBefore"] == "ringing"
    assert result.state("wait") == "success", result.output[-3000:]
    assert f"Call {call['id']} was answered as it was hung up" in result.output
    assert "AirflowSensorTimeout" not in result.output


def test_finding_3_skip_if_answered_skips_when_its_hang_up_meets_an_answer(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.set_callee(CALL_API_TO, "pickup_on_hangup")

    result = run_dag("videosdk_call_api_skip_if_answered")

    (primary,) = videosdk_emulator.sip_calls
    assert result.state("call_secondary") == "skipped", result.output[-3000:]
    assert videosdk_emulator.calls == []  # the secondary was not phoned
    assert f"Call {primary['id']} was answered as it was hung up" in result.output


def test_finding_4_a_failing_hang_up_delays_the_next_call_by_its_budget_at_most(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    from airflow_provider_videosdk.hooks.videosdk import HANG_UP_BUDGET

    videosdk_emulator.set_callee(CALL_API_TO, "never")
    videosdk_emulator.add_fault(path="/v2/sip/call/end", method="POST", status=500, times=50)
    conn = videosdk_emulator.connection_json({"retry_backoff": 1})  # the production backoff

    result = run_dag("videosdk_call_api_skip_if_answered", env={"AIRFLOW_CONN_VIDEOSDK_DEFAULT": conn})

    assert result.state("call_secondary") == "success", result.output[-3000:]
    first_end = videosdk_emulator.requests_to("/v2/sip/call/end", "POST")[0].at
    (dial,) = videosdk_emulator.requests_to("/v2/sip/outbound-call", "POST")
    delay = dial.at - first_end
    print(f"MEASURED hang-up to next dial: {delay:.1f}s")
    assert delay < HANG_UP_BUDGET + 3, delay
    assert f"within {HANG_UP_BUDGET:g}s" in result.output and "anyway" in result.output


def test_finding_5_a_slow_status_read_does_not_overrun_the_sensors_timeout(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.set_callee(RINGS, "never")
    videosdk_emulator.add_fault(path="/v2/sip/call/call_", method="GET", delay=25, process=True)

    result = run_dag("videosdk_call_status_timeout_poke")  # answer_timeout 3, poke mode

    (call,) = videosdk_emulator.sip_calls
    first_read = videosdk_emulator.requests_to(f"/v2/sip/call/{call['id']}", "GET")[0].at
    (end,) = videosdk_emulator.call_ends
    took = end["at"] - first_read  # the sensor's first poke to its hang-up, by the emulator's clock
    print(f"MEASURED poke-mode sensor with a 25 s read, timeout 3 s: hung up {took:.1f}s after its first read")
    assert result.state("wait") == "failed", result.output[-3000:]
    assert "AirflowSensorTimeout" in result.output
    assert took < 3 + 5, took  # the timeout, plus a loaded machine's slack


def test_finding_8_an_unknown_primary_still_guards_the_secondary(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    # The primary's POST placed the call but answered 502; the list lags past its window; it answers.
    videosdk_emulator.add_fault(**PLACE, status=502, process=True)
    videosdk_emulator.set_call_api(list_lag=60)
    videosdk_emulator.set_callee(PRIMARY, "answer", after=1.5)
    conn = videosdk_emulator.connection_json({"retry_backoff": 0.01, "reconcile_timeout": 2})

    result = run_dag("videosdk_call_api_unknown_primary", env={"AIRFLOW_CONN_VIDEOSDK_DEFAULT": conn})

    assert result.state("call_primary") == "failed", result.output[-3000:]
    assert [c["to"] for c in videosdk_emulator.sip_calls] == [PRIMARY]
    assert result.state("call_secondary") == "skipped", result.output[-3000:]
    assert "returned no call id; looking its call up by participant" in result.output


def test_finding_9_a_2xx_without_a_call_id_is_reconciled_not_redialled(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.add_fault(**PLACE, status=200, body={"data": {"status": "initiated"}}, process=True)

    result = run_dag("videosdk_call_api_with_retries")  # retries=1

    calls = videosdk_emulator.sip_calls
    assert len(calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("success", 1)
    assert f"VideoSDK did place the call: found call {calls[0]['id']}" in result.output


@pytest.mark.skipif(not HAS_TASK_STATE_STORE, reason="a retry finds the earlier call only with a task state store")
def test_a_retrys_look_up_waits_the_reconcile_window(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    # Try 1 times out (8 s) mid-POST, the call placed; the list shows the call only 11 s after its POST.
    # Try 2 starts looking about 8 s after the POST: about 3 s before the call is listed, and its 7 s
    # window ends about 4 s after (margins a loaded machine needs; a 1 s margin once failed a CI run).
    lag = 11
    videosdk_emulator.add_fault(**PLACE, delay=20, process=True)
    videosdk_emulator.set_call_api(list_lag=lag)
    conn = videosdk_emulator.connection_json({"retry_backoff": 0.01, "reconcile_timeout": 7})

    result = run_dag("videosdk_call_api_retry_looks_up", env={"AIRFLOW_CONN_VIDEOSDK_DEFAULT": conn})

    assert len(videosdk_emulator.sip_calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("success", 2), result.output[-3000:]
    assert "Found it: the earlier try placed the call" in result.output
    (post,) = videosdk_emulator.requests_to("/v2/sip/call", "POST")
    reads = videosdk_emulator.requests_to("/v2/sip/call", "GET")
    assert reads[0].at < post.at + lag <= reads[-1].at  # it looked before the call was listed, and kept looking


@pytest.mark.parametrize(
    "fault",
    [{"body": {"statusCode": 200, "message": "Success"}}, {"raw": "<html>maintenance</html>"}],
    ids=["no-participantId", "not-json"],
)
def test_finding_9_the_seed_apis_2xx_without_an_id_is_never_redialled(
    videosdk_emulator: VideoSDKEmulator, run_dag, fault: dict
) -> None:
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", method="POST", status=200, process=True, **fault)

    result = run_dag("videosdk_call_with_retries")  # SipOutboundCallOperator, retries=1

    assert len(videosdk_emulator.calls) == 1, result.output[-3000:]
    assert result.states()[("call", -1)] == ("failed", 1)  # outcome unknown: Airflow does not retry it
    assert "VideoSDKOutcomeUnknownError" in result.output
