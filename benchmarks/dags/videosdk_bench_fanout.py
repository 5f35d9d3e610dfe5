"""The fan-out benchmark's DAG: one SIP call mapped over ``VIDEOSDK_BENCH_CALLS`` (default 200) numbers."""

from __future__ import annotations

import os

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG
else:
    from airflow import DAG

from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator

NUMBERS = [f"+1415556{i:04d}" for i in range(int(os.environ.get("VIDEOSDK_BENCH_CALLS", "200")))]

with DAG("videosdk_bench_fanout", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    SipOutboundCallOperator.partial(
        task_id="escalate",
        display_name="On-call escalation",
        meeting_id="bench-fanout",
        trunk_id="trunk_demo",
    ).expand(to=NUMBERS)
