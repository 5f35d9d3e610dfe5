"""
Escalation chain: phone the primary on-call; if nobody answers in time, the secondary; then a manager.

Every call joins one fresh meeting. A ``SipCallAnsweredSensor`` waits for each callee to join;
on timeout it fails, which makes the next call (``trigger_rule="one_failed"``) run. As soon as
someone answers, the rest of the chain is skipped. If a call cannot even be placed, its sensor
is ``upstream_failed`` and the chain moves on to the next person just the same.

Two DAGs with the same chain: ``example_videosdk_escalation_chain`` waits on a worker (poke
mode), ``example_videosdk_escalation_chain_deferrable`` waits in the triggerer. Numbers, trunk
and timeouts come from params, e.g.
``airflow dags test example_videosdk_escalation_chain -c '{"answer_timeout": 30}'``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, Param
else:
    from airflow import DAG
    from airflow.models.param import Param

from airflow_provider_videosdk.operators.rooms import VideoSDKCreateRoomOperator
from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator
from airflow_provider_videosdk.sensors.sip import SipCallAnsweredSensor

POKE_INTERVAL = 3  # seconds between "has the callee joined?" checks


def escalation_chain(dag_id: str, *, deferrable: bool) -> DAG:
    with DAG(
        dag_id,
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        params={
            "primary": Param("+14155550101", type="string", description="Primary on-call, E.164 or SIP URI"),
            "secondary": Param(
                "+14155550102", type="string", description="Secondary on-call, phoned if the primary doesn't answer"
            ),
            "manager": Param(
                "+14155550103", type="string", description="Manager, phoned if the secondary doesn't answer"
            ),
            "trunk_id": Param("trunk_demo", type="string", description="VideoSDK SIP trunk (outbound gateway)"),
            "answer_timeout": Param(60, type="integer", minimum=1, description="Seconds each person has to answer"),
        },
        tags=["example", "videosdk"],
        doc_md=__doc__,
    ) as dag:
        # Idempotent on the custom ID: a retry finds the same room instead of opening another.
        room = VideoSDKCreateRoomOperator(task_id="create_room", custom_room_id="{{ dag.dag_id }}-{{ run_id }}")
        call = {
            "display_name": "{{ dag.dag_id }}: incident",
            "meeting_id": room.output,
            "trunk_id": "{{ params.trunk_id }}",
        }
        wait = {
            "meeting_id": room.output,
            "answer_timeout": "{{ params.answer_timeout }}",
            "poke_interval": POKE_INTERVAL,
            "deferrable": deferrable,
            # A sensor can fail for reasons other than "not answered" (Airflow losing a resumed
            # sensor's result, an API outage): one retry looks again, within the same deadline.
            "retries": 1,
            "retry_delay": timedelta(seconds=POKE_INTERVAL),
        }

        # [START howto_operator_sip_outbound_call]
        call_primary = SipOutboundCallOperator(task_id="call_primary", to="{{ params.primary }}", **call)
        # [END howto_operator_sip_outbound_call]
        # [START howto_sensor_sip_call_answered]
        wait_primary = SipCallAnsweredSensor(task_id="wait_primary", participant_id=call_primary.output, **wait)
        # [END howto_sensor_sip_call_answered]

        # Runs only when the primary did not answer (or could not be phoned); skipped otherwise.
        # Right before dialling it checks again: if the primary did answer (a sensor that failed for
        # another reason), it is skipped instead of phoning the secondary.
        # [START howto_operator_sip_outbound_call_skip_if_answered]
        call_secondary = SipOutboundCallOperator(
            task_id="call_secondary",
            to="{{ params.secondary }}",
            trigger_rule="one_failed",
            skip_if_answered=[call_primary.output],
            **call,
        )
        # [END howto_operator_sip_outbound_call_skip_if_answered]
        wait_secondary = SipCallAnsweredSensor(task_id="wait_secondary", participant_id=call_secondary.output, **wait)

        # The end of the line: nobody is left to escalate to, so no wait after this call.
        call_manager = SipOutboundCallOperator(
            task_id="call_manager",
            to="{{ params.manager }}",
            trigger_rule="one_failed",
            skip_if_answered=[call_primary.output, call_secondary.output],
            **call,
        )

        wait_primary >> call_secondary
        wait_secondary >> call_manager
    return dag


escalation = escalation_chain("example_videosdk_escalation_chain", deferrable=False)
escalation_deferrable = escalation_chain("example_videosdk_escalation_chain_deferrable", deferrable=True)
