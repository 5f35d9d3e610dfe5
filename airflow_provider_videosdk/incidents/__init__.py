"""
Incidents: one escalation per incident, phoned level by level until a person acknowledges.

``from airflow_provider_videosdk.incidents import EscalationPolicy, Level, escalation_dag, IncidentNotifier``
(also as ``send_videosdk_incident``):
each name is imported from its module on first use (PEP 562), so a DAG file pays only for what it uses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "EscalationPolicy": "policy",
    "Level": "policy",
    "escalation_dag": "factory",
    "IncidentNotifier": "notifier",
    "send_videosdk_incident": "notifier",
}

if TYPE_CHECKING:
    from airflow_provider_videosdk.incidents.factory import escalation_dag
    from airflow_provider_videosdk.incidents.notifier import IncidentNotifier, send_videosdk_incident
    from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Level

__all__ = ["EscalationPolicy", "IncidentNotifier", "Level", "escalation_dag", "send_videosdk_incident"]


def __getattr__(name: str) -> Any:
    """Import ``name`` from its module on first use."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
