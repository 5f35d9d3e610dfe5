"""What the status sensor and trigger make of one look at a call: pure logic, no I/O."""

from __future__ import annotations

import pytest

from airflow_provider_videosdk.call_watch import FINAL_OUTCOMES, judge
from airflow_provider_videosdk.calls import STATUSES

RUN_START = 1_800_000_000.0
SKEW = 30.0


def look(call: dict, created_after: float | None = RUN_START):
    return judge(call, "call-1", created_after=created_after, skew=SKEW)


@pytest.mark.parametrize("status", ["not-answered", "missed", "rejected", "failed", "abandoned"])
@pytest.mark.parametrize("spell", [str.lower, str.upper, lambda s: f" {s.title()} "])
def test_every_final_status_without_an_answer_is_unanswered_and_named(status: str, spell) -> None:
    result = look({"id": "call-1", "status": spell(status)})

    assert (result.outcome, result.status, result.final) == ("unanswered", status, True)
    assert f"its status is '{status}'" in result.message
    assert STATUSES[status][1] in result.message


def test_answered_by_status_or_by_timelog() -> None:
    assert look({"status": "ANSWERED"}).outcome == "answered"
    ended = {"status": "ended", "timelog": [{"status": "ringing"}, {"status": "Answered"}, {"status": "ended"}]}
    assert look(ended).outcome == "answered"


def test_ended_without_an_answer_in_the_timelog_is_unanswered() -> None:
    result = look({"status": "ENDED", "timelog": [{"status": "initiated"}, {"status": "ringing"}]})

    assert result.outcome == "unanswered"
    assert "'ended'" in result.message and "no 'answered' in its timelog" in result.message


@pytest.mark.parametrize("status", ["initiated", "Ringing", "transfer-ringing"])
def test_statuses_before_the_end_are_pending(status: str) -> None:
    result = look({"status": status})

    assert result.outcome == "pending" and not result.final


def test_a_status_nobody_knows_is_not_final_and_says_so() -> None:
    result = look({"status": "On-Hold-Forever"})

    assert (result.outcome, result.final) == ("unknown", False)
    assert "'on-hold-forever', which this provider does not know" in result.message


@pytest.mark.parametrize(
    "created",
    [
        {"createdAt": "2027-01-15T07:59:00Z"},  # run start is 2027-01-15T08:00:00Z; beyond the 30 s skew
        {"start": (RUN_START - 3600) * 1000},  # epoch milliseconds
        {"timelog": [{"status": "answered", "timestamp": "2027-01-15T07:00:00+00:00"}]},
    ],
)
def test_a_call_from_before_the_run_never_counts_even_answered(created: dict) -> None:
    result = look({"status": "answered", **created})

    assert (result.outcome, result.final) == ("stale", True)
    assert "before this DAG run started (2027-01-15T08:00:00+00:00)" in result.message
    assert "call-1" in result.message


def test_freshness_allows_the_clock_skew_and_calls_that_tell_no_time() -> None:
    assert look({"status": "answered", "createdAt": (RUN_START - SKEW + 1) * 1000}).outcome == "answered"
    assert look({"status": "answered"}).outcome == "answered"  # no creation time: judged by status
    assert look({"status": "answered", "createdAt": "2020-01-01T00:00:00Z"}, created_after=None).outcome == "answered"


def test_final_outcomes_are_exactly_those_that_stop_the_sensor() -> None:
    assert set(FINAL_OUTCOMES) == {"answered", "unanswered", "stale"}
    kinds = {kind for kind, _ in STATUSES.values()}
    assert kinds == {"answered", "unanswered", "ended", "pending"}


def test_the_status_trigger_serialises_to_what_rebuilds_it() -> None:
    from airflow_provider_videosdk.triggers.sip import SipCallStatusTrigger

    trigger = SipCallStatusTrigger(
        call_id="call-1", end_time=1_900_000_000.5, poll_interval=2, created_after=RUN_START, reported_unknown=["x"]
    )
    classpath, kwargs = trigger.serialize()

    assert classpath == "airflow_provider_videosdk.triggers.sip.SipCallStatusTrigger"
    assert kwargs == {
        "call_id": "call-1",
        "end_time": 1_900_000_000.5,
        "poll_interval": 2.0,
        "videosdk_conn_id": "videosdk_default",
        "created_after": RUN_START,
        "reported_unknown": ["x"],
        "keep_call": False,
    }
    assert SipCallStatusTrigger(**kwargs).serialize() == (classpath, kwargs)
    # The same cadence as the answered trigger: one look per interval, one last look before the deadline.
    assert trigger._next_wait(10.0, 0.5) == pytest.approx(1.5)
    assert trigger._next_wait(1.2, 0.0) == pytest.approx(0.7)


def test_the_status_sensor_templates_its_call_id_and_timeout_and_hangs_up_by_default() -> None:
    from airflow_provider_videosdk.sensors.sip import SipCallStatusSensor

    sensor = SipCallStatusSensor(task_id="wait", call_id="{{ ti.xcom_pull('call') }}")

    assert tuple(sensor.template_fields) == ("call_id", "answer_timeout")
    assert sensor.hang_up_on_timeout is True
