"""The escalation policy and the incident key, checked when they are built: pure, no Airflow run."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.incidents.keys import RUN_ID_RE, incident_run_id, safe_key
from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Level, check_ack
from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_1_PLUS

PRIMARY, SECONDARY, MANAGER = "+14155550101", "+14155550102", "+14155550103"


def test_levels_in_short_form_are_levels_with_the_default_ring_time() -> None:
    policy = EscalationPolicy(levels=[PRIMARY, [SECONDARY, "sip:oncall@pbx.example.com"]], gateway_id="gw-1")

    assert policy.levels == (
        Level(callees=(PRIMARY,)),
        Level(callees=(SECONDARY, "sip:oncall@pbx.example.com")),
    )
    assert policy.levels[0].ring_seconds == 60.0
    assert policy.route == {"gateway_id": "gw-1"}
    assert (policy.ack, policy.rounds) == ("answer", 1)


def test_steps_run_every_level_of_every_round_in_order() -> None:
    policy = EscalationPolicy(levels=[Level(PRIMARY, name="primary"), Level(SECONDARY)], routing_rule_id="r", rounds=2)

    assert [(s.round, s.index, s.group_id) for s in policy.steps()] == [
        (1, 1, "round_1_primary"),
        (1, 2, "round_1_level_2"),
        (2, 1, "round_2_primary"),
        (2, 2, "round_2_level_2"),
    ]
    assert policy.route == {"routing_rule_id": "r"}
    one_round = EscalationPolicy(levels=[PRIMARY, SECONDARY], gateway_id="gw")
    assert [s.group_id for s in one_round.steps()] == ["level_1", "level_2"]


def test_the_policy_as_plain_json_data_reads_back_the_same_and_is_checked_again() -> None:
    policy = EscalationPolicy(
        levels=[Level([PRIMARY, SECONDARY], ring_seconds=20, name="on_call"), MANAGER],
        routing_rule_id="rr-1",
        rounds=2,
    )

    data = json.loads(json.dumps(policy.to_dict()))  # as a deadline alert's callback kwargs are kept

    assert EscalationPolicy.from_dict(data) == policy
    data["levels"][1]["callees"] = ["0800 not e164"]
    with pytest.raises(VideoSDKInputError, match=r"levels\[1\]\.callees\[0\]"):
        EscalationPolicy.from_dict(data)


def test_the_policy_is_frozen() -> None:
    policy = EscalationPolicy(levels=[PRIMARY], gateway_id="gw")
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.rounds = 3  # type: ignore[misc]
    assert isinstance(policy.levels, tuple) and isinstance(policy.levels[0].callees, tuple)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"levels": []}, "levels must hold 1 to 10 levels, got 0"),
        ({"levels": [PRIMARY, "4155550102"]}, "levels[1].callees[0] must be an E.164 number"),
        ({"levels": [[PRIMARY, PRIMARY]]}, "levels[0].callees must not name the same number twice"),
        ({"levels": [[]]}, "levels[0].callees must hold 1 to 10 numbers"),
        ({"levels": [["tel:+14155550101"]]}, "levels[0].callees[0] must be an E.164 number"),
        ({"levels": 7}, "levels must be a string or a list of them, got int"),
        ({"gateway_id": None}, "give exactly one of gateway_id or routing_rule_id, got neither"),
        ({"routing_rule_id": "r"}, "give exactly one of gateway_id or routing_rule_id, got gateway_id and"),
        ({"gateway_id": " "}, "gateway_id rendered to nothing"),
        ({"rounds": 0}, "rounds must be an integer from 1 to 10, got 0"),
        ({"rounds": 1.5}, "rounds must be an integer from 1 to 10"),
        ({"ack": "press-1"}, "ack must be one of 'answer', 'human', got 'press-1'"),
        ({"ack_timeout": 0}, "ack_timeout must be > 0 and <= 86400 seconds"),
        ({"from_number": "555"}, "from_number must be an E.164 number"),
        ({"poll_interval": -1}, "poll_interval must be > 0 and <= 60 seconds"),
        ({"levels": [Level(PRIMARY, name="a"), Level(SECONDARY, name="a")]}, "levels must have different names"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(VideoSDKInputError) as raised:
        EscalationPolicy(**{"levels": [PRIMARY], "gateway_id": "gw", **kwargs})
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ring_seconds": 301}, "ring_seconds must be > 0 and <= 300 seconds, got 301"),
        ({"ring_seconds": "soon"}, "ring_seconds must be a number of seconds"),
        ({"name": "level one"}, "name must be 1 to 40 letters, digits, '_' or '-'"),
        ({"callees": ("sip:nobody@",)}, "callees[0] must be a SIP URI"),
    ],
)
def test_a_bad_level_is_refused_naming_the_field(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(VideoSDKInputError) as raised:
        Level(**{"callees": PRIMARY, **kwargs})
    assert message in str(raised.value)


def test_human_acknowledgement_is_refused_below_airflow_3_1_with_the_way_out() -> None:
    assert check_ack("human", True, "3.1.8") == "human"
    assert check_ack("answer", False, "2.11.2") == "answer"
    with pytest.raises(VideoSDKInputError) as raised:
        check_ack("human", False, "2.11.2")
    assert "ack='human' needs Airflow 3.1 or later" in str(raised.value)
    assert "this is Airflow 2.11.2. Use ack='answer'" in str(raised.value)


def test_the_running_airflow_decides_whether_human_acknowledgement_is_accepted() -> None:
    def build() -> EscalationPolicy:
        return EscalationPolicy(levels=[PRIMARY], gateway_id="gw", ack="human", ack_timeout=120)

    if AIRFLOW_V_3_1_PLUS:
        assert build().ack == "human"
    else:
        with pytest.raises(VideoSDKInputError, match=r"ack=.human. needs Airflow 3\.1 or later"):
            build()


@pytest.mark.parametrize("key", ["nightly_dq", "db/primary down!", "ünïcode key", "a" * 300, "", "x:y+z~1.2-3", "__"])
def test_every_key_makes_a_valid_run_id(key: str) -> None:
    run_id = incident_run_id(key, now=1_764_700_000.5, bucket_seconds=3600)

    assert RUN_ID_RE.fullmatch(run_id), run_id
    assert len(run_id) <= 250
    assert run_id.startswith("incident__") and run_id.endswith("__20251202T180000Z")


def test_the_run_id_is_the_same_within_a_bucket_and_differs_across_keys_and_buckets() -> None:
    t = 1_764_700_800.0  # 18:40:00 UTC, the start of a 10-minute bucket
    assert incident_run_id("k", t, 600) == incident_run_id("k", t + 599.9, 600) == "incident__k__20251202T184000Z"
    assert incident_run_id("k", t + 600, 600) != incident_run_id("k", t, 600)
    # Keys that sanitise alike still get different run ids.
    assert safe_key("db down") != safe_key("db_down") and safe_key("db down") != safe_key("db?down")
    assert safe_key("db_down") == "db_down"


def test_the_first_level_calls_are_identified_by_the_run_id_alone() -> None:
    from airflow_provider_videosdk.calls import SipCall, attempt_of
    from airflow_provider_videosdk.incidents.keys import first_call_ids

    run_id = incident_run_id("db-down", 1_764_700_000.0)
    ids = [first_call_ids(run_id, i) for i in range(3)]
    assert ids == [first_call_ids(run_id, i) for i in range(3)]  # the notifier and the run's task agree
    assert len({p for p, _ in ids}) == len({a for _, a in ids}) == 3  # one per callee
    assert first_call_ids(incident_run_id("other", 1_764_700_000.0), 0) != ids[0]
    participant_id, attempt = ids[0]
    call = SipCall.build(to="+14155550100", meeting_id="room", gateway_id="gw", participant_id=participant_id)
    assert attempt_of(dataclasses.replace(call, metadata={"airflowAttempt": attempt})) == attempt


def test_the_run_waits_for_the_notifiers_calls_longer_than_the_notifier_may_take_to_send_them() -> None:
    from airflow_provider_videosdk.incidents.keys import FIRST_CALL_BUDGET, FIRST_CALL_SEND_BY, first_call_wait

    until = first_call_wait(1000.0, request_timeout=30, clock_skew=5)
    assert until - 1000.0 >= FIRST_CALL_SEND_BY + FIRST_CALL_BUDGET + 30 + 5
