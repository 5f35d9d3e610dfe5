"""DAGs for the escalation toolkit tests: rooms, the answered sensor's edge cases, a shared notifier."""

from __future__ import annotations

from typing import Any

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, task
else:
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_videosdk.notifications.sip import SipCallNotifier
from airflow_provider_videosdk.operators.rooms import VideoSDKCreateRoomOperator
from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator
from airflow_provider_videosdk.sensors.sip import SipCallAnsweredSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
ANSWERS = "+14155550130"  # the test makes this callee answer after 1 s
SILENT = "+14155550131"  # nobody answers

with DAG("videosdk_escalation_toolkit", schedule=None, start_date=START):
    room = VideoSDKCreateRoomOperator(task_id="room", custom_room_id="{{ dag.dag_id }}-room")
    room_again = VideoSDKCreateRoomOperator(task_id="room_again", custom_room_id="{{ dag.dag_id }}-room")
    room_fresh = VideoSDKCreateRoomOperator(task_id="room_fresh")

    @task
    def report_rooms(a: str, b: str, fresh: str) -> None:
        print(f"ROOMS room={a} room_again={b} room_fresh={fresh}")

    report_rooms(room.output, room_again.output, room_fresh.output)

    call = {"display_name": "Toolkit", "meeting_id": room.output, "trunk_id": "trunk_demo"}
    call_answers = SipOutboundCallOperator(task_id="call_answers", to=ANSWERS, **call)
    call_silent = SipOutboundCallOperator(task_id="call_silent", to=SILENT, **call)

    @task
    def returns_nothing() -> None:
        return None

    no_participant = returns_nothing()

    answered: dict[str, Any] = {}
    for mode, deferrable in (("poke", False), ("deferred", True)):
        answered[mode] = SipCallAnsweredSensor(
            task_id=f"answered_{mode}",
            meeting_id=room.output,
            participant_id=call_answers.output,
            poke_interval=1,
            timeout=10,
            deferrable=deferrable,
        )
        # Nobody answers: with soft_fail the sensor is skipped, not failed.
        SipCallAnsweredSensor(
            task_id=f"silent_soft_{mode}",
            meeting_id=room.output,
            participant_id=call_silent.output,
            poke_interval=1,
            answer_timeout="{{ 2 }}",
            soft_fail=True,
            deferrable=deferrable,
        )
        # A participant ID that came back None fails naming the field, even with soft_fail.
        SipCallAnsweredSensor(
            task_id=f"bad_input_{mode}",
            meeting_id="bad-input-room",
            participant_id=no_participant,
            soft_fail=True,
            deferrable=deferrable,
        )

    @task
    def report_answered(poke: dict[str, Any], deferred: dict[str, Any]) -> None:
        for mode, found in (("poke", poke), ("deferred", deferred)):
            print(f"ANSWERED {mode} participant={found['participantId']} session={found['sessionId']}")

    report_answered(answered["poke"].output, answered["deferred"].output)


with DAG(
    "videosdk_shared_notifier",
    schedule=None,
    start_date=START,
    # One notifier instance for every task of the DAG.
    default_args={
        "on_failure_callback": SipCallNotifier(
            to="+14155550140",
            display_name="{{ dag.dag_id }}.{{ ti.task_id }} failed",
            meeting_id="incident-room",
            trunk_id="trunk_demo",
        )
    },
):

    @task
    def fail_first() -> None:
        raise RuntimeError("first failure")

    @task
    def fail_second() -> None:
        raise RuntimeError("second failure")

    @task
    def succeed() -> None:
        print("no call for me")

    @task(
        on_failure_callback=SipCallNotifier(
            # Rendered: a constant this bad would fail the DAG's import (tests/operators/test_parse_time.py).
            to="{{ '555-0100' }}",
            display_name="bad number",
            meeting_id="incident-room",
            trunk_id="trunk_demo",
        )
    )
    def fail_with_bad_notifier() -> None:
        raise RuntimeError("third failure")

    # A meeting template that renders to "": before 3.3 Airflow then keeps the raw template text.
    @task(
        on_failure_callback=SipCallNotifier(
            to="+14155550141", display_name="empty meeting", meeting_id="{{ '' }}", trunk_id="trunk_demo"
        )
    )
    def fail_with_empty_meeting() -> None:
        raise RuntimeError("fourth failure")

    fail_first()
    fail_second()
    succeed()
    fail_with_bad_notifier()
    fail_with_empty_meeting()


class LostResultSensor(SipCallAnsweredSensor):
    """A sensor that fails for a reason other than "not answered" (a lost result, an API outage)."""

    def execute(self, context: Any) -> Any:
        raise RuntimeError("the sensor's result was lost")


# The primary answers at once, but its sensor fails anyway: the secondary must not be phoned.
with DAG("videosdk_skip_if_answered", schedule=None, start_date=START):
    call = {"display_name": "Incident", "meeting_id": "incident-skip", "trunk_id": "trunk_demo"}
    primary = SipOutboundCallOperator(task_id="call_primary", to=ANSWERS, **call)
    wait = LostResultSensor(task_id="wait_primary", meeting_id="incident-skip", participant_id=primary.output)
    secondary = SipOutboundCallOperator(
        task_id="call_secondary", to=SILENT, trigger_rule="one_failed", skip_if_answered=[primary.output], **call
    )
    wait >> secondary


# A reused meeting and a reused custom participant_id: last week's session must not count as an answer.
for _deferrable in (False, True):
    with DAG(f"videosdk_reused_meeting{'_deferrable' if _deferrable else ''}", schedule=None, start_date=START):
        reused = SipOutboundCallOperator(
            task_id="call",
            to=SILENT,
            display_name="Incident",
            meeting_id="incident-room",
            trunk_id="trunk_demo",
            participant_id="oncall-primary",
        )
        SipCallAnsweredSensor(
            task_id="wait",
            meeting_id="incident-room",
            participant_id=reused.output,
            timeout=3,
            poke_interval=1,
            deferrable=_deferrable,
        )
