"""
The incident notifier when Airflow's API cannot open the incident: it phones the first level itself.

Real HTTP on 127.0.0.1 both ways: the VideoSDK emulator, and a port where no Airflow listens. Opening
and joining through a real Airflow API server is the e2e's storm check (e2e/incidents.py).
"""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.incidents.keys import first_call_ids, incident_run_id
from airflow_provider_videosdk.incidents.notifier import IncidentNotifier
from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Level

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

PRIMARY, BACKUP, SECONDARY = "+14155550701", "+14155550703", "+14155550702"
SECRET = "api-password-8d1f"
POLICY = EscalationPolicy(levels=[Level([PRIMARY, BACKUP], ring_seconds=20), Level(SECONDARY)], gateway_id="trunk_demo")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once the socket is closed


def context(dag_id: str = "nightly_dq") -> dict:
    """A failure callback's context: the DAG, its run and the failed task."""
    from datetime import datetime, timezone

    from airflow_provider_videosdk.version_compat import DAG

    return {
        "dag": DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)),
        "dag_run": SimpleNamespace(dag_id=dag_id, run_id="scheduled__2026-12-02"),
        "ti": SimpleNamespace(task_id="check_rows"),
    }


def test_airflow_unreachable_phones_the_first_level_directly_and_says_why(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    conn = {"conn_type": "airflow_api", "host": f"http://127.0.0.1:{closed_port()}", "login": "u", "password": SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_AIRFLOW_API_DEFAULT", json.dumps(conn))
    notifier = IncidentNotifier(policy=POLICY, escalation_dag_id="db_incident", incident_key="db-down")

    notifier.notify(context())

    calls = videosdk_emulator.sip_calls
    assert sorted(c["to"] for c in calls) == sorted([PRIMARY, BACKUP])  # the first level, both phones, once
    assert all(c["body"]["ringingTimeout"] == 20 for c in calls)
    room = videosdk_emulator.rooms  # one meeting, named like the run the escalation would have had
    assert [r.get("customRoomId") for r in room.values()] == [incident_run_id("db-down", calls[0]["placedAt"])]
    # Identified as the escalation run's first-level task looks for them: it adopts them, never dials again.
    run_id = room[next(iter(room))]["customRoomId"]
    for index, callee in enumerate([PRIMARY, BACKUP]):
        (sent,) = (c for c in calls if c["to"] == callee)
        participant_id, attempt = first_call_ids(run_id, index)
        assert sent["body"]["participant"]["id"] == participant_id
        assert sent["body"]["metadata"]["airflowAttempt"] == attempt
    text = capfd.readouterr().out
    assert "Could not open incident db-down through Airflow (" in text
    assert "failed 3 times; last: ConnectError" in text and "phoning the first level directly" in text
    assert SECRET not in text


def test_a_missing_connection_is_no_reason_to_lose_the_incident(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_AIRFLOW_API_DEFAULT", raising=False)
    notifier = IncidentNotifier(policy=POLICY, escalation_dag_id="db_incident")

    notifier(context("payments_etl"))  # as Airflow calls it: the default key renders to the DAG id

    assert sorted(c["to"] for c in videosdk_emulator.sip_calls) == sorted([PRIMARY, BACKUP])
    text = capfd.readouterr().out
    assert "Could not open incident payments_etl through Airflow (the airflow_api_default connection" in text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"escalation_dag_id": " "}, "escalation_dag_id rendered to nothing"),
        ({"bucket_seconds": 5}, "bucket_seconds must be an integer from 60 to 604800"),
    ],
)
def test_bad_notifier_arguments_are_refused_when_the_dag_is_parsed(kwargs: dict, message: str) -> None:
    with pytest.raises(Exception, match=message):
        IncidentNotifier(**{"policy": POLICY, "escalation_dag_id": "db_incident", **kwargs})
