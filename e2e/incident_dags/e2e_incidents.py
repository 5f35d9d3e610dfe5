"""
The incident e2e's DAGs: three DAGs of ten tasks that fail at one moment with one incident key,
the escalation they open, and an escalation acknowledged by a person (Airflow 3.1+).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

from airflow_provider_videosdk.incidents import EscalationPolicy, IncidentNotifier, Level, escalation_dag
from airflow_provider_videosdk.version_compat import DAG, task

STORM_L1, STORM_L2 = "+14155550801", "+14155550802"
ACK_L1, ACK_L2A, ACK_L2B = "+14155550811", "+14155550812", "+14155550813"
START = datetime(2026, 1, 1, tzinfo=timezone.utc)

storm_policy = EscalationPolicy(
    levels=[Level(STORM_L1, ring_seconds=20), Level(STORM_L2, ring_seconds=20)],
    gateway_id="trunk_demo",
    poll_interval=1,
)
storm_escalation = escalation_dag(storm_policy, "e2e_incident_storm_escalation")
notifier = IncidentNotifier(policy=storm_policy, escalation_dag_id=storm_escalation.dag_id, incident_key="e2e-storm")

for _n in range(1, 4):
    with DAG(f"e2e_incident_storm_{_n}", schedule=None, start_date=START, catchup=False,
             default_args={"on_failure_callback": notifier}):  # fmt: skip
        for _i in range(1, 11):

            @task(task_id=f"check_{_i}")
            def check(**context: object) -> None:
                """
                Wait for the moment the test chose, then fail: conf ``fail_at`` (Unix time), or ``release``
                (a file the test creates once every task is running; at most 10 minutes).
                """
                conf = context["dag_run"].conf  # type: ignore[attr-defined]
                if "release" in conf:
                    deadline = time.time() + 600
                    while not Path(conf["release"]).exists() and time.time() < deadline:
                        time.sleep(0.1)
                else:
                    time.sleep(max(0.0, float(conf["fail_at"]) - time.time()))
                raise RuntimeError("data check failed")

            check()

ack_escalation = escalation_dag(
    EscalationPolicy(
        levels=[Level(ACK_L1, ring_seconds=20), Level([ACK_L2A, ACK_L2B], ring_seconds=60)],
        gateway_id="trunk_demo",
        ack="human",
        ack_timeout=40,  # time for the UI check to see the request
        poll_interval=1,
    ),
    "e2e_incident_ack_escalation",
)
