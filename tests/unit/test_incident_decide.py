"""What the escalation's tasks decide from the calls they read: pure functions, no I/O."""

from __future__ import annotations

from typing import Any

from airflow_provider_videosdk.incidents import decide
from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Level


def call(status: str, answered_at: str | None = None) -> dict[str, Any]:
    timelog = [{"status": "initiated", "timestamp": "2026-12-02T10:00:00Z"}]
    if answered_at:
        timelog.append({"status": "answered", "timestamp": answered_at})
    return {"id": "c", "status": status, "timelog": timelog}


def test_the_first_to_answer_wins_and_the_calls_still_ringing_are_hung_up() -> None:
    calls = [
        call("answered", "2026-12-02T10:00:09Z"),
        call("ringing"),
        call("ended", "2026-12-02T10:00:04Z"),  # answered first, then hung up: still the first answer
        call("rejected"),
        None,  # never placed
        call("queued"),  # a status this provider does not know: not final, so it is hung up too
    ]

    assert decide.first_answer(calls) == (2, [1, 5])


def test_no_answer_means_no_winner_and_nothing_is_hung_up() -> None:
    assert decide.first_answer([call("ringing"), call("not-answered"), None]) == (None, [])


def test_who_acknowledged_depends_on_the_ack_mode() -> None:
    policy = EscalationPolicy(levels=[["+14155550101", "+14155550102"]], gateway_id="gw")
    (step,) = policy.steps()

    assert decide.acknowledger("answer", step, {"callee": 1, "call_id": "c"}, ["A", "B"]) == "B (answered at level_1)"
    assert decide.acknowledger("answer", step, None, ["A", "B"]) is None
    payload = {"chosen_options": ["Acknowledge"], "responded_by_user": {"id": "7", "name": "alice"}}
    assert decide.acknowledger("human", step, payload, ["A", "B"]) == "alice (Acknowledge pressed, at level_1)"


def test_task_ids_are_derived_from_the_step() -> None:
    policy = EscalationPolicy(levels=[Level("+14155550101", name="primary")], gateway_id="gw", rounds=2)
    first, second = policy.steps()

    assert decide.call_task_id(second, 0) == "round_2_primary.call_1"
    assert decide.wait_task_id(first, 0) == "round_1_primary.wait_1"
    assert decide.ack_task_id(policy, first) == "round_1_primary.answered"


def test_the_summary_reads_at_a_glance() -> None:
    rows = [
        decide.CallRow("level_1", "+1415****101", "call_a", 1764669600.0, "not-answered"),
        decide.CallRow("level_2", "+1415****102", "call_b", 1764669665.0, "answered"),
        decide.CallRow("level_3", "+1415****103", None, None, "not phoned"),
    ]

    text = decide.summary_text("db-down", rows, "+1415****102 (answered at level_2)")

    assert text.splitlines() == [
        "Incident db-down: acknowledged by +1415****102 (answered at level_2)",
        "2 call(s) placed:",
        f"  10:00:00 UTC  {'level_1':<24} {'+1415****101':<28} {'not-answered':<14} call_a",
        f"  10:01:05 UTC  {'level_2':<24} {'+1415****102':<28} {'answered':<14} call_b",
        "not phoned: level_3",
    ]
    assert decide.summary_text("k", rows[:1], None).startswith("Incident k: nobody acknowledged")


def test_a_call_answered_then_ended_counts_as_answered_in_the_summary() -> None:
    assert decide.final_status(call("ended", "2026-12-02T10:00:04Z")) == "answered"
    assert decide.final_status(call("ended")) == "ended"
    assert decide.final_status(None) == "unknown"
