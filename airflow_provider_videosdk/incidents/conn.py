"""
The ``airflow_api`` connection (Airflow's own REST API, for opening incidents), described once.

Imports nothing: ``get_provider_info()`` reads it.
"""

from __future__ import annotations

from typing import Any

RELABELING = {"host": "Airflow API URL", "login": "Username", "password": "Password"}
PLACEHOLDERS = {"host": "http://airflow-api-server:8080", "login": "a user who may trigger the escalation DAG"}
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port"],
    "relabeling": RELABELING,
    "placeholders": PLACEHOLDERS,
}


def connection_type() -> dict[str, Any]:
    """The connection type's entry in ``get_provider_info()["connection-types"]``."""
    return {
        "hook-class-name": "airflow_provider_videosdk.incidents.api.AirflowApiHook",
        "connection-type": "airflow_api",
        "hook-name": "Airflow REST API",
        "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
    }
