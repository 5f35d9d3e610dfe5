"""
The incident notifier opened by a deadline alert (Airflow 3.1+) and by an SLA miss (Airflow 2).

Each goes through Airflow's own code for its callback, with Airflow's API unreachable (a port where
nothing listens, as in test_notifier.py): the notifier then phones the first level itself, so the
emulator's calls show that the incident was opened, and opened once.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_1_PLUS, AIRFLOW_V_3_2_PLUS
from tests.incidents.test_notifier import BACKUP, POLICY, PRIMARY, closed_port

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_videosdk.testing import VideoSDKEmulator


@pytest.fixture
def api_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "airflow_api", "host": f"http://127.0.0.1:{closed_port()}", "login": "u", "password": "p"}
    monkeypatch.setenv("AIRFLOW_CONN_AIRFLOW_API_DEFAULT", json.dumps(conn))


# -- deadline alerts (Airflow 3.1+) ----------------------------------------------------------------


def deadline_trigger(dag_id: str) -> Any:
    """
    A DAG's deadline alert, as far as Airflow takes it without a running scheduler and triggerer.

    The DAG processor serializes the DAG; the scheduler decodes the alert, stores its callback when
    the run is created (a JSON column), adds the context when the deadline is missed
    (``Deadline.handle_miss``) and queues a ``CallbackTrigger``, kept with its kwargs in the trigger
    table; the triggerer rebuilds the trigger from that row and runs it. Each step is Airflow's own
    code; only the database rows between them are left out.
    """
    from airflow.models.callback import Callback
    from airflow.models.trigger import Trigger
    from airflow.serialization.decoders import decode_deadline_alert
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.triggers.callback import CallbackTrigger

    if AIRFLOW_V_3_2_PLUS:
        from airflow.sdk import AsyncCallback
    else:
        from airflow.sdk.definitions.deadline import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    from airflow_provider_videosdk.incidents.notifier import IncidentNotifier
    from airflow_provider_videosdk.version_compat import DAG

    alert = DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=30),
        callback=AsyncCallback(
            IncidentNotifier, kwargs={"policy": POLICY.to_dict(), "escalation_dag_id": "db_incident"}
        ),
    )
    dag = DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc), deadline=alert)
    encoded = DagSerialization.to_dict(dag)["dag"]["deadline"][0]
    callback = Callback.create_from_sdk_def(callback_def=decode_deadline_alert(encoded).callback, dag_id=dag_id)
    data = json.loads(json.dumps(callback.data))  # the callback table's JSON column
    context = {  # what Deadline.handle_miss adds: the run (as the REST API shows it) and the deadline
        "dag_run": {"dag_id": dag_id, "dag_run_id": "scheduled__2026-12-02T00:00:00+00:00", "state": "running"},
        "deadline": {"id": "0196d0c6-0000-7000-8000-000000000001", "deadline_time": "2026-12-02T00:30:00+00:00"},
    }
    row = Trigger.from_object(CallbackTrigger(data["path"], {**data["kwargs"], "context": context}))
    return CallbackTrigger(**row.kwargs)


async def run_trigger(trigger: Any) -> list[dict]:
    return [event.payload async for event in trigger.run()]


@pytest.mark.skipif(not AIRFLOW_V_3_1_PLUS, reason="deadline alerts with callbacks arrived in Airflow 3.1")
def test_a_missed_deadline_opens_the_incident_from_the_triggerer(
    videosdk_emulator: VideoSDKEmulator, api_unreachable: None, capfd: pytest.CaptureFixture[str]
) -> None:
    events = asyncio.run(run_trigger(deadline_trigger("nightly_dq")))

    assert [e["state"] for e in events] == ["running", "success"], events
    calls = videosdk_emulator.sip_calls  # the first level, both phones, once each
    assert sorted(c["to"] for c in calls) == sorted([PRIMARY, BACKUP])
    assert all(c["body"]["metadata"]["incident_key"] == "nightly_dq" for c in calls)  # the default key: the DAG id
    assert "Could not open incident nightly_dq through Airflow (" in capfd.readouterr().out


# -- SLA misses (Airflow 2) ------------------------------------------------------------------------

SLA_DAG = """
from datetime import datetime, timedelta, timezone

from airflow.models.dag import DAG
from airflow.operators.empty import EmptyOperator

from airflow_provider_videosdk.incidents.notifier import IncidentNotifier
from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Level

POLICY = EscalationPolicy(levels=[Level(["{primary}", "{backup}"], ring_seconds=20)], gateway_id="trunk_demo")

with DAG(
    "hourly_load",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    sla_miss_callback=IncidentNotifier(policy=POLICY, escalation_dag_id="db_incident"),
):
    EmptyOperator(task_id="load", sla=timedelta(minutes=1))
"""


def sla_check(dag_file: Path) -> None:
    """What the DAG processor does for the scheduler's SLA callback request: ``manage_slas`` calls back."""
    from airflow.callbacks.callback_requests import SlaCallbackRequest
    from airflow.dag_processing.processor import DagFileProcessor
    from airflow.models.dagbag import DagBag

    request = SlaCallbackRequest(full_filepath=str(dag_file), dag_id="hourly_load", processor_subdir=None)
    DagFileProcessor.execute_callbacks(DagBag(str(dag_file), include_examples=False), [request], unit_test_mode=True)


def finished_run(dag_file: Path, hours_ago: int) -> None:
    """A successful run of ``hourly_load`` ``hours_ago`` hours back: the later, missing runs miss their SLA."""
    from airflow.models.dagbag import DagBag
    from airflow.utils import timezone as airflow_tz
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunType

    dag = DagBag(str(dag_file), include_examples=False).get_dag("hourly_load")
    start = airflow_tz.utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours_ago)
    run = dag.create_dagrun(
        run_id=f"scheduled__{start.isoformat()}",
        run_type=DagRunType.SCHEDULED,
        execution_date=start,
        data_interval=(start, start + timedelta(hours=1)),
        state=DagRunState.SUCCESS,
    )
    (ti,) = run.get_task_instances()
    ti.set_state(TaskInstanceState.SUCCESS)


@pytest.mark.skipif(AIRFLOW_V_3_0_PLUS, reason="SLA miss callbacks were removed in Airflow 3 (deadline alerts instead)")
def test_an_sla_miss_opens_the_incident_from_the_dag_processor(
    videosdk_emulator: VideoSDKEmulator,
    api_unreachable: None,
    airflow_db: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dag_file = tmp_path / "hourly_load.py"
    dag_file.write_text(textwrap.dedent(SLA_DAG).format(primary=PRIMARY, backup=BACKUP))
    finished_run(dag_file, hours_ago=3)

    sla_check(dag_file)

    calls = videosdk_emulator.sip_calls  # several missed hours, one callback: the first level, once each
    assert sorted(c["to"] for c in calls) == sorted([PRIMARY, BACKUP])
    assert all(c["body"]["metadata"]["incident_key"] == "hourly_load" for c in calls)
    out = capfd.readouterr().out
    assert "Could not open incident hourly_load through Airflow (" in out
    assert "Failed to send notification" not in out

    sla_check(dag_file)  # the misses are marked notified: the next check does not call back again

    assert len(videosdk_emulator.sip_calls) == 2
