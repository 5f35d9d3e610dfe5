"""Escalation DAGs made by the factory, for the incident tests (the tests script the callees)."""

from __future__ import annotations

from airflow_provider_videosdk.incidents.factory import escalation_dag
from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Level

PRIMARY, SECONDARY, BACKUP = "+14155550601", "+14155550602", "+14155550603"

# Two levels, two rounds, 3 s of ringing each: the tests make the callees answer or not.
two_levels = escalation_dag(
    EscalationPolicy(
        levels=[Level([PRIMARY, BACKUP], ring_seconds=3, name="primary"), Level(SECONDARY, ring_seconds=3)],
        gateway_id="trunk_demo",
        rounds=2,
        poll_interval=1,
    ),
    "videosdk_incident_two_levels",
)
