"""
Time one import in a fresh interpreter, after the import every DAG file starts with.

``python benchmarks/import_probe.py MODULE[,MODULE...] WATCHED[,WATCHED...]`` prints one
``RESULT <json>`` line: the baseline, the seconds the modules added, how many modules they
loaded, and which watched modules the baseline had already loaded or the import added.
"""

import sys
import time
from importlib.metadata import version

targets, watched = sys.argv[1].split(","), sys.argv[2].split(",")
# Airflow 3 DAG files start with the Task SDK; Airflow 2 has none: its DAG files start with the DAG class.
baseline = "import airflow.sdk" if int(version("apache-airflow").split(".")[0]) >= 3 else "from airflow import DAG"
start = time.perf_counter()
exec(baseline)
baseline_s = time.perf_counter() - start
before = set(sys.modules)
start = time.perf_counter()
missing = None
try:
    for name in targets:
        __import__(name)
except ModuleNotFoundError as exc:
    if not any(t == exc.name or t.startswith(f"{exc.name}.") for t in targets):  # a bug, not a missing module
        raise
    missing = exc.name
added_s = time.perf_counter() - start
added = set(sys.modules) - before

import json  # noqa: E402 - only after the measurement

result = {
    "baseline": baseline,
    "baseline_s": baseline_s,
    "added_s": added_s,
    "modules_added": len(added),
    "preloaded": [m for m in watched if m in before],
    "watched_added": [m for m in watched if m in added],
    "missing": missing,
}
print("RESULT", json.dumps(result))
