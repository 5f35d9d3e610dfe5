"""
Time one import in a fresh interpreter, after the import every DAG file starts with.

``python benchmarks/import_probe.py BASELINE MODULE[,MODULE...] WATCHED[,WATCHED...]`` runs the
statement ``BASELINE`` (``import airflow.sdk``; on Airflow 2 ``from airflow import DAG``), then imports the
modules, and prints one ``RESULT <json>`` line: the seconds the modules added, how many modules
they loaded, and which watched modules (or their submodules) the baseline had already loaded or
the import added. Before the baseline it imports only ``sys`` and ``time``, so nothing the probe
needs can pre-load, and hide, a module ours would load.
"""

import sys
import time

baseline, targets, watched = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
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


def _loaded(modules: set[str]) -> list[str]:
    """The watched modules that ``modules`` holds, or a submodule of."""
    return [w for w in watched if any(m == w or m.startswith(f"{w}.") for m in modules)]


result = {
    "baseline": baseline,
    "baseline_s": baseline_s,
    "added_s": added_s,
    "modules_added": len(added),
    "preloaded": _loaded(before),
    "watched_added": _loaded(added),
    "missing": missing,
}
print("RESULT", json.dumps(result))
