"""Provider metadata read by Airflow's ProvidersManager. Imports nothing on purpose."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-videosdk",
        "name": "VideoSDK",
        "description": "Place SIP phone calls into VideoSDK meetings from Airflow DAGs.",
        "versions": ["0.1.0"],
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
        "notifications": ["airflow_provider_videosdk.notifications.sip.SipCallNotifier"],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_videosdk.hooks.videosdk.VideoSDKHook",
                "connection-type": "videosdk",
                "hook-name": "VideoSDK",
                "ui-field-behaviour": {
                    "hidden-fields": ["port", "schema"],
                    "relabeling": {
                        "login": "API key",
                        "password": "API secret",
                        "host": "API base URL",
                    },
                    "placeholders": {
                        "host": "https://api.videosdk.live",
                        "login": "VideoSDK API key",
                        "password": "VideoSDK API secret",
                    },
                },
                "conn-fields": {
                    "token": {
                        "label": "Pre-minted token",
                        "description": "A ready-made VideoSDK JWT, used instead of the API secret.",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                    },
                    "token_ttl": {
                        "label": "Token lifetime (seconds)",
                        "schema": {"type": ["integer", "null"], "minimum": 60, "maximum": 86400},
                    },
                    "retry_attempts": {
                        "label": "Attempts for retryable failures",
                        "schema": {"type": ["integer", "null"], "minimum": 1},
                    },
                    "retry_max_wait": {
                        "label": "Total retry wait budget (seconds)",
                        "schema": {"type": ["number", "null"], "minimum": 0},
                    },
                    "allow_insecure_http": {
                        "label": "Allow plain http:// to a non-loopback host",
                        "schema": {"type": ["boolean", "null"]},
                    },
                },
            }
        ],
    }
