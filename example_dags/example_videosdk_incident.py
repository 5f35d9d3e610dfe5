"""
A nightly data-quality DAG whose failures open one incident, escalated level by level.

Any number of failing tasks open one incident: the first failure creates the escalation's run, the
others join it. The escalation phones the primary, then the secondary, then the manager, 60 s each,
and stops at the first answer. Needs the ``videosdk_default`` and ``airflow_api_default`` connections.
"""

from __future__ import annotations

from datetime import datetime

from airflow_provider_videosdk.incidents import EscalationPolicy, IncidentNotifier, escalation_dag
from airflow_provider_videosdk.version_compat import DAG, task

# [START howto_incident_escalation]
policy = EscalationPolicy(levels=["+14155550101", "+14155550102", "+14155550103"], gateway_id="trunk_demo")
incident = escalation_dag(policy, "example_videosdk_incident_escalation")
on_failure = IncidentNotifier(policy=policy, escalation_dag_id=incident.dag_id)

with DAG("example_videosdk_incident", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False,
         default_args={"on_failure_callback": on_failure}):  # fmt: skip
    for check in ("rows", "nulls", "duplicates", "freshness", "schema"):
        task(task_id=f"check_{check}")(lambda: None)()
# [END howto_incident_escalation]
