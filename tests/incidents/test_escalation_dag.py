"""The factory's escalation DAG run through ``airflow dags test`` against the emulator's scripted callees."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.validation import mask_phone
from tests.dags.incident_dags import BACKUP, PRIMARY, SECONDARY

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags
DAG_ID = "videosdk_incident_two_levels"


def states(result) -> dict[str, str | None]:
    return {task: state for (task, _), (state, _) in result.states().items()}


@pytest.mark.python
@pytest.mark.matrix
def test_an_answer_at_level_1_ends_the_escalation(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    videosdk_emulator.set_callee(PRIMARY, "never")  # rings with the backup's phone; the backup answers
    videosdk_emulator.set_callee(BACKUP, "answer", after=1)
    videosdk_emulator.set_callee(SECONDARY, "answer", after=1)  # would answer, but must never be phoned

    result = run_dag(DAG_ID, conf={"incident_key": "db-down"})

    tis = states(result)
    assert tis["summary"] == "success", result.output[-4000:]
    assert sorted(c["to"] for c in videosdk_emulator.sip_calls) == sorted([PRIMARY, BACKUP])
    assert tis["round_1_primary.answered"] == "success"
    assert all(tis[t] == "skipped" for t in tis if not t.startswith(("round_1_primary", "open", "summary"))), tis
    assert f"Incident db-down: acknowledged by {mask_phone(BACKUP)} (answered at round_1_primary)" in result.output
    assert "2 call(s) placed:" in result.output


@pytest.mark.matrix
def test_nobody_answers_two_levels_two_rounds_four_calls_then_the_run_fails(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    for callee in (PRIMARY, BACKUP, SECONDARY):
        videosdk_emulator.set_callee(callee, "never")

    result = run_dag(DAG_ID, conf={"incident_key": "disk-full"})

    calls = [c["to"] for c in videosdk_emulator.sip_calls]
    # Level 1 rings two phones together: 2 levels x 2 rounds = 4 level calls, 6 phones rung.
    assert sorted(calls) == sorted([PRIMARY, BACKUP, SECONDARY] * 2), result.output[-4000:]
    assert calls.index(SECONDARY) > max(calls.index(PRIMARY), calls.index(BACKUP))
    tis = states(result)
    assert tis["summary"] == "failed"
    assert "nobody acknowledged incident disk-full" in result.output
    assert [c["status"] for c in videosdk_emulator.sip_calls] == ["not-answered"] * 6
    assert "6 call(s) placed:" in result.output
