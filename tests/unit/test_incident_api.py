"""Fast tier: which run a 409 after a resend belongs to, by the opener's token in its conf."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_videosdk.incidents.api import OPENER_KEY, opened_by


@pytest.mark.parametrize(
    ("run", "mine"),
    [
        ({"conf": {OPENER_KEY: "t1"}}, True),
        ({"conf": {OPENER_KEY: "t2"}}, False),
        ({"conf": {}}, False),
        ({"conf": None}, False),
        ([], False),
    ],
)
def test_opened_by_reads_the_token_in_the_runs_conf(run: Any, mine: bool) -> None:
    assert opened_by(run, "t1") is mine
