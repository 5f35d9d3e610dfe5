"""A bad constant is refused when the DAG is parsed (an import error naming task and field); templates wait."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.notifications.sip import SipCallNotifier
from airflow_provider_videosdk.operators.sip import SipCallOperator, SipOutboundCallOperator
from tests.helpers import CALL

if TYPE_CHECKING:
    from pathlib import Path

CALL_API = {"to": "+14155550140", "meeting_id": "war-room", "gateway_id": "trunk_demo"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"to": 14155550100}, "page: to must be a non-empty string, got int (pass phone numbers as strings"),
        ({"to": ["+14155550100"]}, "page: to must be a non-empty string, got list"),
        ({"to": "4155550100"}, "page: to must be an E.164 number such as +14155550100"),
        ({"to": "None"}, "page: to rendered to nothing ('None'): did an XCom or param return None?"),
        ({"meeting_id": ""}, "page: meeting_id rendered to nothing ('')"),
        ({"from_number": "555-0100"}, "page: from_number must be an E.164 number"),
        ({"display_name": "x" * 129}, "page: display_name must be at most 128 characters, got 129"),
    ],
)
def test_a_bad_constant_fails_the_outbound_call_operator_and_the_notifier_at_parse_time(
    bad: dict[str, Any], message: str
) -> None:
    with pytest.raises(VideoSDKInputError, match=re.escape(message)):
        SipOutboundCallOperator(task_id="page", **{**CALL, **bad})
    with pytest.raises(VideoSDKInputError, match=re.escape(message.replace("page:", "SipCallNotifier:"))):
        SipCallNotifier(**{**CALL, **bad})


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"to": "tel:+14155550100"}, "page: to must be an E.164 number"),
        ({"gateway_id": "null"}, "page: gateway_id rendered to nothing ('null')"),
        ({"ringing_timeout": 2.5}, "page: ringing_timeout must be a whole number of seconds"),
        ({"metadata": {"k": "x" * 5000}}, "page: metadata must be at most"),
    ],
)
def test_a_bad_constant_fails_the_call_api_operator_at_parse_time(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(VideoSDKInputError, match=re.escape(message)):
        SipCallOperator(task_id="page", **{**CALL_API, **bad})


def test_templates_and_xcoms_are_left_to_execute_time() -> None:
    templated = {
        "to": "{{ params.oncall }}",
        "meeting_id": "{% if true %}{% endif %}",
        "metadata": {"run": "{{ run_id }}"},
    }
    SipCallOperator(task_id="page", **{**CALL_API, **templated})
    SipOutboundCallOperator(task_id="page2", **{**CALL, "to": "{{ params.oncall }}", "trunk_id": "{# later #}"})
    SipCallNotifier(**{**CALL, "to": "{{ dag_run.conf['to'] }}"})


def test_a_dag_file_with_a_bad_constant_is_an_import_error_naming_the_task_and_field(tmp_path: Path) -> None:
    from airflow.models import DagBag

    (tmp_path / "page_dag.py").write_text(
        "import pendulum\n"
        "from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS\n"
        "if AIRFLOW_V_3_0_PLUS:\n    from airflow.sdk import DAG\nelse:\n    from airflow import DAG\n"
        "from airflow_provider_videosdk.operators.sip import SipCallOperator\n"
        "with DAG('page_dag', schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz='UTC')):\n"
        "    SipCallOperator(task_id='call_oncall', to='+1 (415) 555-0100', meeting_id='war-room',"
        " gateway_id='trunk_demo')\n"
    )
    bag = DagBag(dag_folder=str(tmp_path))  # examples of Airflow itself are off (conftest)
    (error,) = bag.import_errors.values()
    assert "call_oncall: to must be an E.164 number" in error
    assert "page_dag" not in bag.dags
