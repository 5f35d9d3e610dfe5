"""DAGs for the privacy tests: what the status sensor stores."""

from __future__ import annotations

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG
else:
    from airflow import DAG

from airflow_provider_videosdk.operators.sip import SipCallOperator
from airflow_provider_videosdk.sensors.sip import SipCallStatusSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
NAME = "Jane Privacy-Probe"
METADATA = {"pager": "jane.probe@example.com"}

# The callee comes from the run's conf, as in the README's examples; the test scripts it to answer.
with DAG("videosdk_privacy_status", schedule=None, start_date=START):
    for _mode, _deferrable in (("poke", False), ("deferrable", True)):
        _call = SipCallOperator(
            task_id=f"call_{_mode}",
            to="{{ dag_run.conf['to'] }}",
            display_name=NAME,
            meeting_id=f"privacy-room-{_mode}",
            gateway_id="trunk_demo",
            metadata=METADATA,
        )
        SipCallStatusSensor(
            task_id=f"wait_{_mode}", call_id=_call.output, poke_interval=1, timeout=30, deferrable=_deferrable
        )
