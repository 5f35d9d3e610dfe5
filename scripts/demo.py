"""
Run the example escalation DAG through real Airflow against the local VideoSDK emulator.

Starts the emulator, points ``videosdk_default`` at it, runs ``airflow dags test`` on
``example_videosdk_nightly_escalation`` and prints the participant ID that reached XCom.
Expects ``AIRFLOW_HOME`` to hold a migrated metadata DB (``make demo`` does that).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from airflow_provider_videosdk.testing import VideoSDKEmulator
from airflow_provider_videosdk.validation import mask_phone

DAG_ID = "example_videosdk_nightly_escalation"
REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    with VideoSDKEmulator() as emulator:
        print(f"VideoSDK emulator listening on {emulator.url}")
        env = {
            **os.environ,
            "AIRFLOW_CONN_VIDEOSDK_DEFAULT": emulator.connection_json(),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        airflow = str(Path(sys.executable).with_name("airflow"))
        run = subprocess.run([airflow, "dags", "test", DAG_ID], env=env, capture_output=True, text=True)
        log = Path(os.environ["AIRFLOW_HOME"]) / "demo-dags-test.log"
        log.write_text(run.stdout + run.stderr)
        if run.returncode != 0:
            print(run.stdout[-4000:] + run.stderr[-4000:])
            print(f"airflow dags test failed (exit {run.returncode}); full output in {log}")
            return 1
        db = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
        with sqlite3.connect(db) as con:
            row = con.execute(
                "SELECT value FROM xcom WHERE dag_id = ? AND task_id = 'call_oncall' AND key = 'participant_id'"
                " ORDER BY dag_run_id DESC LIMIT 1",
                (DAG_ID,),
            ).fetchone()
        participant_id = json.loads(row[0]) if row else None
        calls = emulator.calls
        print(f"airflow dags test {DAG_ID}: success (output in {log})")
        for call in calls:
            print(f"The emulator placed a call to {mask_phone(call['to'])} into meeting {call['meetingId']}")
        print(f"Participant ID in XCom: {participant_id}")
        if len(calls) != 1 or participant_id != calls[0]["participantId"]:
            print("Unexpected: the XCom value does not match the one call the emulator placed")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
