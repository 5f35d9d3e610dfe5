"""The answered trigger run directly with asyncio against the emulator, and the sensor around it."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
from airflow_provider_videosdk.sensors.sip import DEFERRAL_TIMEOUT_MARGIN, SipCallAnsweredSensor
from airflow_provider_videosdk.triggers.sip import SipCallAnsweredTrigger
from airflow_provider_videosdk.version_compat import AirflowSensorTimeout, AirflowSkipException, TaskDeferred
from tests.helpers import assert_acted_at_first_sight, assert_kept_interval, first_event, place_call

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_videosdk.testing import VideoSDKEmulator

CALLEE = "+14155550160"


def restore(trigger: SipCallAnsweredTrigger) -> SipCallAnsweredTrigger:
    """What a (restarted) triggerer does: store the trigger as a row, read it back, rebuild it."""
    from airflow.models.trigger import Trigger

    row = Trigger.from_object(trigger)
    module, _, name = row.classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**row.kwargs)


def run_for(trigger: SipCallAnsweredTrigger, seconds: float) -> None:
    """Run the trigger for ``seconds``, then cancel it as a triggerer shutting down would."""

    async def main() -> None:
        task = asyncio.create_task(first_event(trigger))
        await asyncio.sleep(seconds)
        assert not task.done(), "the trigger fired before the simulated restart"
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def methods_since(emulator: VideoSDKEmulator, start: int) -> set[tuple[str, str]]:
    return {(r.method, r.path) for r in emulator.requests[start:]}


def test_trigger_round_trips_through_the_stored_form_to_the_same_state(airflow_db: Path) -> None:
    trigger = SipCallAnsweredTrigger(
        meeting_id="room-1",
        participant_id="abc123",
        end_time=1_900_000_000.25,
        poll_interval=2,
        videosdk_conn_id="videosdk_oncall",
    )

    restored = restore(trigger)

    assert type(restored) is SipCallAnsweredTrigger
    assert restored.serialize() == trigger.serialize()
    assert trigger.serialize() == (
        "airflow_provider_videosdk.triggers.sip.SipCallAnsweredTrigger",
        {
            "meeting_id": "room-1",
            "participant_id": "abc123",
            "end_time": 1_900_000_000.25,
            "poll_interval": 2.0,
            "videosdk_conn_id": "videosdk_oncall",
            "joined_after": None,
        },
    )


def test_trigger_fires_once_the_callee_joins_and_only_reads(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_answer(CALLEE, 1.5)
    pid = place_call(CALLEE, "room-1")
    seen = len(videosdk_emulator.requests)
    trigger = SipCallAnsweredTrigger(
        meeting_id="room-1", participant_id=pid, end_time=time.time() + 20, poll_interval=1
    )

    started = time.monotonic()
    payload = asyncio.run(first_event(trigger))

    assert payload["status"] == "answered"
    assert payload["participant"]["participantId"] == pid
    assert payload["participant"]["sessionId"] == "session-room-1"
    assert 1.4 < time.monotonic() - started < 10  # well before its 20 s deadline
    assert methods_since(videosdk_emulator, seen) == {("GET", "/v2/sessions")}
    looks = [r.at for r in videosdk_emulator.requests[seen:]]
    assert_kept_interval(looks, 1)
    assert_acted_at_first_sight(looks, videosdk_emulator.calls[0]["answerAt"])
    assert len(videosdk_emulator.calls) == 1


def test_trigger_times_out_at_its_end_time(videosdk_emulator: VideoSDKEmulator) -> None:
    pid = place_call(CALLEE, "room-1")  # nobody answers
    seen = len(videosdk_emulator.requests)
    trigger = SipCallAnsweredTrigger(meeting_id="room-1", participant_id=pid, end_time=time.time() + 2, poll_interval=1)

    started = time.monotonic()
    payload = asyncio.run(first_event(trigger))

    assert payload == {"status": "timeout"}
    assert 1.9 < time.monotonic() - started < 8  # at its 2 s deadline: nothing to wait for after it
    assert methods_since(videosdk_emulator, seen) == {("GET", "/v2/sessions")}
    assert len(videosdk_emulator.requests) - seen >= 2  # it kept looking (at 0 s and 1 s) until the end
    assert_kept_interval([r.at for r in videosdk_emulator.requests[seen:]], 1)


def test_restarted_trigger_finds_the_answer_without_placing_a_call(
    videosdk_emulator: VideoSDKEmulator, airflow_db: Path
) -> None:
    videosdk_emulator.set_answer(CALLEE, 3)
    pid = place_call(CALLEE, "room-1")
    seen = len(videosdk_emulator.requests)
    trigger = SipCallAnsweredTrigger(
        meeting_id="room-1", participant_id=pid, end_time=time.time() + 20, poll_interval=1
    )

    run_for(trigger, 1.5)  # the triggerer goes down while the phone rings
    after_restart = asyncio.run(first_event(restore(trigger)))
    # The event was fired but the triggerer died before the task resumed: it runs once more.
    again = asyncio.run(first_event(restore(trigger)))

    assert after_restart["status"] == again["status"] == "answered"
    assert after_restart["participant"] == again["participant"]
    assert after_restart["participant"]["participantId"] == pid
    assert len(videosdk_emulator.calls) == 1
    assert videosdk_emulator.requests_to("/v2/sip/outbound-call") == videosdk_emulator.requests[:1]
    assert methods_since(videosdk_emulator, seen) == {("GET", "/v2/sessions")}


def test_restarted_trigger_keeps_its_original_deadline(videosdk_emulator: VideoSDKEmulator, airflow_db: Path) -> None:
    pid = place_call(CALLEE, "room-1")  # nobody answers
    started = time.monotonic()
    trigger = SipCallAnsweredTrigger(meeting_id="room-1", participant_id=pid, end_time=time.time() + 6, poll_interval=1)

    run_for(trigger, 4.5)
    payload = asyncio.run(first_event(restore(trigger)))

    assert payload == {"status": "timeout"}
    # Had the restart begun a new 6 s wait, it would end 10.5 s after the start, or later.
    assert 5.9 < time.monotonic() - started < 9
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 1


def test_trigger_retries_failed_reads_like_the_hook_does(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_answer(CALLEE, 0)
    pid = place_call(CALLEE, "room-1")
    videosdk_emulator.add_fault(path="/v2/sessions", status=502, times=2)
    trigger = SipCallAnsweredTrigger(meeting_id="room-1", participant_id=pid, end_time=time.time() + 10)

    payload = asyncio.run(first_event(trigger))

    assert payload["status"] == "answered"
    assert [r.status for r in videosdk_emulator.requests_to("/v2/sessions")] == [502, 502, 200]


def test_trigger_reports_errors_as_events_without_secrets(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = videosdk_emulator.connection_json()
    wrong = wrong.replace(videosdk_emulator.api_secret, "wrong-secret-0123456789abcdef-XYZ")
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_WRONG", wrong)
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_BAD", videosdk_emulator.connection_json({"timeout": -1}))

    def event(conn_id: str) -> dict[str, Any]:
        trigger = SipCallAnsweredTrigger(
            meeting_id="room-1", participant_id="p1", end_time=time.time() + 10, videosdk_conn_id=conn_id
        )
        return asyncio.run(first_event(trigger))

    denied = event("videosdk_wrong")
    assert denied["status"] == "error" and denied["input_error"] is False
    assert "VideoSDK answered 401" in denied["message"]
    assert "wrong-secret" not in denied["message"]

    bad = event("videosdk_bad")
    assert bad["status"] == "error" and bad["input_error"] is True
    assert "timeout must be > 0" in bad["message"]
    assert len(videosdk_emulator.requests) == 1  # only the denied look-up was sent


# -- the sensor's deferrable path, driven directly --------------------------------------------


def make_sensor(**kwargs: Any) -> SipCallAnsweredSensor:
    return SipCallAnsweredSensor(task_id="wait", meeting_id="room-1", deferrable=True, **kwargs)


def test_deferrable_sensor_pokes_once_then_defers_with_its_deadline(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_answer(CALLEE, 1.5)
    pid = place_call(CALLEE, "room-1")
    seen = len(videosdk_emulator.requests)
    sensor = make_sensor(participant_id=pid, poke_interval=1, answer_timeout="30")

    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})  # type: ignore[arg-type]

    assert len(videosdk_emulator.requests) == seen + 1  # the one poke
    trigger = deferred.value.trigger
    assert isinstance(trigger, SipCallAnsweredTrigger)
    assert (trigger.meeting_id, trigger.participant_id, trigger.poll_interval) == ("room-1", pid, 1.0)
    assert before + 30 <= trigger.end_time <= time.time() + 30
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == timedelta(seconds=30 + DEFERRAL_TIMEOUT_MARGIN)

    payload = asyncio.run(first_event(trigger))
    participant = sensor.execute_complete({}, payload)  # type: ignore[arg-type]

    assert participant["participantId"] == pid
    assert len(videosdk_emulator.calls) == 1


def test_deferrable_sensor_returns_at_once_when_already_answered(videosdk_emulator: VideoSDKEmulator) -> None:
    videosdk_emulator.set_answer(CALLEE, 0)
    pid = place_call(CALLEE, "room-1")

    participant = make_sensor(participant_id=pid).execute({})  # type: ignore[arg-type]

    assert participant["participantId"] == pid
    assert len(videosdk_emulator.requests_to("/v2/sessions")) == 1


def test_sensor_checks_its_input_before_any_request(videosdk_emulator: VideoSDKEmulator) -> None:
    cases = [
        ({"participant_id": None}, r"participant_id rendered to nothing \(None\)"),
        ({"participant_id": "p1", "meeting_id": " "}, "meeting_id rendered to nothing"),
        ({"participant_id": "p1", "answer_timeout": "soon"}, "answer_timeout must be a number of seconds"),
    ]
    for kwargs, message in cases:
        sensor = SipCallAnsweredSensor(task_id="wait", **{"meeting_id": "room-1", "soft_fail": True, **kwargs})
        for deferrable in (False, True):
            sensor.deferrable = deferrable
            with pytest.raises(VideoSDKInputError, match=message):
                sensor.execute({})  # type: ignore[arg-type]
    assert videosdk_emulator.requests == []


def test_execute_complete_turns_each_event_into_the_tasks_outcome() -> None:
    sensor = make_sensor(participant_id="p1", answer_timeout="45")

    assert sensor.execute_complete({}, {"status": "answered", "participant": {"participantId": "p1"}}) == {  # type: ignore[arg-type]
        "participantId": "p1"
    }
    with pytest.raises(AirflowSensorTimeout, match="p1 did not join meeting room-1 within 45s"):
        sensor.execute_complete({}, {"status": "timeout"})  # type: ignore[arg-type]
    with pytest.raises(VideoSDKInputError, match="Waiting for participant p1 failed: bad connection"):
        sensor.execute_complete({}, {"status": "error", "message": "bad connection", "input_error": True})  # type: ignore[arg-type]
    with pytest.raises(VideoSDKError, match="VideoSDK answered 500") as error:
        sensor.execute_complete({}, {"status": "error", "message": "VideoSDK answered 500", "input_error": False})  # type: ignore[arg-type]
    assert not isinstance(error.value, VideoSDKInputError)

    soft = make_sensor(participant_id="p1", soft_fail=True)
    with pytest.raises(AirflowSkipException, match="did not join"):
        soft.execute_complete({}, {"status": "timeout"})  # type: ignore[arg-type]
