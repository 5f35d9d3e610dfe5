"""Personal data only where needed: what the status sensor stores, and who the allow-list lets be called."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import TYPE_CHECKING

import pytest

from tests.helpers import first_event

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags

CALLEE = "+14155550191"
NAME = "Jane Privacy-Probe"
PAGER = "jane.probe@example.com"
# Tables of the metadata DB the provider writes through Airflow: XCom, rendered fields, the task
# instance (a resumed sensor's trigger event is its next_kwargs), the trigger rows.
PROVIDER_TABLES = ("xcom", "rendered_task_instance_fields", "task_instance", "trigger")


def tables_text(db: str, tables: tuple[str, ...]) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        return {table: "\n".join(repr(row) for row in con.execute(f"SELECT * FROM {table}")) for table in tables}


def test_the_status_sensor_stores_no_number_name_or_metadata(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    videosdk_emulator.set_callee(CALLEE, "answer", after=1)

    result = run_dag("videosdk_privacy_status", conf={"to": CALLEE})

    assert result.returncode == 0, result.output[-3000:]
    assert len(videosdk_emulator.sip_calls) == 2
    stored = tables_text(str(result.db), PROVIDER_TABLES)
    for table, text in stored.items():
        assert CALLEE[1:] not in text, f"the callee's number is stored in the {table} table"
        # The call operator's own rendered fields keep the name and metadata the DAG gave it; the
        # sensor's XCom and trigger event hold neither.
        if table != "rendered_task_instance_fields":
            for personal in (NAME, PAGER):
                assert personal not in text, f"{personal!r} is stored in the {table} table"
    # The checks read real data: both sensors returned the call's id, status and session.
    for call in videosdk_emulator.sip_calls:
        assert call["id"] in stored["xcom"]
    assert stored["xcom"].count("answered") >= 2 and "session_id" in stored["xcom"]
    assert "to" in stored["rendered_task_instance_fields"] and "***" in stored["rendered_task_instance_fields"]


def test_the_status_trigger_event_carries_no_personal_data(videosdk_emulator: VideoSDKEmulator) -> None:
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.triggers.sip import SipCallStatusTrigger

    videosdk_emulator.set_callee(CALLEE, "answer", after=0.5)
    placed = VideoSDKHook().place_call(
        to=CALLEE, meeting_id="privacy-room", gateway_id="trunk_demo", display_name=NAME, metadata={"pager": PAGER}
    )

    def event(**kwargs: bool) -> dict:
        trigger = SipCallStatusTrigger(call_id=placed["id"], end_time=time.time() + 15, poll_interval=1, **kwargs)
        return asyncio.run(first_event(trigger))

    lean, full = event(), event(keep_call=True)

    assert lean["status"] == "answered" and lean["call"]["id"] == placed["id"]
    assert lean["call"]["participant"] == {"id": placed["participant"]["id"]}
    for personal in (CALLEE[1:], NAME, PAGER):
        assert personal not in repr(lean)
    # keep_call (the sensor's return_full_call) carries the whole call, personal data and all.
    assert CALLEE in repr(full) and NAME in repr(full)
