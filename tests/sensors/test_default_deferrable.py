"""The sensors' ``deferrable`` default follows ``[operators] default_deferrable``, as ``HttpSensor``'s does."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO

# Airflow reads the option when the sensor module is imported (the default is in the signature):
# each setting needs a fresh interpreter.
PROBE = """
import json
from airflow_provider_videosdk.sensors.sip import SipCallAnsweredSensor, SipCallStatusSensor

answered = SipCallAnsweredSensor(task_id="a", meeting_id="m", participant_id="p")
status = SipCallStatusSensor(task_id="s", call_id="c")
explicit = SipCallStatusSensor(task_id="e", call_id="c", deferrable=False)
print("DEFERRABLE", json.dumps([answered.deferrable, status.deferrable, explicit.deferrable]))
"""


def _defaults(setting: str | None) -> list[bool]:
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE"}
    if setting is not None:
        env["AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE"] = setting
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("DEFERRABLE "))
    return json.loads(line.split(" ", 1)[1])


@pytest.mark.matrix
@pytest.mark.parametrize(("setting", "expected"), [("True", True), ("False", False), (None, False)])
def test_the_default_follows_airflow_default_deferrable(setting: str | None, expected: bool) -> None:
    answered, status, explicit = _defaults(setting)
    assert (answered, status) == (expected, expected)
    assert explicit is False  # an explicit argument always wins
