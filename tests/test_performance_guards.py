"""
What the performance figures rest on, checked without timing (the timings are in benchmarks/run.py).

DAG files import our operators, sensors and notifiers on every parse: that must not pull in the
HTTP stack or the hook. An escalation fan-out places hundreds of calls: one hook must mint one
token and keep one TCP connection for all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from importlib.util import find_spec
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.get_provider_info import get_provider_info
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

# Not one of these (nor a submodule of one) may be loaded by importing a module a DAG file imports from us:
# the trigger machinery is the triggerer's, the HTTP stack and the hook the worker's.
HEAVY = (
    "airflow.triggers",
    "requests",
    "urllib3",
    "jwt",
    "tenacity",
    "aiohttp",
    "httpx",
    "airflow_provider_videosdk.hooks",
    "airflow_provider_videosdk._http",
    "airflow_provider_videosdk.triggers",
)
# What every DAG file has imported before ours: the Task SDK (Airflow 3) or the DAG class (Airflow 2).
BASELINE = "import airflow.sdk" if AIRFLOW_V_3_0_PLUS else "from airflow import DAG"
PROBE = """
import json, sys
{baseline}
before = set(sys.modules)
import {module}
print("ADDED", json.dumps(sorted(set(sys.modules) - before)))
"""
_info = get_provider_info()
DAG_MODULES = sorted(
    {
        "airflow_provider_videosdk.operators.sip",
        "airflow_provider_videosdk.sensors.sip",
        "airflow_provider_videosdk.notifications.sip",
        "airflow_provider_videosdk.operators.rooms",
        "airflow_provider_videosdk.incidents.policy",
        "airflow_provider_videosdk.incidents.factory",
        *(m for kind in ("operators", "sensors") for e in _info.get(kind, []) for m in e["python-modules"]),
        *(path.rsplit(".", 1)[0] for path in _info.get("notifications", [])),
        # Every one of them imports it: it must stay as light.
        "airflow_provider_videosdk.version_compat",
    }
)
CALL = {"to": "+14155550100", "display_name": "On-call", "meeting_id": "war-room-1", "trunk_id": "trunk_demo"}


def _exists(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.matrix
@pytest.mark.parametrize("module", DAG_MODULES)
def test_dag_facing_module_loads_neither_the_http_stack_nor_the_hook(module: str) -> None:
    if not _exists(module):
        pytest.skip(f"{module} does not exist (yet)")
    # A fresh interpreter: after the baseline every DAG file has, import the module.
    code = PROBE.format(baseline=BASELINE, module=module)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    added = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("ADDED "))[6:])
    assert module in added
    heavy = sorted(m for m in added if any(m == h or m.startswith(f"{h}.") for h in HEAVY))
    assert heavy == [], f"importing {module} loads heavy modules"


def test_300_calls_mint_one_token_over_one_tcp_connection(videosdk_emulator: VideoSDKEmulator) -> None:
    hook = VideoSDKHook()
    hook.outbound_call(**CALL)
    # The other calls fall in a later second: a token minted per call would differ by its iat.
    time.sleep(1.05)
    for _ in range(299):
        hook.outbound_call(**CALL)

    assert len(videosdk_emulator.calls) == 300
    assert {r.status for r in videosdk_emulator.requests} == {200}
    assert len(videosdk_emulator.tokens) == 1
    assert videosdk_emulator.connections == 1
