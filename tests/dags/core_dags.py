"""DAGs the core tests run through ``airflow dags test`` against the emulator."""

from __future__ import annotations

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, task
else:
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")

with DAG(
    "videosdk_templated_call",
    schedule=None,
    start_date=START,
    params={"oncall": "+14155550100", "trunk": "trunk_demo"},
):

    @task
    def open_meeting() -> str:
        return "war-room-1"

    call = SipOutboundCallOperator(
        task_id="call",
        to="{{ params.oncall }}",
        display_name="{{ dag.dag_id }} on-call",
        meeting_id=open_meeting(),
        trunk_id="{{ params.trunk }}",
        from_number="+15550100002",
    )

    @task
    def receive(return_value: str, by_key: str) -> None:
        print(f"RECEIVED return_value={return_value} participant_id={by_key}")

    receive(call.output, call.output["participant_id"])


with DAG("videosdk_mapped_call", schedule=None, start_date=START):
    SipOutboundCallOperator.partial(
        task_id="dial_each",
        display_name="On-call {{ ti.map_index }}",
        meeting_id="war-room-2",
        trunk_id="trunk_demo",
        videosdk_conn_id="videosdk_secondary",
    ).expand(to=["+14155550101", "+14155550102", "sip:+14155550103@sip.example.com"])

    custom = SipOutboundCallOperator(
        task_id="custom_participant",
        to="+14155550104",
        display_name="Manager",
        meeting_id="war-room-2",
        trunk_id="trunk_demo",
        participant_id="manager-{{ ds_nodash }}",
        videosdk_conn_id="videosdk_secondary",
    )
