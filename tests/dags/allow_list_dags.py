"""DAGs for the allow-list tests: destinations the connection's allow-list refuses, for every way to call."""

from __future__ import annotations

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, task
else:
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_videosdk.notifications.sip import SipCallNotifier
from airflow_provider_videosdk.operators.sip import SipCallOperator, SipOutboundCallOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
ALLOWED = "+14155550190"  # the test's connection allows +1415 and sip.example.com
REFUSED = "+12125550190"

with DAG("videosdk_allow_list", schedule=None, start_date=START, default_args={"retries": 2}):
    SipOutboundCallOperator(
        task_id="outbound_allowed", to=ALLOWED, display_name="On-call", meeting_id="allow-room", trunk_id="trunk_demo"
    )
    SipOutboundCallOperator(
        task_id="outbound_refused", to=REFUSED, display_name="On-call", meeting_id="allow-room", trunk_id="trunk_demo"
    )
    SipCallOperator(task_id="call_api_refused", to=REFUSED, meeting_id="allow-room", gateway_id="trunk_demo")
    SipCallOperator(
        task_id="maddr_refused",
        to="sip:oncall@sip.example.com;maddr=attacker.example",
        meeting_id="allow-room",
        gateway_id="trunk_demo",
    )

    @task(
        retries=0,
        on_failure_callback=SipCallNotifier(
            to=REFUSED, display_name="failed", meeting_id="allow-room", trunk_id="trunk_demo"
        ),
    )
    def fail_and_notify() -> None:
        raise RuntimeError("fails so that its notifier phones")

    fail_and_notify()
