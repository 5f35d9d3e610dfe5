"""The notifiers under their conventional ``send_…`` names (``send_slack_notification = SlackNotifier``)."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator


def test_send_videosdk_notification_phones_as_the_notifier_does(videosdk_emulator: VideoSDKEmulator) -> None:
    from airflow_provider_videosdk.notifications.sip import SipCallNotifier, send_videosdk_notification
    from airflow_provider_videosdk.version_compat import DAG

    assert send_videosdk_notification is SipCallNotifier
    callback = send_videosdk_notification(
        to="+14155550160",
        display_name="{{ dag.dag_id }}.{{ ti.task_id }} failed",
        meeting_id="incident-room",
        trunk_id="trunk_demo",
    )
    context = {
        "dag": DAG("nightly", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc)),
        "ti": SimpleNamespace(task_id="load"),
    }

    callback(context)  # as Airflow calls an on_failure_callback

    assert [(c["to"], c["displayName"]) for c in videosdk_emulator.calls] == [("+14155550160", "nightly.load failed")]


def test_send_videosdk_incident_is_the_incident_notifier_from_both_import_paths() -> None:
    import airflow_provider_videosdk.incidents as incidents
    from airflow_provider_videosdk.incidents.notifier import IncidentNotifier, send_videosdk_incident

    assert send_videosdk_incident is IncidentNotifier
    assert incidents.send_videosdk_incident is IncidentNotifier
    assert "send_videosdk_incident" in incidents.__all__
