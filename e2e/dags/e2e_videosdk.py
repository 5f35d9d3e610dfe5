"""
DAGs of the end-to-end deployment test (``e2e/run.py``), run by a real scheduler on Airflow 3.

- ``e2e_videosdk_templated_call``: one call whose fields are templates (params, ``dag``, ``run_id``).
- ``e2e_videosdk_retry_after_call``: the task places its call, then fails on its first try; the
  scheduler retries it, and the retry must return the same participant without dialling again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
PARAMS = {
    "to": Param("+14155550100", type="string"),
    "meeting_id": Param("e2e-room", type="string"),
}

with DAG("e2e_videosdk_templated_call", schedule=None, start_date=START, catchup=False, params=PARAMS):
    SipOutboundCallOperator(
        task_id="call",
        to="{{ params.to }}",
        display_name="{{ dag.dag_id }} {{ run_id }}",
        meeting_id="{{ params.meeting_id }}",
        trunk_id="trunk_demo",
    )


class CallThenFailOnFirstTry(SipOutboundCallOperator):
    """Places its call, then a later step of the same task fails on the first try."""

    def execute(self, context: Any) -> str:
        participant_id = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError("a later step failed after the call was placed")
        return participant_id


with DAG("e2e_videosdk_retry_after_call", schedule=None, start_date=START, catchup=False, params=PARAMS):
    CallThenFailOnFirstTry(
        task_id="call",
        retries=1,
        retry_delay=timedelta(seconds=1),
        to="{{ params.to }}",
        display_name="On-call",
        meeting_id="{{ params.meeting_id }}",
        trunk_id="trunk_demo",
    )
