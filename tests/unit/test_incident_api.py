"""Fast tier: which run a 409 after a resend belongs to, and what the run's conf says failed."""

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


def test_the_runs_conf_names_what_failed_from_a_task_callback_or_a_deadline_alert() -> None:
    from types import SimpleNamespace

    from airflow_provider_videosdk.incidents.notifier import _source

    task = {"dag_run": SimpleNamespace(dag_id="etl", run_id="r1"), "ti": SimpleNamespace(task_id="load")}
    deadline = {"dag_run": {"dag_id": "etl", "dag_run_id": "r2", "state": "running"}}  # the run as a dict

    assert _source(task) == {"dag_id": "etl", "run_id": "r1", "task_id": "load"}
    assert _source(deadline) == {"dag_id": "etl", "run_id": "r2", "task_id": None}
