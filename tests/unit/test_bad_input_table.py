"""Fast tier: the bad-input table of docs/operators.md is what the code says, message for message."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk._http.config import read_config
from airflow_provider_videosdk.calls import OutboundCall, SipCall
from airflow_provider_videosdk.exceptions import VideoSDKInputError

if TYPE_CHECKING:
    from collections.abc import Callable

PAGE = Path(__file__).resolve().parents[2] / "docs" / "operators.md"
CALL_API = {"to": "+14155550100", "meeting_id": "war-room", "gateway_id": "trunk_demo"}
GOOD = {"to": "+14155550100", "display_name": "On-call", "meeting_id": "war-room", "trunk_id": "trunk_demo"}


def call(**bad: Any) -> Callable[[], object]:
    return lambda: OutboundCall.build(**{**GOOD, **bad})


def conn(
    host: str = "https://api.videosdk.live", password: str | None = "an-api-secret", **extra: Any
) -> Callable[[], object]:
    fields = SimpleNamespace(host=host, port=None, schema=None, login="k", password=password, extra_dejson=extra)
    return lambda: read_config(fields, "videosdk_default")


# (the input as the table shows it, what raises). The table's message column is each one's message.
CASES: list[tuple[str, Callable[[], object]]] = [
    ("`to=14155550100` (an int)", call(to=14155550100)),
    ('`to=["+14155550100"]` (a list)', call(to=["+14155550100"])),
    ("`to=` an upstream XCom that is None", call(to=None)),
    ('`to="None"` (a template or param that rendered None)', call(to="None")),
    ('`to="   "`', call(to="   ")),
    ('`to="14155550100"`', call(to="14155550100")),
    ('`to="+1415555010099999"`', call(to="+1415555010099999")),
    ('`to="+14155550100\\r\\nX-Injected: 1"` (any control character, in any field)', call(to="+14155550100\r\nX: 1")),
    ('`to="sip:+1415 5550100@sip.example.com"`', call(to="sip:+1415 5550100@sip.example.com")),
    ('`to="sip:+14155550100@"`', call(to="sip:+14155550100@")),
    ('`to="tel:+14155550100"`', call(to="tel:+14155550100")),
    ('`from_number="555-0100"`', call(from_number="555-0100")),
    ("`display_name` of 129 characters", call(display_name="x" * 129)),
    ('`meeting_id=""`', call(meeting_id="")),
    ("`participant_id=42`", call(participant_id=42)),
    ("`SipCallOperator(ringing_timeout=2.5)`", lambda: SipCall.build(**CALL_API, ringing_timeout=2.5)),
    ("connection extra `timeout=0`", conn(timeout=0)),
    ('connection extra `timeout="soon"`', conn(timeout="soon")),
    ("connection extra `token_ttl=90000`", conn(token_ttl=90000)),
    ("connection extra `retry_attempts=0`", conn(retry_attempts=0)),
    ("connection host `http://api.videosdk.live`", conn(host="http://api.videosdk.live")),
    ("connection host `https://user:pass@api.videosdk.live`", conn(host="https://user:pass@api.videosdk.live")),
    ("connection without secret or token", conn(password=None)),
]


def message(raises: Callable[[], object]) -> str:
    with pytest.raises(VideoSDKInputError) as info:
        raises()
    return str(info.value)


def table() -> str:
    rows = ["| input | error |", "|---|---|"]
    rows += [f"| {shown} | `{message(raises)}` |" for shown, raises in CASES]
    return "\n".join(rows)


def test_the_bad_input_table_is_the_codes_messages() -> None:
    section = PAGE.read_text().split("## Bad input", 1)[1]
    documented = re.search(r"^\| input \| error \|\n(?:\|.*\n)+", section, re.M)
    assert documented is not None
    assert documented.group().rstrip("\n") == table(), "docs/operators.md's table should read:\n" + table()
