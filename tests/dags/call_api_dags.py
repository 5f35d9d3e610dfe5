"""DAGs for SipCallOperator's exactly-once and reconciliation tests (VideoSDK's call API)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, task
else:
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_videosdk.operators.sip import SipCallOperator, SipOutboundCallOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
CALL = {"to": "+14155550190", "meeting_id": "call-api-room", "gateway_id": "trunk_demo", "display_name": "On-call"}


@task(trigger_rule="all_done")
def report(**context: Any) -> None:
    """Print what the call task pushed, for the test to compare with the emulator's calls."""
    ti = context["ti"]
    pulled = {key: ti.xcom_pull(task_ids="call", key=key) for key in ("return_value", "call_id", "participant_id")}
    print("XCOM", " ".join(f"{k}={v}" for k, v in pulled.items()))


# A call Airflow may retry: a POST whose outcome was unknown must be found, not resent.
with DAG("videosdk_call_api_with_retries", schedule=None, start_date=START):
    SipCallOperator(task_id="call", retries=1, retry_delay=timedelta(seconds=0), **CALL) >> report()

# Airflow's task timeout fires while VideoSDK is still answering the POST (the test delays it).
with DAG("videosdk_call_api_timeout_mid_call", schedule=None, start_date=START):
    (
        SipCallOperator(
            task_id="call", retries=1, retry_delay=timedelta(seconds=0), execution_timeout=timedelta(seconds=3), **CALL
        )
        >> report()
    )


# skip_if_answered across the two APIs: the seed operator checks a SipCallOperator's call id.
with DAG("videosdk_call_api_skip_if_answered", schedule=None, start_date=START):
    _primary = SipCallOperator(task_id="call", **CALL)

    @task
    def pause() -> None:
        import time

        time.sleep(2)  # the primary's phone has rung for a while (or been answered)

    (
        _primary
        >> pause()
        >> SipOutboundCallOperator(
            task_id="call_secondary",
            to="+14155550191",
            display_name="On-call",
            meeting_id="call-api-room",
            trunk_id="trunk_demo",
            skip_if_answered=[_primary.output],
        )
    )
