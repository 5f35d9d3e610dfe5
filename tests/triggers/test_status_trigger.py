"""The call-status trigger run with asyncio against the emulator, and the status sensor around it."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKCallNotAnsweredError, VideoSDKInputError
from airflow_provider_videosdk.sensors.sip import DEFERRAL_TIMEOUT_MARGIN, SipCallStatusSensor
from airflow_provider_videosdk.triggers.sip import SipCallStatusTrigger
from airflow_provider_videosdk.version_compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)
from tests.helpers import assert_acted_at_first_sight, assert_kept_interval, first_event

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_videosdk.testing import VideoSDKEmulator

CALLEE = "+14155550190"
UNKNOWN = "does not know: treated as not final"


def place(to: str = CALLEE, **fields: Any) -> str:
    """Place a call through the call API (the default connection); returns its id."""
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

    hook = VideoSDKHook()
    try:
        return hook.place_call(to=to, meeting_id="status-room", gateway_id="trunk_demo", **fields)["id"]
    finally:
        hook.close()


def trigger_for(call_id: str, seconds: float, **kwargs: Any) -> SipCallStatusTrigger:
    return SipCallStatusTrigger(call_id=call_id, end_time=time.time() + seconds, poll_interval=1, **kwargs)


def gets(emulator: VideoSDKEmulator, call_id: str) -> int:
    return len(emulator.requests_to(f"/v2/sip/call/{call_id}", "GET"))


def times_logged(text: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> int:
    """
    How many times ``text`` was logged: through the standard library (caplog) or structlog's console
    (Airflow 3); Airflow 2 writes each record to both, so the larger count is the number of records.
    """
    captured = capsys.readouterr()
    records = "\n".join(r.getMessage() for r in caplog.records)
    return max(records.count(text), (captured.out + captured.err).count(text))


def final_at(emulator: VideoSDKEmulator) -> float:
    """When the (only) call reached its last status, by the emulator's timelog."""
    from airflow_provider_videosdk._http.call_api import parse_when

    (call,) = emulator.sip_calls
    at = parse_when(call["timelog"][-1]["timestamp"])
    assert at is not None
    return at


def run_started(offset: float = 0.0) -> dict[str, Any]:
    """A task context whose DAG run started ``offset`` seconds from now."""
    return {"dag_run": SimpleNamespace(start_date=datetime.now(timezone.utc) + timedelta(seconds=offset))}


# -- the trigger --------------------------------------------------------------------------------


def test_the_trigger_round_trips_through_the_stored_form(airflow_db: Path) -> None:
    from airflow.models.trigger import Trigger

    trigger = SipCallStatusTrigger(
        call_id="call_1", end_time=1_900_000_000.25, poll_interval=2, created_after=1_800_000_000.0
    )
    row = Trigger.from_object(trigger)
    module, _, name = row.classpath.rpartition(".")
    restored = getattr(importlib.import_module(module), name)(**row.kwargs)

    assert type(restored) is SipCallStatusTrigger
    assert restored.serialize() == trigger.serialize()


@pytest.mark.parametrize("upper", [False, True], ids=["lower", "UPPER"])
def test_the_trigger_fires_answered_with_the_call_and_only_reads(
    videosdk_emulator: VideoSDKEmulator, upper: bool
) -> None:
    videosdk_emulator.set_call_api(upper_case_statuses=upper)
    videosdk_emulator.set_callee(CALLEE, "answer", after=1.5)
    call_id = place()
    seen = len(videosdk_emulator.requests)

    started = time.monotonic()
    payload = asyncio.run(first_event(trigger_for(call_id, 20)))

    assert payload["status"] == "answered"
    assert payload["call"]["id"] == call_id
    assert payload["call"]["status"] == ("ANSWERED" if upper else "answered")
    assert 1.4 < time.monotonic() - started < 10  # well before its 20 s deadline
    assert {(r.method, r.path) for r in videosdk_emulator.requests[seen:]} == {("GET", f"/v2/sip/call/{call_id}")}
    looks = [r.at for r in videosdk_emulator.requests[seen:]]
    assert_kept_interval(looks, 1)
    assert_acted_at_first_sight(looks, final_at(videosdk_emulator))


@pytest.mark.parametrize("upper", [False, True], ids=["lower", "UPPER"])
def test_the_trigger_fires_at_once_on_a_rejection_naming_it(videosdk_emulator: VideoSDKEmulator, upper: bool) -> None:
    videosdk_emulator.set_call_api(upper_case_statuses=upper)
    videosdk_emulator.set_callee(CALLEE, "reject", after=1)
    call_id = place()

    started = time.monotonic()
    payload = asyncio.run(first_event(trigger_for(call_id, 20)))

    assert (payload["status"], payload["call_status"]) == ("unanswered", "rejected")
    assert f"Call {call_id} was not answered: its status is 'rejected'" in payload["message"]
    assert time.monotonic() - started < 10  # well before its 20 s deadline
    looks = [r.at for r in videosdk_emulator.requests_to(f"/v2/sip/call/{call_id}", "GET")]
    assert_kept_interval(looks, 1)
    assert_acted_at_first_sight(looks, final_at(videosdk_emulator))  # one poll after the rejection


def test_an_unknown_status_is_logged_once_and_not_final(
    videosdk_emulator: VideoSDKEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    videosdk_emulator.set_call_api(unknown_status="queued")
    videosdk_emulator.set_callee(CALLEE, "never")
    call_id = place(ringing_timeout=60)

    with caplog.at_level(logging.INFO):
        payload = asyncio.run(first_event(trigger_for(call_id, 3.2)))

    assert payload == {"status": "timeout", "call_status": "queued"}
    assert gets(videosdk_emulator, call_id) >= 3  # it kept looking
    assert times_logged(f"Call {call_id} has status 'queued', which this provider {UNKNOWN}", caplog, capsys) == 1


def test_the_trigger_fires_on_time_while_a_look_up_hangs(videosdk_emulator: VideoSDKEmulator) -> None:
    call_id = place(ringing_timeout=60)
    videosdk_emulator.add_fault(path=f"/v2/sip/call/{call_id}", delay=10, process=True, times=10)

    started = time.monotonic()
    payload = asyncio.run(first_event(trigger_for(call_id, 1.5)))

    assert payload == {"status": "timeout", "call_status": None}
    assert time.monotonic() - started < 6  # at its 1.5 s deadline, not when the 10 s look-up answers


def test_a_call_from_before_the_run_never_counts_in_the_trigger(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_callee(CALLEE, "answer", after=0)
    call_id = place()

    # The run "started" an hour after the call was placed (beyond the 30 s clock skew).
    payload = asyncio.run(first_event(trigger_for(call_id, 10, created_after=time.time() + 3600)))

    assert payload["status"] == "stale"
    assert f"Call {call_id} was created at" in payload["message"]
    assert "never counts" in payload["message"]


# -- the sensor, driven directly ----------------------------------------------------------------


def test_the_deferrable_sensor_pokes_once_then_defers_and_returns_the_call(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_call_api(unknown_status="queued")
    videosdk_emulator.set_callee(CALLEE, "answer", after=3)  # its poke at ~0.5 s sees it ring
    call_id = place()
    sensor = SipCallStatusSensor(task_id="wait", call_id=call_id, poke_interval=1, answer_timeout="30", deferrable=True)
    context = run_started(-1)
    time.sleep(0.5)  # past "initiated": the phone rings, reported as the unknown "queued"

    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context)  # type: ignore[arg-type]

    assert gets(videosdk_emulator, call_id) == 1
    trigger = deferred.value.trigger
    assert isinstance(trigger, SipCallStatusTrigger)
    assert (trigger.call_id, trigger.poll_interval, trigger.reported_unknown) == (call_id, 1.0, ["queued"])
    assert trigger.created_after == pytest.approx(context["dag_run"].start_date.timestamp())
    assert before + 30 <= trigger.end_time <= time.time() + 30
    assert deferred.value.timeout == timedelta(seconds=30 + DEFERRAL_TIMEOUT_MARGIN)

    call = sensor.execute_complete(context, asyncio.run(first_event(trigger)))  # type: ignore[arg-type]

    assert call["call_id"] == call_id and call["status"] == "answered"
    assert videosdk_emulator.call_ends == []


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_a_rejected_call_fails_the_sensor_without_retries(
    videosdk_emulator: VideoSDKEmulator, deferrable: bool
) -> None:
    videosdk_emulator.set_callee(CALLEE, "reject", after=0)
    call_id = place()
    time.sleep(0.2)
    sensor = SipCallStatusSensor(task_id="wait", call_id=call_id, poke_interval=1, timeout=10, deferrable=deferrable)

    with pytest.raises(VideoSDKCallNotAnsweredError, match="its status is 'rejected'") as error:
        sensor.execute(run_started(-1))  # type: ignore[arg-type]

    assert isinstance(error.value, AirflowFailException)
    assert (error.value.call_id, error.value.call_status) == (call_id, "rejected")


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_a_call_from_before_the_run_never_counts_in_the_sensor(
    videosdk_emulator: VideoSDKEmulator, deferrable: bool
) -> None:
    videosdk_emulator.set_callee(CALLEE, "answer", after=0)
    call_id = place()
    sensor = SipCallStatusSensor(task_id="wait", call_id=call_id, timeout=10, deferrable=deferrable)

    with pytest.raises(VideoSDKInputError, match=f"Call {call_id} was created at .* never counts"):
        sensor.execute(run_started(3600))  # type: ignore[arg-type]
    assert videosdk_emulator.call_ends == []


def test_the_poking_sensor_logs_an_unknown_status_once_then_hangs_up_on_timeout(
    videosdk_emulator: VideoSDKEmulator, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    videosdk_emulator.set_call_api(unknown_status="queued")
    videosdk_emulator.set_callee(CALLEE, "never")
    call_id = place(ringing_timeout=60)
    sensor = SipCallStatusSensor(task_id="wait", call_id=call_id, poke_interval=1, timeout=2.5)

    with caplog.at_level(logging.INFO), pytest.raises(AirflowSensorTimeout, match="last status: 'queued'"):
        sensor.execute(run_started(-1))  # type: ignore[arg-type]

    assert gets(videosdk_emulator, call_id) >= 3
    assert times_logged(UNKNOWN, caplog, capsys) == 1
    assert videosdk_emulator.call_ends[0]["statusBefore"] == "ringing"
    (end,) = videosdk_emulator.call_ends
    assert end["callId"] == call_id
    assert videosdk_emulator.sip_calls[0]["status"] == "ended"


def test_timeout_events_hang_up_unless_told_not_to_and_soft_fail_skips(videosdk_emulator: VideoSDKEmulator) -> None:
    call_id = place(ringing_timeout=60)
    timeout = {"status": "timeout", "call_status": "ringing"}

    keep = SipCallStatusSensor(task_id="wait", call_id=call_id, answer_timeout=5, hang_up_on_timeout=False)
    with pytest.raises(AirflowSensorTimeout, match=r"not answered within 5s \(last status: 'ringing'\)$"):
        keep.execute_complete(run_started(-1), timeout)  # type: ignore[arg-type]
    assert videosdk_emulator.call_ends == []

    soft = SipCallStatusSensor(task_id="wait", call_id=call_id, answer_timeout=5, soft_fail=True)
    with pytest.raises(AirflowSkipException, match="it was hung up"):
        soft.execute_complete(run_started(-1), timeout)  # type: ignore[arg-type]
    assert [e["callId"] for e in videosdk_emulator.call_ends] == [call_id]


def test_the_sensor_checks_its_input_before_any_request(videosdk_emulator: VideoSDKEmulator) -> None:
    cases = [
        ({"call_id": None}, r"call_id rendered to nothing \(None\)"),
        ({"call_id": "None"}, r"call_id rendered to nothing \('None'\)"),
        ({"call_id": "c1", "answer_timeout": "soon"}, "answer_timeout must be a number of seconds"),
    ]
    for kwargs, message in cases:
        for deferrable in (False, True):
            sensor = SipCallStatusSensor(task_id="wait", deferrable=deferrable, soft_fail=True, **kwargs)
            with pytest.raises(VideoSDKInputError, match=message):
                sensor.execute({})  # type: ignore[arg-type]
    assert videosdk_emulator.requests == []
