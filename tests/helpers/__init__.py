"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from airflow_provider_videosdk.testing import VideoSDKEmulator
    from airflow_provider_videosdk.triggers.sip import SipCallAnsweredTrigger

REPO = Path(__file__).resolve().parents[2]
TEST_DAGS = REPO / "tests" / "dags"
AIRFLOW_BIN = str(Path(sys.executable).with_name("airflow"))
CALL = {"to": "+14155550140", "display_name": "On-call", "meeting_id": "war-room", "trunk_id": "trunk_demo"}


def airflow_home() -> Path:
    """The isolated AIRFLOW_HOME the test session runs in (set by conftest before Airflow is imported)."""
    return Path(os.environ["AIRFLOW_HOME"])


@dataclass
class DagRun:
    """The outcome of one ``airflow dags test`` run: exit code, output, and the states in the metadata DB."""

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
        """The state of one task instance of this run."""
        return self.states()[(task_id, map_index)][0]


def user_visible(output: str) -> str:
    """
    ``airflow dags test`` output without what only Airflow 3.0's dags test prints.

    On 3.0, the CLI's in-process supervisor logs its debug messages to the console, among them
    ``MaskSecret(value=...)``, ``SetRenderedFields(...)`` and ``SetXCom(...)`` with the values they
    carry (the secret, unmasked phone numbers). A deployment writes no such lines; 3.1+ prints none of them either.
    """
    from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_1_PLUS

    if AIRFLOW_V_3_1_PLUS:
        return output
    return "\n".join(
        line
        for line in output.splitlines()
        if not any(debug in line for debug in ("MaskSecret(", "SetRenderedFields(", "SetXCom("))
    )


def assert_no_secret(text: str, emulator: VideoSDKEmulator) -> None:
    """Neither the API secret nor any token the emulator saw appears in ``text``."""
    assert emulator.api_secret not in text
    for token in emulator.tokens:
        assert token not in text


def place_call(to: str, meeting_id: str) -> str:
    """Place a call the way the operator does (through the default connection); returns its participant ID."""
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

    answer = VideoSDKHook().outbound_call(to=to, display_name="On-call", meeting_id=meeting_id, trunk_id="trunk_demo")
    return answer["participantId"]


async def first_event(trigger: SipCallAnsweredTrigger) -> dict[str, Any]:
    """Run a trigger as the triggerer does until its first event; returns the event's payload."""
    gen = trigger.run()
    try:
        return (await gen.__anext__()).payload
    finally:
        await gen.aclose()


#: How much later than its interval a poll may reach the emulator on a loaded machine (a late wake-up);
#: a skipped poll, or polling at a longer interval, exceeds it.
POLL_GAP_MARGIN = 1.5


def assert_kept_interval(polls: list[float], interval: float) -> None:
    """``polls`` (when one poller's look-ups reached the emulator, by its clock) came every ``interval``."""
    gaps = [later - earlier for earlier, later in itertools.pairwise(polls)]
    assert max(gaps, default=0.0) <= interval + POLL_GAP_MARGIN, f"gaps between polls: {gaps}"


def assert_acted_at_first_sight(looks: list[float], final_at: float) -> None:
    """
    A poller whose look-ups reached the emulator at ``looks`` stopped at the first one that saw the
    status reached at ``final_at``: at most one look at or after it (one arriving a moment before it
    may be answered just after it, and then none follows).
    """
    after = [at - final_at for at in looks if at >= final_at]
    assert len(after) <= 1, f"looks after the final status (seconds after it): {after}"
