"""The operator run for real through ``airflow dags test`` against the emulator over HTTP."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.version_compat import HAS_TASK_STATE_STORE

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.dags


@pytest.mark.python
@pytest.mark.matrix
def test_templated_call_sends_seed_body_once_and_hands_participant_id_downstream(
    videosdk_emulator: VideoSDKEmulator, run_dag
) -> None:
    result = run_dag("videosdk_templated_call")

    assert result.returncode == 0, result.output[-3000:]
    posts = videosdk_emulator.requests_to("/v2/sip/outbound-call")
    assert len(posts) == 1
    body = dict(posts[0].body)
    if HAS_TASK_STATE_STORE:  # the operator names the call, so that an interrupted try can find it
        assert re.fullmatch(r"airflow-[0-9a-f]{16}", body.pop("participantId"))
    assert body == {
        "to": "+14155550100",
        "from": "+15550100002",
        "displayName": "videosdk_templated_call on-call",
        "meetingId": "war-room-1",
        "trunkId": "trunk_demo",
    }
    assert posts[0].headers["content-type"] == "application/json"
    assert not posts[0].headers["authorization"].lower().startswith("bearer")
    pid = videosdk_emulator.calls[0]["participantId"]
    assert f"RECEIVED return_value={pid} participant_id={pid}" in result.output
    assert result.state("receive") == "success"


def test_mapped_call_dials_each_number_once_with_custom_ids_and_connection(
    videosdk_emulator: VideoSDKEmulator, run_dag, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default connection points nowhere: success proves videosdk_conn_id was honoured.
    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        '{"conn_type": "videosdk", "login": "k", "password": "nope", "host": "http://127.0.0.1:9"}',
    )
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_SECONDARY", videosdk_emulator.connection_json())

    result = run_dag("videosdk_mapped_call")

    assert result.returncode == 0, result.output[-3000:]
    dialled = sorted(c["to"] for c in videosdk_emulator.calls)
    assert dialled == ["+14155550101", "+14155550102", "+14155550104", "sip:+14155550103@sip.example.com"]
    names = {c["to"]: c["displayName"] for c in videosdk_emulator.calls}
    assert names["+14155550101"] == "On-call 0" and names["+14155550102"] == "On-call 1"
    custom = next(c for c in videosdk_emulator.calls if c["to"] == "+14155550104")
    assert re.fullmatch(r"manager-\d{8}", custom["participantId"])
    assert len(videosdk_emulator.requests_to("/v2/sip/outbound-call")) == 4
    states = result.states()
    assert [states[("dial_each", i)][0] for i in range(3)] == ["success"] * 3


# task_id -> a piece of the error it must fail with (the field's name and the expected form).
EXPECTED_ERRORS = {
    "to_int": "to must be a non-empty string, got int (pass phone numbers as strings",
    "to_list": "to must be a non-empty string, got list",
    "to_none_from_xcom": "to rendered to nothing (None): did an XCom or param return None?",
    "to_blank": "to rendered to nothing ('   '): did an XCom or param return None?",
    "to_no_plus": "to must be an E.164 number such as +14155550100",
    "to_too_long": "to must be an E.164 number such as +14155550100 (a '+', then 7 to 15 digits)",
    "to_too_short": "to must be an E.164 number such as +14155550100 (a '+', then 7 to 15 digits)",
    "to_with_crlf": "to must not contain control characters",
    "to_sip_space": "to must be a SIP URI such as sip:+14155550100@sip.example.com (user@host",
    "to_sip_empty_host": "lacks a user or a valid host",
    "to_sip_no_user": "lacks a user or a valid host",
    "to_sip_uri_header": "holds a character SIP does not allow there (spaces, '?', '<', '>', ','",
    "to_sip_second_uri": "holds a character SIP does not allow there",
    "meeting_id_none_string": "meeting_id rendered to nothing ('None'): did an XCom or param return None?",
    # A template that renders to "": refused after rendering, before anything is sent.
    "trunk_id_renders_empty": "trunk_id rendered to nothing (''): did an XCom or param return None?",
    "to_tel_scheme": "the tel: scheme is not supported",
    "from_not_e164": "from_number must be an E.164 number",
    "display_name_lf": "display_name must not contain control characters",
    "display_name_too_long": "display_name must be at most 128 characters, got 129",
    "meeting_id_empty": "meeting_id rendered to nothing ('')",
    "trunk_id_tab": "trunk_id must not contain control characters",
    "participant_id_nul": "participant_id must not contain control characters",
    "participant_id_int": "participant_id must be a non-empty string, got int",
    "timeout_negative": "timeout must be > 0 and <= 600 seconds, got -1",
    "retry_attempts_zero": "retry_attempts must be an integer from 1 to 20, got 0",
}


def test_every_bad_value_fails_its_task_naming_the_field_and_sends_nothing(
    videosdk_emulator: VideoSDKEmulator, run_dag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_BAD_TIMEOUT", videosdk_emulator.connection_json({"timeout": -1}))

    result = run_dag("videosdk_bad_inputs")

    assert videosdk_emulator.requests == []
    states = result.states()
    for task_id, message in EXPECTED_ERRORS.items():
        state, tries = states[(task_id, -1)]
        assert state == "failed", (task_id, state)
        assert tries == 1, f"{task_id} was retried although its input can never become valid"
        assert message in result.output, (task_id, message)
    # Phone numbers in errors are masked like in logs.
    assert "2071838750" not in result.output
    assert "got '****8750'" in result.output
