"""
Escalation on the call API: ring the primary; the moment the call ends unanswered, phone the secondary.

``SipCallOperator`` places each call through ``POST /v2/sip/call`` and returns its call id;
``SipCallStatusSensor`` follows the call's status in the triggerer. When the primary rejects
the call, the number fails, or it rings out (``ringing_timeout``, 30 s by default), the sensor
fails at once, without retries, and ``call_secondary`` (``trigger_rule="one_failed"``) phones
the secondary right away, not after a fixed timeout. As soon as someone answers, the rest of
the chain is skipped. Should a sensor's own ``answer_timeout`` pass first, it hangs its call up
before failing, so the primary's phone stops ringing as the secondary's starts.

Numbers, gateway and timeouts come from params, e.g.
``airflow dags test example_videosdk_call_status_chain -c '{"ringing_timeout": 10}'``.
A voicemail pickup counts as answered (carriers answer for voicemail): keep a human
acknowledgement step after the chain if that matters.
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
from airflow_provider_videosdk.operators.sip import SipCallOperator
from airflow_provider_videosdk.sensors.sip import SipCallStatusSensor

POKE_INTERVAL = 2  # seconds between status look-ups: a final status is seen at the next one, then the next is phoned

with DAG(
    "example_videosdk_call_status_chain",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "primary": Param("+14155550101", type="string", description="Primary on-call, E.164 or SIP URI"),
        "secondary": Param(
            "+14155550102", type="string", description="Secondary on-call, phoned if the primary doesn't answer"
        ),
        "gateway_id": Param("trunk_demo", type="string", description="VideoSDK outbound gateway (SIP trunk)"),
        "ringing_timeout": Param(
            30, type="integer", minimum=1, maximum=300, description="Seconds each phone rings before `not-answered`"
        ),
        "answer_timeout": Param(
            90, type="integer", minimum=1, description="Seconds a sensor waits at most, then hangs up and fails"
        ),
    },
    tags=["example", "videosdk"],
    doc_md=__doc__,
):
    # Idempotent on the custom ID: a retry finds the same room instead of opening another.
    # [START howto_operator_videosdk_create_room]
    room = VideoSDKCreateRoomOperator(task_id="create_room", custom_room_id="{{ dag.dag_id }}-{{ run_id }}")
    # [END howto_operator_videosdk_create_room]
    call = {
        "display_name": "{{ dag.dag_id }}: incident",
        "meeting_id": room.output,
        "gateway_id": "{{ params.gateway_id }}",
        "ringing_timeout": "{{ params.ringing_timeout }}",
    }
    wait = {
        "answer_timeout": "{{ params.answer_timeout }}",
        "poke_interval": POKE_INTERVAL,
        "deferrable": True,
        # "Not answered" fails without retries; one retry covers other failures (an API outage).
        "retries": 1,
        "retry_delay": timedelta(seconds=POKE_INTERVAL),
    }

    # [START howto_operator_sip_call]
    call_primary = SipCallOperator(task_id="call_primary", to="{{ params.primary }}", **call)
    # [END howto_operator_sip_call]
    # [START howto_sensor_sip_call_status]
    wait_primary = SipCallStatusSensor(task_id="wait_primary", call_id=call_primary.output, **wait)
    # [END howto_sensor_sip_call_status]

    # Runs only when the primary did not answer (rejected, failed, rang out, or could not be
    # phoned); skipped as soon as the primary answers. Right before dialling it checks the
    # primary's call once more: answered after all, it is skipped; still ringing, it is hung up.
    # [START howto_operator_sip_call_skip_if_answered]
    call_secondary = SipCallOperator(
        task_id="call_secondary",
        to="{{ params.secondary }}",
        trigger_rule="one_failed",
        skip_if_answered=[call_primary.output],
        **call,
    )
    # [END howto_operator_sip_call_skip_if_answered]
    wait_secondary = SipCallStatusSensor(task_id="wait_secondary", call_id=call_secondary.output, **wait)

    wait_primary >> call_secondary
