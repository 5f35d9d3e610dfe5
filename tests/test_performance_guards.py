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
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.get_provider_info import get_provider_info
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

PROBE = Path(__file__).resolve().parent.parent / "benchmarks" / "import_probe.py"
# Not one of these may be loaded by importing a module a DAG file imports from us.
HEAVY = ("requests", "jwt", "tenacity", "aiohttp", "airflow_provider_videosdk.hooks.videosdk")
_info = get_provider_info()
DAG_MODULES = sorted(
    {
        "airflow_provider_videosdk.operators.sip",
        "airflow_provider_videosdk.sensors.sip",
        "airflow_provider_videosdk.notifications.sip",
        "airflow_provider_videosdk.operators.rooms",
        *(m for kind in ("operators", "sensors") for e in _info.get(kind, []) for m in e["python-modules"]),
        *(path.rsplit(".", 1)[0] for path in _info.get("notifications", [])),
    }
)
CALL = {"to": "+14155550100", "display_name": "On-call", "meeting_id": "war-room-1", "trunk_id": "trunk_demo"}


def _exists(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("module", DAG_MODULES)
def test_dag_facing_module_loads_neither_the_http_stack_nor_the_hook(module: str) -> None:
    if not _exists(module):
        pytest.skip(f"{module} does not exist (yet)")
    # A fresh interpreter: after `import airflow.sdk` (Airflow 2: `from airflow import DAG`), import the module.
    proc = subprocess.run(
        [sys.executable, str(PROBE), module, ",".join(HEAVY)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["watched_added"] == [], f"importing {module} loads {result['watched_added']}"


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
