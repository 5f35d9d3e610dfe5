"""The escalation DAG's shape, as the factory builds it from a policy (no Airflow run, no request)."""

from __future__ import annotations

import pytest

from airflow_provider_videosdk.incidents.factory import escalation_dag
from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Level
from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_1_PLUS

PRIMARY, BACKUP, SECONDARY = "+14155550101", "+14155550103", "+14155550102"


def build(**kwargs):
    policy = EscalationPolicy(
        levels=[Level([PRIMARY, BACKUP], ring_seconds=20, name="primary"), Level(SECONDARY, ring_seconds=30)],
        gateway_id="gw-1",
        **kwargs,
    )
    return escalation_dag(policy, "incident_escalation")


def upstream(dag, task_id: str) -> set[str]:
    return set(dag.get_task(task_id).upstream_task_ids)


def test_one_group_per_level_each_callee_a_call_and_a_deferrable_wait() -> None:
    dag = build()

    assert set(dag.task_group.children) == {"open_incident", "primary", "level_2", "summary"}
    assert sorted(dag.task_group.children["primary"].children) == [
        "primary.answered",
        "primary.call_1",
        "primary.call_2",
        "primary.wait_1",
        "primary.wait_2",
    ]
    call, wait = dag.get_task("primary.call_2"), dag.get_task("primary.wait_2")
    assert (call.to, call.gateway_id, call.ringing_timeout) == (BACKUP, "gw-1", 20)
    assert wait.deferrable and wait.answer_timeout == 35 and upstream(dag, "primary.wait_2") == {"primary.call_2"}
    # The level's phones ring together: both calls start right after the meeting is created.
    assert upstream(dag, "primary.call_1") == upstream(dag, "primary.call_2") == {"open_incident"}
    assert dag.get_task("primary.answered").trigger_rule == "one_success"
    assert upstream(dag, "primary.answered") == {"primary.wait_1", "primary.wait_2"}


def test_the_next_level_waits_behind_a_gate_and_the_summary_is_the_only_leaf() -> None:
    dag = build(rounds=2)

    gate = dag.get_task("round_1_level_2.escalate")
    assert gate.trigger_rule == "all_done" and upstream(dag, gate.task_id) == {"round_1_primary.answered"}
    assert upstream(dag, "round_1_level_2.call_1") == {"round_1_level_2.escalate", "open_incident"}
    assert upstream(dag, "round_2_primary.escalate") == {"round_1_level_2.answered"}
    assert [t.task_id for t in dag.leaves] == ["summary"]
    assert dag.get_task("summary").trigger_rule == "all_done"
    assert len([t for t in dag.tasks if t.task_id.endswith(".call_1") or t.task_id.endswith(".call_2")]) == 6


def test_a_routing_rule_reaches_every_call() -> None:
    policy = EscalationPolicy(levels=[PRIMARY], routing_rule_id="rule-7")
    dag = escalation_dag(policy, "incident_by_rule")

    call = dag.get_task("level_1.call_1")
    assert (call.gateway_id, call.routing_rule_id) == (None, "rule-7")
    assert dag.is_paused_upon_creation is False


@pytest.mark.skipif(not AIRFLOW_V_3_1_PLUS, reason="human-in-the-loop is Airflow 3.1+ (refused below)")
def test_human_acknowledgement_adds_a_request_after_the_first_answer() -> None:
    from datetime import timedelta

    from airflow.providers.standard.operators.hitl import HITLOperator

    dag = build(ack="human", ack_timeout=90)

    ack = dag.get_task("primary.acknowledge")
    assert isinstance(ack, HITLOperator)
    assert ack.options == ["Acknowledge"] and ack.response_timeout == timedelta(seconds=90)
    assert upstream(dag, "primary.acknowledge") == {"primary.answered"}
    assert upstream(dag, "level_2.escalate") == {"primary.answered", "primary.acknowledge"}
