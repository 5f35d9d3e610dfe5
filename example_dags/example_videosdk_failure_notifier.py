"""
Phone the on-call engineer into an incident meeting when a task fails.

``SipCallNotifier`` is a notifier: attach it as ``on_failure_callback`` (or ``on_retry_callback``).
Its fields are templated with the failing task's context. On Airflow 3 the same notifier also
serves a deadline alert, run in the triggerer: if a run is not done 30 minutes after it was
queued, the on-call is phoned as well.

Numbers, meeting and trunk come from params, e.g.
``airflow dags test example_videosdk_failure_notifier -c '{"on_call": "+14155550100"}'``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_2_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, Param, task
else:
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

from airflow_provider_videosdk.notifications.sip import SipCallNotifier

CALL = {
    "to": "{{ params.on_call }}",
    "meeting_id": "{{ params.meeting_id }}",
    "trunk_id": "{{ params.trunk_id }}",
}

dag_kwargs: dict[str, Any] = {}
# Deadline alerts, whose async callbacks run in the triggerer. They arrived in Airflow 3.1, but
# 3.1's `airflow dags test` cannot evaluate DAGRUN_QUEUED_AT (the run has no queued_at), so the
# example uses them from 3.2.
if AIRFLOW_V_3_2_PLUS:
    from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

    # [START howto_notifier_sip_call_deadline_alert]
    dag_kwargs["deadline"] = DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=30),
        # A deadline's context has dag_run (a dict) but no dag or ti, and no params: pass values.
        callback=AsyncCallback(
            SipCallNotifier,
            kwargs={
                "to": "+14155550100",
                "display_name": "{{ dag_run.dag_id }} is late",
                "meeting_id": "incident-room",
                "trunk_id": "trunk_demo",
            },
        ),
    )
    # [END howto_notifier_sip_call_deadline_alert]

with DAG(
    "example_videosdk_failure_notifier",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "on_call": Param("+14155550100", type="string", description="On-call number, E.164 or SIP URI"),
        "meeting_id": Param("incident-room", type="string", description="VideoSDK meeting the team waits in"),
        "trunk_id": Param("trunk_demo", type="string", description="VideoSDK SIP trunk (outbound gateway)"),
    },
    tags=["example", "videosdk"],
    doc_md=__doc__,
    **dag_kwargs,
):

    @task
    def extract() -> int:
        return 42

    # [START howto_notifier_sip_call]
    @task(
        on_failure_callback=SipCallNotifier(display_name="{{ dag.dag_id }} failed: {{ ti.task_id }}", **CALL),
    )
    def load(rows: int) -> None:
        raise RuntimeError(f"the warehouse refused {rows} rows")

    # [END howto_notifier_sip_call]

    load(extract())
