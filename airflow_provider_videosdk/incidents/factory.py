"""
The escalation DAG, made from a policy: one task group per level (per round), read left to right in the grid.

::

    open_incident >> level_1 [escalate >> call_N >> wait_N >> answered (>> acknowledge)] >> level_2 [...] >> summary

``open_incident`` creates the incident's meeting (one per run, idempotent on the run id). In each
level, ``call_N`` (:class:`SipCallOperator`) phones one callee and ``wait_N`` (a deferrable
:class:`SipCallStatusSensor`) follows the call; the level's phones ring together. ``answered`` runs
at the first answer and hangs up the level's other calls. With ``ack="human"``, ``acknowledge`` (an
Airflow human-in-the-loop request) then waits for the on-call to press Acknowledge. The next
level's ``escalate`` gate skips the rest once someone acknowledged. ``summary`` logs the outcome
and fails the run when nobody acknowledged. A call nobody answered (or hung up as another
answered) shows as a failed ``wait_N``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.incidents import decide
from airflow_provider_videosdk.incidents.operators import (
    EscalationGateOperator,
    FirstAnswerOperator,
    IncidentSummaryOperator,
)
from airflow_provider_videosdk.validation import mask_phone
from airflow_provider_videosdk.version_compat import DAG, TaskGroup

if TYPE_CHECKING:
    from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Step

#: Seconds a call's sensor waits beyond the ring time (VideoSDK ends the call at the ring time).
WAIT_MARGIN = 15.0
ROOM_RETRIES = 3


def escalation_dag(policy: EscalationPolicy, dag_id: str, **dag_kwargs: Any) -> Any:
    """
    Build the escalation DAG of ``policy`` as ``dag_id``; its runs are incidents (see the notifier).

    Assign the result to a module-level name in a DAG file. ``dag_kwargs`` go to the DAG (``tags``,
    ``default_args``, ...); by default it has no schedule and is not paused when first parsed, so
    that the first incident is not left queued.
    """
    defaults: dict[str, Any] = {
        "schedule": None,
        "start_date": datetime(2024, 1, 1, tzinfo=timezone.utc),
        "catchup": False,
        "is_paused_upon_creation": False,
        "tags": ["videosdk", "incident"],
        "doc_md": describe(policy),
    }
    with DAG(dag_id, **{**defaults, **dag_kwargs}) as dag:
        _tasks(policy)
    return dag


def _tasks(policy: EscalationPolicy) -> None:
    from airflow_provider_videosdk.operators.rooms import VideoSDKCreateRoomOperator

    room = VideoSDKCreateRoomOperator(
        task_id=decide.OPEN_TASK,
        custom_room_id="{{ run_id }}",
        videosdk_conn_id=policy.videosdk_conn_id,
        retries=ROOM_RETRIES,
        retry_delay=timedelta(seconds=2),
    )
    summary = IncidentSummaryOperator(task_id=decide.SUMMARY_TASK, policy=policy)
    tail: list[Any] = [room]
    earlier: list[Step] = []
    for step in policy.steps():
        with TaskGroup(step.group_id, tooltip=_tooltip(step)):
            head: Any = room
            if earlier:
                head = EscalationGateOperator(task_id=decide.GATE_TASK, policy=policy, step=step, earlier=earlier)
                head.set_upstream(tail)
            waits = _level(policy, step, room, head)
            answered = FirstAnswerOperator(task_id=decide.ANSWERED_TASK, policy=policy, step=step)
            answered.set_upstream(waits)
            tail = [answered]
            if policy.ack == "human":
                ack = _acknowledge(policy, step)
                answered >> ack
                tail.append(ack)
        summary.set_upstream([*waits, *tail])
        earlier.append(step)


def _level(policy: EscalationPolicy, step: Step, room: Any, head: Any) -> list[Any]:
    from airflow_provider_videosdk.incidents.operators import FirstLevelCallOperator
    from airflow_provider_videosdk.operators.sip import SipCallOperator
    from airflow_provider_videosdk.sensors.sip import SipCallStatusSensor

    waits: list[Any] = []
    route: dict[str, Any] = policy.route
    first = step.round == 1 and step.index == 1  # the notifier that opened the incident phoned these
    for index, callee in enumerate(step.level.callees):
        adopt: dict[str, Any] = {"callee_index": index} if first else {}
        call = (FirstLevelCallOperator if first else SipCallOperator)(
            task_id=f"call_{index + 1}",
            to=callee,
            meeting_id=room.output,
            from_number=policy.from_number,
            display_name=f"On-call {step.group_id}",
            ringing_timeout=step.level.ring_seconds,
            metadata={"incident_run": "{{ run_id }}", "level": step.group_id},
            videosdk_conn_id=policy.videosdk_conn_id,
            **route,
            **adopt,
        )
        wait = SipCallStatusSensor(
            task_id=f"wait_{index + 1}",
            call_id=call.output,  # type: ignore[arg-type]  # an XComArg, resolved at run time
            videosdk_conn_id=policy.videosdk_conn_id,
            deferrable=True,
            poke_interval=policy.poll_interval,
            answer_timeout=step.level.ring_seconds + WAIT_MARGIN,
        )
        head >> call >> wait
        waits.append(wait)
    return waits


def _acknowledge(policy: EscalationPolicy, step: Step) -> Any:
    """The human-in-the-loop request after an answer (Airflow 3.1+; the policy refused it below)."""
    from airflow.providers.standard.operators.hitl import HITLOperator

    return HITLOperator(
        task_id=decide.ACK_TASK,
        subject="Incident {{ dag_run.conf.get('incident_key') or run_id }}: acknowledge",
        body=(
            f"Answered at {step.group_id}. Press **{decide.ACK_OPTION}** if you are taking the incident; "
            f"without it within {policy.ack_timeout:g} s the next level is phoned."
        ),
        options=[decide.ACK_OPTION],
        response_timeout=timedelta(seconds=policy.ack_timeout),
    )


def _tooltip(step: Step) -> str:
    callees = ", ".join(mask_phone(c) for c in step.level.callees)
    return f"Round {step.round}, level {step.index}: {callees}, ringing {step.level.ring_seconds:g} s"


def describe(policy: EscalationPolicy) -> str:
    """The policy in words, for the DAG's documentation (numbers masked)."""
    lines = ["Escalation policy (made by `escalation_dag`):", ""]
    for index, level in enumerate(policy.levels, start=1):
        callees = ", ".join(mask_phone(c) for c in level.callees)
        lines.append(f"{index}. {level.name or f'level_{index}'}: {callees}, ringing {level.ring_seconds:g} s")
    ack = "an answered call" if policy.ack == "answer" else f"Acknowledge pressed within {policy.ack_timeout:g} s"
    lines += ["", f"Rounds: {policy.rounds}. Acknowledged by {ack}."]
    return "\n".join(lines)
