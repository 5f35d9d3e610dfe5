"""Provider metadata read by Airflow's ProvidersManager. Imports nothing from Airflow on purpose."""

from __future__ import annotations

from typing import Any

from airflow_provider_videosdk import __version__, conn_fields
from airflow_provider_videosdk.incidents import conn as incident_conn


def get_provider_info() -> dict[str, Any]:
    """The provider's metadata: modules by role, the notifier, and the ``videosdk`` connection type and form."""
    return {
        "package-name": "airflow-provider-videosdk",
        "name": "VideoSDK",
        "description": "Place SIP phone calls into VideoSDK meetings from Airflow DAGs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "VideoSDK",
                "external-doc-url": "https://docs.videosdk.live/api-reference/realtime-communication/intro",
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
