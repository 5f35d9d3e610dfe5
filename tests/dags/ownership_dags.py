"""DAGs for the call API's ownership and deadline tests: mapped calls, an unknown primary, a slow status read."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG
else:
    from airflow import DAG

from airflow_provider_videosdk.operators.sip import SipCallOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
MAPPED = ["+14155550170", "+14155550171", "+14155550172"]
PRIMARY, SECONDARY = "+14155550175", "+14155550176"

# One participant id for every mapped call, as a DAG author may write it: it must not make one
# task's call pass for another's.
with DAG("videosdk_call_api_mapped", schedule=None, start_date=START):
    SipCallOperator.partial(
        task_id="call",
        meeting_id="mapped-room",
        gateway_id="trunk_demo",
        participant_id="oncall-{{ run_id }}",
        retries=1,
        retry_delay=timedelta(seconds=0),
    ).expand(to=MAPPED)

# The primary's outcome is unknown (its task fails); the secondary must still see it answer.
with DAG("videosdk_call_api_unknown_primary", schedule=None, start_date=START):
    _primary = SipCallOperator(task_id="call_primary", to=PRIMARY, meeting_id="guard-room", gateway_id="trunk_demo")
    _primary >> SipCallOperator(
        task_id="call_secondary",
        to=SECONDARY,
        meeting_id="guard-room",
        gateway_id="trunk_demo",
        trigger_rule="all_done",
        skip_if_answered=[_primary.output],
    )

# Try 1 is cut off by its task timeout while VideoSDK holds the POST's answer; try 2 must look the
# call up for the whole reconcile window (the test makes the list lag), within its own timeout.
with DAG("videosdk_call_api_retry_looks_up", schedule=None, start_date=START):
    SipCallOperator(
        task_id="call",
        to=PRIMARY,
        meeting_id="retry-room",
        gateway_id="trunk_demo",
        retries=1,
        retry_delay=timedelta(seconds=0),
        execution_timeout=timedelta(seconds=8),
    )
