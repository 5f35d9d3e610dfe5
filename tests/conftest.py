"""Shared fixtures: an isolated Airflow home with a SQLite metadata DB, the emulator, a DAG runner."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# Airflow reads its configuration when first imported: isolate it before any test imports it.
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="videosdk-tests-airflow-"))
os.environ["AIRFLOW_HOME"] = str(AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(AIRFLOW_HOME / "dags")
os.environ.pop("AIRFLOW_CONN_VIDEOSDK_DEFAULT", None)

pytest_plugins = ["airflow_provider_videosdk.testing.pytest_plugin"]

REPO = Path(__file__).resolve().parent.parent
TEST_DAGS = Path(__file__).resolve().parent / "dags"
AIRFLOW_BIN = str(Path(sys.executable).with_name("airflow"))


def airflow_version() -> tuple[int, int]:
    from importlib.metadata import version

    major, minor = version("apache-airflow").split(".")[:2]
    return int(major), int(minor)


AIRFLOW_3 = airflow_version() >= (3, 0)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Migrate a fresh SQLite metadata DB once per session; returns its path."""
    subprocess.run([AIRFLOW_BIN, "db", "migrate"], check=True, capture_output=True, timeout=600)
    return AIRFLOW_HOME / "airflow.db"


@dataclass
class DagRun:
    returncode: int
    output: str
    db: Path
    dag_id: str

    def states(self) -> dict[tuple[str, int], tuple[str | None, int]]:
        """(task_id, map_index) -> (state, try_number) of this DAG's latest run."""
        with sqlite3.connect(self.db) as con:
            run_id = con.execute(
                "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (self.dag_id,)
            ).fetchone()[0]
            rows = con.execute(
                "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?",
                (self.dag_id, run_id),
            ).fetchall()
        return {(task_id, map_index): (state, tries) for task_id, map_index, state, tries in rows}

    def state(self, task_id: str, map_index: int = -1) -> str | None:
        return self.states()[(task_id, map_index)][0]


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
