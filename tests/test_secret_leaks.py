"""The API secret and every token VideoSDK saw must appear nowhere people can read."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import pytest

from tests.helpers import airflow_home, user_visible

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = [pytest.mark.dags, pytest.mark.matrix]
WRONG_SECRET = "wrong-secret-for-the-leak-test-0123456789"


def db_tables_text(db: str, tables: tuple[str, ...]) -> str:
    with sqlite3.connect(db) as con:
        return "\n".join(repr(row) for table in tables for row in con.execute(f"SELECT * FROM {table}"))


@pytest.mark.python
def test_no_secret_or_token_in_output_logs_xcom_or_rendered_fields(
    videosdk_emulator: VideoSDKEmulator, run_dag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_WRONG_SECRET",
        videosdk_emulator.connection_json().replace(videosdk_emulator.api_secret, WRONG_SECRET),
    )
    ok = run_dag("videosdk_leak_success")
    videosdk_emulator.add_fault(status=502, path="/v2/sip/outbound-call", process=True)
    failed = run_dag("videosdk_leak_failures")

    # The runs did what the check needs: a success, each failure, tokens good and bad.
    assert ok.returncode == 0, ok.output[-3000:]
    assert ok.state("log_token") == "success"
    assert [failed.state(t) for t in ("ambiguous_502", "wrong_secret_401", "unknown_trunk_404")] == ["failed"] * 3
    assert "may or may not have been placed" in failed.output
    assert "VideoSDK answered 401" in failed.output and "VideoSDK answered 404" in failed.output
    assert "LEAK-PROBE token=*** secret=***" in ok.output  # registered with the worker's masker
    tokens = videosdk_emulator.tokens
    assert len(tokens) >= 2  # one minted with the right secret, one with the wrong one

    secrets = {videosdk_emulator.api_secret, WRONG_SECRET, *tokens}
    log_files = [p for p in (airflow_home() / "logs").rglob("*") if p.is_file()]
    places = {
        # Airflow 3.0's dags test alone echoes its supervisor's MaskSecret(value=...) debug lines: see user_visible.
        "CLI output (success)": user_visible(ok.output),
        "CLI output (failures)": user_visible(failed.output),
        "task log files": "\n".join(p.read_text(errors="replace") for p in log_files),
        "XCom and rendered-fields tables": db_tables_text(str(ok.db), ("xcom", "rendered_task_instance_fields")),
        "whole metadata DB file": ok.db.read_bytes().decode("latin-1"),
    }
    for place, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into the {place}"
    # The checks looked at real data: the participant IDs are in XCom, the rendered fields are stored.
    assert videosdk_emulator.calls[0]["participantId"] in places["XCom and rendered-fields tables"]
    assert "war-room-3" in places["XCom and rendered-fields tables"]
