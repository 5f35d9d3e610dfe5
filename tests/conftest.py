"""Fixtures: an isolated Airflow home with a SQLite metadata DB, the emulator, and a DAG runner."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

# Airflow reads its configuration when first imported: isolate it before any test imports it.
_HOME = Path(tempfile.mkdtemp(prefix="videosdk-tests-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "dags")
os.environ.pop("AIRFLOW_CONN_VIDEOSDK_DEFAULT", None)

from tests.helpers import AIRFLOW_BIN, TEST_DAGS, DagRun  # noqa: E402

pytest_plugins = ["airflow_provider_videosdk.testing.pytest_plugin"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything outside tests/unit talks to a server or runs Airflow: mark it, so the fast tier is -m 'not slow'."""
    for item in items:
        if "/tests/unit/" not in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate a fresh SQLite metadata DB once per session; returns its path."""
    subprocess.run([AIRFLOW_BIN, "db", "migrate"], check=True, capture_output=True, timeout=600)
    return _HOME / "airflow.db"


@pytest.fixture
def run_dag(airflow_db: Path, tmp_path: Path):
    """Run a DAG from tests/dags (or ``folder``) through ``airflow dags test``, in a subprocess."""

    def run(
        dag_id: str, *, folder: Path = TEST_DAGS, env: dict[str, str] | None = None, conf: dict | None = None
    ) -> DagRun:
        full_env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(folder), **(env or {})}
        proc = subprocess.run(
            [AIRFLOW_BIN, "dags", "test", dag_id, *(["-c", json.dumps(conf)] if conf is not None else [])],
            env=full_env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        return DagRun(proc.returncode, proc.stdout + proc.stderr, airflow_db, dag_id)

    return run
