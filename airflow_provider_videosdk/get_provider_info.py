"""Provider metadata read by Airflow's ProvidersManager. Imports nothing from Airflow on purpose."""

from __future__ import annotations

from typing import Any

from airflow_provider_videosdk import conn_fields
from airflow_provider_videosdk.incidents import conn as incident_conn

#: Every release, newest first, as CHANGELOG.md lists them; the first is ``__version__`` (tests check both).
VERSIONS = ["0.1.0"]
#: The how-to guides, in the repository's docs/.
HOW_TO_GUIDES = ["/docs/connection.md", "/docs/operators.md", "/docs/sensors.md", "/docs/incidents.md"]


def get_provider_info() -> dict[str, Any]:
    """The provider's metadata: releases, how-to guides, modules by role, the notifiers, and the connection types."""
    return {
        "package-name": "airflow-provider-videosdk",
        "name": "VideoSDK",
        "description": "Place SIP phone calls into VideoSDK meetings from Airflow DAGs.",
        "versions": VERSIONS,
        "integrations": [
            {
                "integration-name": "VideoSDK",
                "external-doc-url": "https://docs.videosdk.live/api-reference/realtime-communication/intro",
                "how-to-guide": HOW_TO_GUIDES,
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "VideoSDK",
                "python-modules": ["airflow_provider_videosdk.hooks.videosdk"],
            }
        ],
        "operators": [
            {
                "integration-name": "VideoSDK",
                "python-modules": [
                    "airflow_provider_videosdk.operators.sip",
                    "airflow_provider_videosdk.operators.rooms",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "VideoSDK",
                "python-modules": ["airflow_provider_videosdk.sensors.sip"],
            }
        ],
        "triggers": [
            {
                "integration-name": "VideoSDK",
                "python-modules": ["airflow_provider_videosdk.triggers.sip"],
            }
        ],
        "notifications": [
            "airflow_provider_videosdk.notifications.sip.SipCallNotifier",
            "airflow_provider_videosdk.incidents.notifier.IncidentNotifier",
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_videosdk.hooks.videosdk.VideoSDKHook",
                "connection-type": "videosdk",
                "hook-name": "VideoSDK",
                "ui-field-behaviour": conn_fields.provider_info_ui_field_behaviour(),
                "conn-fields": conn_fields.conn_fields(),
            },
            incident_conn.connection_type(),
        ],
    }
