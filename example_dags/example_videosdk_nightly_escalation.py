"""
Nightly data check that phones the on-call engineer into the incident meeting when it fails.

Every night ``nightly_check`` looks for failed rows. When it finds some, the DAG dials the
on-call number (``params.oncall``) into the team's VideoSDK meeting through the SIP trunk, and
``announce`` receives the call's participant ID from XCom, e.g. to post it to the incident channel.
When the check is clean, the call and the announcement are skipped.
"""

from __future__ import annotations

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, Param, task
else:
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param

from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator

with DAG(
    dag_id="example_videosdk_nightly_escalation",
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "videosdk"],
    doc_md=__doc__,
    params={
        "oncall": Param("+14155550100", type="string", description="On-call number, E.164 or SIP URI"),
        "meeting_id": Param("incident-room", type="string", description="VideoSDK meeting the team waits in"),
        "trunk_id": Param("trunk_demo", type="string", description="VideoSDK SIP trunk (outbound gateway)"),
        "failed_rows": Param(42, type="integer", description="Stand-in for the metric the check reads"),
    },
):

    @task.short_circuit
    def nightly_check(params: dict | None = None) -> bool:
        """Return True (go on and call) when the check finds a problem."""
        failed = int((params or {})["failed_rows"])
        print(f"Nightly check: {failed} failed rows")
        return failed > 0

    # [START howto_operator_sip_outbound_call_xcom]
    call_oncall = SipOutboundCallOperator(
        task_id="call_oncall",
        to="{{ params.oncall }}",
        display_name="Nightly check failed {{ ds }}",
        meeting_id="{{ params.meeting_id }}",
        trunk_id="{{ params.trunk_id }}",
        retries=2,
    )

    @task
    def announce(participant_id: str) -> str:
        """Hand the participant ID on, e.g. to an incident channel."""
        print(f"On-call dialled into the meeting as participant {participant_id}")
        return participant_id

    nightly_check() >> call_oncall
    announce(call_oncall.output["participant_id"])
    # [END howto_operator_sip_outbound_call_xcom]
