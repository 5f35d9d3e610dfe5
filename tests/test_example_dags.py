"""The example DAGs import cleanly and run end to end against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import REPO

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

EXAMPLES = REPO / "example_dags"


@pytest.mark.matrix
def test_every_example_dag_imports_without_errors() -> None:
    from airflow.models import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))  # examples of Airflow itself are off (conftest)

    assert bag.import_errors == {}
    assert "example_videosdk_nightly_escalation" in bag.dag_ids
    files_with_dags = {Path(dag.fileloc).name for dag in bag.dags.values()}
    assert files_with_dags == {p.name for p in EXAMPLES.glob("example_*.py")}


@pytest.mark.dags
def test_nightly_escalation_dials_the_oncall_and_announces_the_participant(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    result = run_dag("example_videosdk_nightly_escalation", folder=EXAMPLES)

    assert result.returncode == 0, result.output[-3000:]
    (call,) = videosdk_emulator.calls
    assert call["to"] == "+14155550100" and call["meetingId"] == "incident-room"
    assert call["displayName"].startswith("Nightly check failed 20")
    assert f"On-call dialled into the meeting as participant {call['participantId']}" in result.output
    assert result.state("announce") == "success"
