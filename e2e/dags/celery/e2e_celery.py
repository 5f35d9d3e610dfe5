"""
DAGs of the production-topology test (``e2e/run_celery.py``: CeleryExecutor, PostgreSQL, two workers,
two triggerers), run by a real scheduler on Airflow 3. Every field comes from the run's ``conf``.

- ``e2e_celery_call``: one call, with retries, for a worker killed mid-call, a scheduler restart and a
  broker restart.
- ``e2e_celery_sip_call``: the same through VideoSDK's call API (``SipCallOperator``), for a worker killed
  mid-call.
- ``e2e_celery_call_after_lookup``: one call that first looks up an earlier callee (``skip_if_answered``),
  so that the test can hold that look-up and take the metadata DB away just before the intent is written.
- ``e2e_celery_answer_sensor``: a deferrable answer sensor, for a triggerer killed while it waits.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_videosdk.operators.sip import SipCallOperator, SipOutboundCallOperator
from airflow_provider_videosdk.sensors.sip import SipCallAnsweredSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
MANY = 40  # runs of one DAG at once: the test starts up to 20 together
CALL_PARAMS = {
    "to": Param("+14155550100", type="string"),
    "meeting_id": Param("e2e-room", type="string"),
}
CALL = {
    "to": "{{ params.to }}",
    "display_name": "On-call",
    "meeting_id": "{{ params.meeting_id }}",
    "trunk_id": "trunk_demo",
    # A try the scheduler cannot hand to the broker fails without running: retries x retry_delay must cover
    # the broker outage to ride out (README, "Running in production"). 3 x 5 s covers scenario 4's 10 s.
    "retries": 3,
    "retry_delay": timedelta(seconds=5),
}

with DAG("e2e_celery_call", schedule=None, start_date=START, catchup=False, params=CALL_PARAMS, max_active_runs=MANY):
    SipOutboundCallOperator(task_id="call", **CALL)

with DAG(
    "e2e_celery_sip_call", schedule=None, start_date=START, catchup=False, params=CALL_PARAMS, max_active_runs=MANY
):
    SipCallOperator(
        task_id="call",
        to="{{ params.to }}",
        display_name="On-call",
        meeting_id="{{ params.meeting_id }}",
        gateway_id="trunk_demo",
        retries=CALL["retries"],
        retry_delay=CALL["retry_delay"],
    )

with DAG(
    "e2e_celery_call_after_lookup",
    schedule=None,
    start_date=START,
    catchup=False,
    params={**CALL_PARAMS, "earlier": Param("nobody-answered", type="string")},
    max_active_runs=MANY,
):
    SipOutboundCallOperator(task_id="call", skip_if_answered=["{{ params.earlier }}"], **CALL)

with DAG(
    "e2e_celery_answer_sensor",
    schedule=None,
    start_date=START,
    catchup=False,
    params={
        "meeting_id": Param("e2e-room", type="string"),
        "participant_id": Param("p-0", type="string"),
        "answer_timeout": Param(30, type="number"),
    },
    max_active_runs=MANY,
):
    SipCallAnsweredSensor(
        task_id="wait",
        meeting_id="{{ params.meeting_id }}",
        participant_id="{{ params.participant_id }}",
        answer_timeout="{{ params.answer_timeout }}",
        poke_interval=2,
        deferrable=True,
    )
