"""
Every ```python block of README.md and docs/*.md runs as written, against the in-process emulator.

Each block is written as a DAG file into the DAGs folder and run from there (``dag.test()`` finds a
DAG through its file). A block that defines ``test_*`` functions has each called with the emulator
fixture; any other block that builds DAGs has each of them run with ``dag.test()`` (callees
answer at once); a block that needs an Airflow API server (the incident notifier) is only built, as the
DAG processor would.
"""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS
from tests.helpers import REPO

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SNIPPETS = [
    pytest.param(path, code, id=f"{path.name}-{i}")
    for path in PAGES
    for i, code in enumerate(re.findall(r"^```python\n(.*?)^```", path.read_text(), re.S | re.M))
]
# What each page's snippets must do when run: placed calls (api, to), oldest first.
EXPECTED_CALLS: dict[str, list[tuple[str, str]]] = {
    "operators.md-0": [("outbound-call", "+14155550100")],
    # The primary answers: the secondary is skipped.
    "operators.md-1": [("call", "+14155550100")],
    "sensors.md-0": [("outbound-call", "+14155550100")],
    "sensors.md-1": [("outbound-call", "+14155550100")],
    "emulator.md-0": [("call", "+14155550100")],
}
# The DAG fails on purpose (its failure callback phones).
FAILS = {"sensors.md-1"}
# Built only: running them needs an Airflow REST API to open the incident.
BUILD_ONLY = {"incidents.md-0"}

pytestmark = pytest.mark.skipif(not AIRFLOW_V_3_0_PLUS, reason="the snippets are written for Airflow 3 (airflow.sdk)")


def test_every_snippet_is_known() -> None:
    ids = {p.id for p in SNIPPETS}
    assert ids == set(EXPECTED_CALLS) | BUILD_ONLY


@pytest.mark.parametrize(("path", "code"), SNIPPETS)
def test_the_snippet_runs_as_written(
    path: Path, code: str, request: pytest.FixtureRequest, videosdk_emulator: VideoSDKEmulator, airflow_db: Path
) -> None:
    from airflow.sdk import DAG

    snippet_id = request.node.callspec.id
    videosdk_emulator.answer_after = 0  # every callee answers at once
    dags_folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dags_folder.mkdir(exist_ok=True)
    dag_file = dags_folder / f"snippet_{snippet_id.replace('.', '_').replace('-', '_')}.py"
    dag_file.write_text(code)
    request.addfinalizer(dag_file.unlink)
    namespace: dict[str, Any] = runpy.run_path(str(dag_file))

    dags = [v for v in namespace.values() if isinstance(v, DAG)]
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert dags or tests, "the snippet builds no DAG and defines no test"
    if snippet_id in BUILD_ONLY:
        return
    for test in tests:  # a test runs its DAG itself
        test(videosdk_emulator)
    for dag in dags if not tests else []:
        run = dag.test()
        assert run.state == ("failed" if snippet_id in FAILS else "success"), (dag.dag_id, run.state)
    assert [(c["api"], c["to"]) for c in videosdk_emulator.placed_calls] == EXPECTED_CALLS[snippet_id]
