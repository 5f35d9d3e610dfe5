"""
A DAG whose every task passes one bad value; each must fail naming the field, sending nothing.

The bad values come from an upstream task's XCom (or a template), as rendered values do: a bad
constant would not get this far, it is refused when the DAG is parsed (tests/operators/test_parse_time.py).
"""

from __future__ import annotations

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, task
else:
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
GOOD = {"to": "+442071838750", "display_name": "On-call", "meeting_id": "war-room", "trunk_id": "trunk_demo"}

# task_id -> the arguments that differ from GOOD. The test holds the expected error for each.
BAD_INPUTS = {
    "to_int": {"to": 442071838750},
    "to_list": {"to": ["+442071838750"]},
    "to_blank": {"to": "   "},
    "to_no_plus": {"to": "442071838750"},
    "to_too_long": {"to": "+1234567890123456"},
    "to_too_short": {"to": "+12345"},
    "to_with_crlf": {"to": "+442071838750\r\nX-Injected: 1"},
    "to_sip_space": {"to": "sip:+4420 71838750@sip.example.com"},
    "to_sip_empty_host": {"to": "sip:+442071838750@"},
    "to_sip_no_user": {"to": "sip:@sip.example.com"},
    "to_tel_scheme": {"to": "tel:+442071838750"},
    "to_sip_uri_header": {"to": "sip:+442071838750@sip.example.com?X-Header=1"},
    "to_sip_second_uri": {"to": "sip:a@b.example.com>,<sip:c@d.example.com"},
    "meeting_id_none_string": {"meeting_id": "None"},
    "trunk_id_renders_empty": {"trunk_id": "{{ '' }}"},
    "from_not_e164": {"from_number": "555-0100"},
    "display_name_lf": {"display_name": "On-call\nEvil"},
    "display_name_too_long": {"display_name": "x" * 129},
    "meeting_id_empty": {"meeting_id": ""},
    "trunk_id_tab": {"trunk_id": "trunk\tdemo"},
    "participant_id_nul": {"participant_id": "abc\x00def"},
    "participant_id_int": {"participant_id": 42},
}

with DAG(
    "videosdk_bad_inputs",
    schedule=None,
    start_date=START,
):

    @task
    def returns_nothing() -> None:
        return None

    @task(multiple_outputs=True, show_return_value_in_logs=False)  # its numbers would reach the log
    def bad_values() -> dict:
        return {f"{task_id}.{field}": value for task_id, bad in BAD_INPUTS.items() for field, value in bad.items()}

    values = bad_values()
    for task_id, bad in BAD_INPUTS.items():
        rendered = {
            field: value if "{{" in str(value) else values[f"{task_id}.{field}"] for field, value in bad.items()
        }
        SipOutboundCallOperator(task_id=task_id, retries=2, **{**GOOD, **rendered})
    # An upstream XCom that is None, as from a task that found no on-call number.
    SipOutboundCallOperator(task_id="to_none_from_xcom", **{**GOOD, "to": returns_nothing()})

    SipOutboundCallOperator(task_id="timeout_negative", videosdk_conn_id="videosdk_bad_timeout", **GOOD)
    SipOutboundCallOperator(task_id="retry_attempts_zero", retry_attempts=0, **GOOD)
