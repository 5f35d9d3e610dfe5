"""DAGs for the call-status sensor tests: a sensor that times out on a ringing call, in both modes, or is killed."""

from __future__ import annotations

from datetime import timedelta

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG
else:
    from airflow import DAG

from airflow_provider_videosdk.operators.sip import SipCallOperator
from airflow_provider_videosdk.sensors.sip import SipCallStatusSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
RINGS = "+14155550180"  # the test scripts this callee to never answer: it rings for 60 s

# The sensor gives up after 3 s, long before the phone would stop ringing: it must hang up.
for _mode, _deferrable in (("poke", False), ("deferrable", True)):
    with DAG(f"videosdk_call_status_timeout_{_mode}", schedule=None, start_date=START):
        _call = SipCallOperator(
            task_id="call", to=RINGS, meeting_id="status-room", gateway_id="trunk_demo", ringing_timeout=60
        )
        SipCallStatusSensor(
            task_id="wait",
            call_id=_call.output,
            answer_timeout="{{ 3 }}",
            poke_interval=1,
            deferrable=_deferrable,
            retries=1,  # a timeout is not retried either way; a retry would show as try 2
        )

# Killed by its execution_timeout (3 s) while the call rings and long before its own timeout (60 s):
# its on_kill must hang the call up.
with DAG("videosdk_call_status_killed", schedule=None, start_date=START):
    _call = SipCallOperator(
        task_id="call", to=RINGS, meeting_id="status-room", gateway_id="trunk_demo", ringing_timeout=60
    )
    SipCallStatusSensor(
        task_id="wait",
        call_id=_call.output,
        timeout=60,
        poke_interval=1,
        deferrable=False,
        execution_timeout=timedelta(seconds=3),
    )
