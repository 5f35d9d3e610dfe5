"""Who may be called: a destination the allow-list refuses places no call, whatever places it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags


def test_refused_destinations_place_no_call_from_either_operator_or_the_notifier(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    env = {
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT": videosdk_emulator.connection_json(
            {"retry_backoff": 0.01, "allowed_destinations": "+1415, sip.example.com"}
        )
    }

    result = run_dag("videosdk_allow_list", env=env)

    states = result.states()
    assert states[("outbound_allowed", -1)] == ("success", 1)
    for task_id in ("outbound_refused", "call_api_refused", "maddr_refused"):
        assert states[(task_id, -1)] == ("failed", 1), task_id  # refused, and not retried
    # The only call placed is the allowed one; nothing reached the call API; the notifier placed nothing.
    assert [c["to"] for c in videosdk_emulator.calls] == ["+14155550190"]
    assert videosdk_emulator.sip_calls == []
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call", "POST")) == 1
    assert videosdk_emulator.requests_to("/v2/sip/call", "POST") == []
    refused = "to '+****0190' is refused before anything was sent: it starts with no E.164 prefix"
    assert result.output.count(refused) >= 3  # both operators' tasks and the notifier
    assert "it has a maddr parameter ('attacker.example')" in result.output
    assert "12125550190" not in result.output
