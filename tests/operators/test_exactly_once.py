"""Airflow task retries must not dial a call that an earlier try already placed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.conftest import airflow_version

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags
HAS_TASK_STATE_STORE = airflow_version() >= (3, 3)


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
