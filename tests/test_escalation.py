"""The escalation toolkit run for real: example DAGs and test DAGs through ``airflow dags test``."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_1_PLUS, AIRFLOW_V_3_2_PLUS, NOTIFIER_KEEPS_EMPTY_RENDER
from tests.helpers import REPO, user_visible

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags

PRIMARY, SECONDARY, MANAGER = "+14155550101", "+14155550102", "+14155550103"
CHAIN = "example_videosdk_escalation_chain"
CHAIN_DEFERRABLE = "example_videosdk_escalation_chain_deferrable"


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A DAG folder holding only this feature's example DAGs, exactly as shipped."""
    folder = tmp_path / "example_dags"
    folder.mkdir()
    for name in ("example_videosdk_escalation_chain.py", "example_videosdk_failure_notifier.py"):
        shutil.copy(REPO / "example_dags" / name, folder / name)
    return folder


def sessions_rooms(emulator: VideoSDKEmulator) -> set[str]:
    return {r.query["roomId"][0] for r in emulator.requests_to("/v2/sessions", "GET")}


def assert_chain_in_one_room(emulator: VideoSDKEmulator, dag_id: str) -> None:
    """One room was created for the run, every call went into it, and only it was watched."""
    rooms = emulator.requests_to("/v2/rooms", "POST")
    assert len(rooms) == 1
    assert rooms[0].body["customRoomId"].startswith(f"{dag_id}-")
    (room_id,) = emulator.rooms
    assert {c["meetingId"] for c in emulator.calls} == {room_id}
    assert sessions_rooms(emulator) == {room_id}


# -- the escalation chain example -------------------------------------------------------------


@pytest.mark.matrix
@pytest.mark.parametrize("dag_id", [CHAIN, CHAIN_DEFERRABLE])
def test_chain_phones_only_the_primary_when_the_primary_answers(
    videosdk_emulator: VideoSDKEmulator, run_dag, examples: Path, dag_id: str
) -> None:
    videosdk_emulator.set_answer(PRIMARY, 1)
    videosdk_emulator.set_answer(SECONDARY, 1)  # would answer too, but must never be phoned

    result = run_dag(dag_id, folder=examples, conf={"answer_timeout": 8})

    assert result.returncode == 0, result.output[-3000:]
    assert [c["to"] for c in videosdk_emulator.calls] == [PRIMARY]
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 1
    assert {t: s for (t, _), (s, _) in result.states().items()} == {
        "create_room": "success",
        "call_primary": "success",
        "wait_primary": "success",
        "call_secondary": "skipped",
        "wait_secondary": "skipped",
        "call_manager": "skipped",
    }
    assert_chain_in_one_room(videosdk_emulator, dag_id)
    assert PRIMARY not in user_visible(result.output)  # numbers are masked in the logs
    assert videosdk_emulator.api_secret not in user_visible(result.output)


@pytest.mark.python
@pytest.mark.matrix
@pytest.mark.parametrize("dag_id", [CHAIN, CHAIN_DEFERRABLE])
def test_chain_phones_primary_then_secondary_then_manager_when_nobody_answers(
    videosdk_emulator: VideoSDKEmulator, run_dag, examples: Path, dag_id: str
) -> None:
    # The primary answers, but only after the 3 s it is given: too late.
    videosdk_emulator.set_answer(PRIMARY, 300)

    result = run_dag(dag_id, folder=examples, conf={"answer_timeout": 3})

    calls = videosdk_emulator.calls
    assert [c["to"] for c in calls] == [PRIMARY, SECONDARY, MANAGER], result.output[-3000:]
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 3
    states = {t: s for (t, _), (s, _) in result.states().items()}
    assert states == {
        "create_room": "success",
        "call_primary": "success",
        "wait_primary": "failed",
        "call_secondary": "success",
        "wait_secondary": "failed",
        "call_manager": "success",
    }
    # Each escalation waited for the 3 s timeout to pass since the call before it, not for the
    # example's default answer_timeout (60 s).
    assert 3 <= calls[1]["placedAt"] - calls[0]["placedAt"] < 60
    assert 3 <= calls[2]["placedAt"] - calls[1]["placedAt"] < 60
    assert "did not join meeting" in result.output or "Sensor has timed out" in result.output
    assert_chain_in_one_room(videosdk_emulator, dag_id)
    # Our own log line, whatever Airflow version prints around it: the deferrable sensors deferred.
    assert ("Deferring: waiting up to" in result.output) == (dag_id == CHAIN_DEFERRABLE)


def test_chain_stops_at_the_secondary_when_the_secondary_answers(
    videosdk_emulator: VideoSDKEmulator, run_dag, examples: Path
) -> None:
    videosdk_emulator.set_answer(SECONDARY, 1)

    result = run_dag(CHAIN_DEFERRABLE, folder=examples, conf={"answer_timeout": 3})

    assert [c["to"] for c in videosdk_emulator.calls] == [PRIMARY, SECONDARY], result.output[-3000:]
    states = {t: s for (t, _), (s, _) in result.states().items()}
    assert states["wait_primary"] == "failed"
    assert states["wait_secondary"] == "success"
    assert states["call_manager"] == "skipped"


# -- the failure notifier -----------------------------------------------------------------------


def test_failing_task_with_notifier_places_exactly_one_call_with_rendered_fields(
    videosdk_emulator: VideoSDKEmulator, run_dag, examples: Path
) -> None:
    result = run_dag("example_videosdk_failure_notifier", folder=examples, conf={"on_call": "+14155550111"})

    posts = videosdk_emulator.requests_to("/v2/sip/outbound-call")
    assert len(posts) == 1, result.output[-3000:]
    assert posts[0].body == {
        "to": "+14155550111",
        "displayName": "example_videosdk_failure_notifier failed: load",
        "meetingId": "incident-room",
        "trunkId": "trunk_demo",
    }
    assert result.state("extract") == "success"
    assert result.state("load") == "failed"
    assert "+14155550111" not in user_visible(result.output)


def test_one_notifier_shared_by_many_tasks_renders_each_tasks_own_call(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    result = run_dag("videosdk_shared_notifier")

    names = sorted(c["displayName"] for c in videosdk_emulator.calls)
    assert names == [
        "videosdk_shared_notifier.fail_first failed",
        "videosdk_shared_notifier.fail_second failed",
    ], result.output[-3000:]
    assert {c["to"] for c in videosdk_emulator.calls} == {"+14155550140"}
    # The notifier with a bad number was checked by the hook and sent nothing.
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 2
    assert "to must be an E.164 number such as +14155550100" in result.output
    assert result.state("succeed") == "success"
    assert result.state("fail_with_bad_notifier") == "failed"
    # A field that rendered empty is refused on every version, never sent as raw template text.
    assert not any("{{" in c["meetingId"] for c in videosdk_emulator.calls)
    expected = "still holds template text" if NOTIFIER_KEEPS_EMPTY_RENDER else "rendered to nothing ('')"
    assert f"meeting_id {expected}" in result.output


NOTIFIER_KWARGS = {
    "to": "+14155550150",
    "display_name": "{{ dag_run.dag_id }} is late",
    "meeting_id": "incident-room",
    "trunk_id": "trunk_demo",
}


@pytest.mark.skipif(not AIRFLOW_V_3_1_PLUS, reason="deadline alerts (async notifiers) arrived in Airflow 3.1")
def test_deadline_alert_path_places_the_call_from_the_triggerer_without_blocking_it(
    videosdk_emulator: VideoSDKEmulator,
) -> None:
    from airflow.triggers.callback import CallbackTrigger

    if AIRFLOW_V_3_2_PLUS:
        from airflow.sdk import AsyncCallback
    else:
        from airflow.sdk.definitions.deadline import AsyncCallback

    from airflow_provider_videosdk.notifications.sip import SipCallNotifier

    # What a DeadlineAlert stores, and what the triggerer then runs with the deadline's context.
    callback = AsyncCallback(SipCallNotifier, kwargs=NOTIFIER_KWARGS)
    trigger = CallbackTrigger(
        callback_path=callback.path,
        callback_kwargs={**callback.kwargs, "context": {"dag_run": {"dag_id": "nightly"}, "deadline": {}}},
    )
    # VideoSDK takes 1 s to answer: the event loop must keep running meanwhile.
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", delay=1.0, process=True)

    async def run() -> tuple[list[Any], int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.05)

        tick_task = asyncio.create_task(ticker())
        events = [event.payload async for event in trigger.run()]
        done.set()
        await tick_task
        return events, ticks

    events, ticks = asyncio.run(run())

    assert [e["state"] for e in events] == ["running", "success"], events
    assert [(c["to"], c["displayName"]) for c in videosdk_emulator.calls] == [("+14155550150", "nightly is late")]
    assert ticks >= 10


@pytest.mark.skipif(not AIRFLOW_V_3_1_PLUS, reason="deadline alerts (async notifiers) arrived in Airflow 3.1")
def test_async_notifier_checks_input_before_sending(videosdk_emulator: VideoSDKEmulator) -> None:
    from airflow_provider_videosdk.exceptions import VideoSDKInputError
    from airflow_provider_videosdk.notifications.sip import SipCallNotifier

    notifier = SipCallNotifier(**{**NOTIFIER_KWARGS, "meeting_id": "{{ dag_run.room }}"}, context={"dag_run": {}})
    # Rendered empty: 3.3 keeps the "", earlier versions the raw template text. Both are refused.
    expected = "still holds template text" if NOTIFIER_KEEPS_EMPTY_RENDER else r"rendered to nothing \(''\)"
    with pytest.raises(VideoSDKInputError, match=f"meeting_id {expected}"):
        asyncio.run(_await(notifier))
    assert videosdk_emulator.requests == []


async def _await(awaitable: Any) -> Any:
    return await awaitable


# -- rooms and the answered sensor ------------------------------------------------------------


def test_toolkit_rooms_are_idempotent_and_the_sensor_times_out_skips_and_checks_input(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.set_answer("+14155550130", 1)

    result = run_dag("videosdk_escalation_toolkit")

    out = result.output
    rooms = re.search(r"ROOMS room=(\S+) room_again=(\S+) room_fresh=(\S+)", out)
    assert rooms, out[-3000:]
    assert rooms[1] == rooms[2] != rooms[3]
    bodies = sorted(json.dumps(r.body) for r in videosdk_emulator.requests_to("/v2/rooms", "POST"))
    assert bodies == sorted(["{}", *[json.dumps({"customRoomId": "videosdk_escalation_toolkit-room"})] * 2])
    assert len(videosdk_emulator.rooms) == 2

    states = {t: s for (t, _), (s, _) in result.states().items()}
    pid = {c["to"]: c["participantId"] for c in videosdk_emulator.calls}["+14155550130"]
    for mode in ("poke", "deferred"):
        assert states[f"answered_{mode}"] == "success"
        assert f"ANSWERED {mode} participant={pid} session=session-{rooms[1]}" in out
        assert states[f"silent_soft_{mode}"] == "skipped"
        assert states[f"bad_input_{mode}"] == "failed"
    assert states["report_answered"] == "success"
    assert "participant_id rendered to nothing (None): did an XCom or param return None?" in out
    assert "bad-input-room" not in sessions_rooms(videosdk_emulator)
    # The sensors only read: the two calls are the two call tasks'.
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 2


def test_a_failed_sensor_does_not_phone_the_next_person_when_the_callee_answered(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    videosdk_emulator.set_answer("+14155550130", 0)

    result = run_dag("videosdk_skip_if_answered")

    assert [c["to"] for c in videosdk_emulator.calls] == ["+14155550130"], result.output[-3000:]
    assert result.state("wait_primary") == "failed"
    assert result.state("call_secondary") == "skipped"
    pid = videosdk_emulator.calls[0]["participantId"]
    assert f"Participant {pid} already answered: it joined meeting incident-skip" in result.output
    assert "not phoning +****0131" in result.output


def test_a_failed_sensor_still_escalates_when_the_callee_did_not_answer(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    result = run_dag("videosdk_skip_if_answered")  # nobody answers

    assert [c["to"] for c in videosdk_emulator.calls] == ["+14155550130", "+14155550131"], result.output[-3000:]
    assert result.state("call_secondary") == "success"


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_last_weeks_answer_in_a_reused_meeting_is_not_todays(
    videosdk_emulator: VideoSDKEmulator, run_dag, deferrable: bool
) -> None:
    videosdk_emulator.add_session("incident-room", [("oncall-primary", time.time() - 7 * 86400)])

    result = run_dag(f"videosdk_reused_meeting{'_deferrable' if deferrable else ''}")

    assert [c["participantId"] for c in videosdk_emulator.calls] == ["oncall-primary"], result.output[-3000:]
    assert result.state("wait") == "failed"
    assert "Participant oncall-primary has not joined meeting incident-room yet" in result.output
    # Poke mode times out through Airflow's own sensor timeout; deferrable mode through the trigger's event.
    assert ("Sensor has timed out" in result.output) or (
        "did not join meeting incident-room within 3s" in result.output
    )


def test_todays_answer_in_a_reused_meeting_counts(videosdk_emulator: VideoSDKEmulator, run_dag) -> None:
    videosdk_emulator.add_session("incident-room", [("oncall-primary", time.time() - 7 * 86400)])
    videosdk_emulator.set_answer("+14155550131", 0.5)

    result = run_dag("videosdk_reused_meeting")

    assert result.state("wait") == "success", result.output[-3000:]
