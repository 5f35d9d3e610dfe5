"""
Benchmarks of airflow-provider-videosdk: DAG-parse cost, per-call cost and a 200-call fan-out.

Run from the repository root with the project's virtualenv: ``python benchmarks/run.py``.
It starts its own local servers, measures each figure in processes of its own (a fresh
interpreter per import timing), prints medians and ratios, and exits 1 when a target is missed.
See docs/performance.md for the targets, the method and the latest figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.get_provider_info import get_provider_info
from airflow_provider_videosdk.testing.emulator import EmulatorClient
from airflow_provider_videosdk.testing.emulator.control import TOKEN_ENV

if TYPE_CHECKING:
    from collections.abc import Iterator

HERE = Path(__file__).resolve().parent
PARSE_TARGET_S = 0.010
PARSE_RATIO_TARGET = 0.05  # of HttpOperator's import, in the same round
PER_CALL_TARGET = 1.10
# Modules (and their submodules) a DAG file must not pay for when it imports ours.
HEAVY = (
    "airflow.triggers",
    "requests",
    "urllib3",
    "httpx",
    "jwt",
    "tenacity",
    "aiohttp",
    "airflow_provider_videosdk.hooks",
    "airflow_provider_videosdk._http",
    "airflow_provider_videosdk.triggers",
)
DAG_MODULES = (
    "airflow_provider_videosdk.operators.sip",
    "airflow_provider_videosdk.sensors.sip",
    "airflow_provider_videosdk.notifications.sip",
    "airflow_provider_videosdk.operators.rooms",
)
HTTP_OPERATOR = "airflow.providers.http.operators.http"
HTTP_LABEL = "HttpOperator (official HTTP provider)"
API_KEY, API_SECRET = "bench-api-key", "bench-api-secret-0123456789abcdef"


# -- plumbing -------------------------------------------------------------------------------------


def _python(args: list[str], env: dict[str, str]) -> str:
    """Run this venv's python; returns its output. Output goes to a file, not a pipe we would have to drain."""
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run([sys.executable, *args], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=1800)
        out.seek(0)
        text = out.read()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{text[-3000:]}")
    return text


def _result(script: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run a measurement script in a fresh interpreter and return its ``RESULT`` JSON."""
    out = _python([str(HERE / script), *args], env)
    return json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("RESULT "))[7:])


@contextmanager
def _server(args: list[str], env: dict[str, str]) -> Iterator[str]:
    """Run a server in its own process; yields the URL it prints when ready."""
    proc = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "http://" not in line:
            raise RuntimeError(f"{' '.join(args)} did not start")
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(10)


def _videosdk_conn(url: str) -> str:
    return json.dumps({"conn_type": "videosdk", "login": API_KEY, "password": API_SECRET, "host": url})


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def machine() -> str:
    """The machine and versions the figures come from (no paths)."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((x.split(":", 1)[1].strip() for x in lines if x.startswith("model name")), platform.machine())
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    http = _version("apache-airflow-providers-http")
    return (
        f"{cpus} CPUs ({cpu}); Python {platform.python_version()}; Airflow {_version('apache-airflow')}; "
        f"requests {_version('requests')}; apache-airflow-providers-http {http or 'not installed'}"
    )


# -- figures --------------------------------------------------------------------------------------


def dag_modules() -> list[str]:
    """Modules a DAG file may import from us: the known ones plus any the provider info lists."""
    info = get_provider_info()
    listed = [m for kind in ("operators", "sensors") for e in info.get(kind, []) for m in e["python-modules"]]
    listed += [path.rsplit(".", 1)[0] for path in info.get("notifications", [])]
    return sorted(set(DAG_MODULES) | set(listed))


def _exists(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def baseline() -> str:
    """
    The import every DAG file starts with: the Task SDK on Airflow 3, the DAG class on Airflow 2.

    Airflow 2 has no Task SDK, and its bare ``import airflow`` loads no base class: after it, any operator
    module, ours or HttpOperator's, would be charged some 700 ms of Airflow's own models, which every DAG
    file loads with ``from airflow import DAG``.
    """
    major = int((_version("apache-airflow") or "3").split(".")[0])
    return "import airflow.sdk" if major >= 3 else "from airflow import DAG"


def parse_cost(env: dict[str, str], repeats: int, missed: list[str]) -> None:
    """
    Import each DAG-facing module (and HttpOperator) after the baseline, in fresh interpreters.

    Each figure is the median over ``repeats`` rounds; the ratio to HttpOperator is taken within a round (the
    rows run back to back), then the median over rounds, so load on the machine cancels out.
    """
    ours = [m for m in dag_modules() if _exists(m)]
    rows = {m: m for m in ours}
    if len(ours) > 1:
        rows["all of the above together"] = ",".join(ours)
    rows[HTTP_LABEL] = HTTP_OPERATOR
    first_line = baseline()
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in rows}
    skipped: dict[str, str] = {}
    for repeat in range(repeats + 1):  # interleaved, so drift hits every row alike; 0 writes byte-code
        for label, targets in rows.items():
            if label not in skipped:
                run = _result("import_probe.py", [first_line, targets, ",".join(HEAVY)], env)
                if run["missing"]:
                    skipped[label] = f"skipped: {run['missing']} is not installed"
                elif repeat:
                    runs[label].append(run)
    first = next(r[0] for r in runs.values() if r)
    print(f"\nDAG-parse cost: import after `{first_line}`, fresh interpreter each, median of {repeats}")
    table = []
    http_runs = runs[HTTP_LABEL]
    for label in rows:
        if label in skipped:
            table.append([label, skipped[label], "", "", "", ""])
            continue
        added_s = statistics.median(r["added_s"] for r in runs[label])
        heavy = sorted({m for r in runs[label] for m in r["watched_added"]})
        ratio = (
            statistics.median(r["added_s"] / h["added_s"] for r, h in zip(runs[label], http_runs, strict=True))
            if http_runs and label != HTTP_LABEL
            else None
        )
        verdict = ""
        if label in ours or label.startswith("all of"):
            ok = added_s <= PARSE_TARGET_S and not heavy and (ratio is None or ratio <= PARSE_RATIO_TARGET)
            verdict = f"<= {PARSE_TARGET_S * 1000:g} ms, <= {PARSE_RATIO_TARGET:g}x, none heavy: " + (
                "ok" if ok else "MISSED"
            )
            if not ok:
                missed.append(
                    f"DAG-parse cost of {label}: {_ms(added_s)} ms, {_ratio(ratio)} HttpOperator's, "
                    f"heavy modules added: {heavy or 'none'}"
                )
        modules = str(int(statistics.median(r["modules_added"] for r in runs[label])))
        table.append([label, _ms(added_s), modules, ", ".join(heavy) or "none", _ratio(ratio), verdict])
    header = ["module", "added ms", "modules loaded", "heavy modules added", "x HttpOperator", "target"]
    print(_table(header, table))
    for module in DAG_MODULES:
        if module not in ours:
            print(f"  note: {module} does not exist yet; it is measured as soon as it does")
    if not http_runs:
        print("  note: no HttpOperator ratio (pip install apache-airflow-providers-http to compare)")
    print(f"  already loaded by `{first_line}`: {', '.join(first['preloaded']) or 'none'} (cannot count)")


def _ratio(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio:.3f}x"


def per_call(env: dict[str, str], calls: int, rounds: int, missed: list[str]) -> None:
    """``outbound_call`` vs a bare ``requests.Session`` vs ``HttpHook.run``, same server, interleaved."""
    with _server([str(HERE / "server.py")], env) as url:
        env = {
            **env,
            "AIRFLOW_CONN_VIDEOSDK_DEFAULT": _videosdk_conn(url),
            "AIRFLOW_CONN_VIDEOSDK_BENCH_HTTP": json.dumps({"conn_type": "http", "host": url}),
        }
        result = _result("calls.py", ["per-call", str(calls), str(rounds)], env)
    seconds, connections = result["seconds"], result["connections"]
    labels = {
        "raw": "bare requests.Session + pre-minted token",
        "hook": "VideoSDKHook.outbound_call",
        "http_hook": "HttpHook.run (same body and token)",
        "raw_again": "bare requests.Session again (noise floor)",
    }
    print(f"\nPer call: {calls} POST /v2/sip/outbound-call to benchmarks/server.py, median of {rounds} rounds")
    table = []
    for name, times in seconds.items():
        median = statistics.median(times)
        # Ratio of the contenders' times in the same round (they run back to back), median over rounds.
        ratio = statistics.median(t / raw for t, raw in zip(times, seconds["raw"], strict=True))
        verdict = ""
        if name == "hook":
            verdict = f"<= {PER_CALL_TARGET:.2f}x: " + ("ok" if ratio <= PER_CALL_TARGET else "MISSED")
            if ratio > PER_CALL_TARGET:
                missed.append(f"per call: outbound_call costs {ratio:.3f}x a bare requests.Session")
        per_call_us = f"{median / calls * 1e6:.0f}"
        table.append([labels[name], _ms(median), per_call_us, f"{ratio:.3f}x", str(connections.get(name)), verdict])
    print(_table(["contender", f"ms / {calls}", "us / call", "vs bare", "TCP connections", "target"], table))
    for note in result["skipped"]:
        print(f"  note: {note} (pip install apache-airflow-providers-http to compare)")


def fan_out(env: dict[str, str], calls: int, rounds: int) -> None:
    """``calls`` calls mapped over as many numbers, through ``airflow dags test`` and task bodies alone."""
    emulator = [
        *["-m", "airflow_provider_videosdk.testing.emulator"],
        *["--port", "0", "--api-key", API_KEY, "--api-secret", API_SECRET],
    ]
    control_token = secrets.token_urlsafe(24)
    with _server(emulator, {**env, TOKEN_ENV: control_token}) as url:
        env = {**env, "AIRFLOW_CONN_VIDEOSDK_DEFAULT": _videosdk_conn(url), "VIDEOSDK_BENCH_CALLS": str(calls)}
        local = _result("calls.py", ["fan-out", str(calls), str(rounds)], env)["seconds"]
        _python(["-m", "airflow", "db", "migrate"], env)
        start = time.perf_counter()
        _python(["-m", "airflow", "dags", "test", "videosdk_bench_fanout"], env)
        wall = time.perf_counter() - start
        placed = sorted(
            c["placedAt"] for c in EmulatorClient(url, token=control_token).calls() if c["meetingId"] == "bench-fanout"
        )
    if len(placed) != calls:
        raise RuntimeError(f"airflow dags test placed {len(placed)} calls, not {calls}")
    dag_s = (placed[-1] - placed[0]) / max(calls - 1, 1)
    raw_s, hook_s, task_s = (statistics.median(local[k]) / calls for k in ("raw", "hook", "tasks"))
    print(f"\nFan-out: {calls} calls mapped over {calls} numbers, against the emulator (JWT checked per request)")
    print(
        f"  airflow dags test: {1 / dag_s:.1f} calls/s ({_ms(dag_s)} ms per mapped task instance, "
        f"{wall:.1f} s wall including CLI start and DAG parse); task instances run one after another"
    )
    print(f"  the {calls} task bodies alone in one process: {1 / task_s:.0f} calls/s (median of {rounds} rounds)")
    parts = [
        ("HTTP round trip incl. emulator (bare requests.Session, reused connection)", raw_s),
        ("hook per call: validation, logging, retry policy, answer checks", hook_s - raw_s),
        ("per task: operator, connection lookup, JWT mint, new TCP connection", task_s - hook_s),
        ("Airflow per task instance (dags test: state in DB, XCom, task runner, logs)", dag_s - task_s),
    ]
    rows = [[label, _ms(s), f"{s / dag_s:.1%}"] for label, s in parts]
    print(_table(["where the time of one mapped call goes", "ms", "share"], [*rows, ["total", _ms(dag_s), ""]]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="fresh interpreters per import timing (>= 5)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds in the per-call figure")
    parser.add_argument("--calls", type=int, default=300, help="calls per round in the per-call figure")
    parser.add_argument("--fan-out", type=int, default=200, help="mapped calls in the fan-out figure")
    args = parser.parse_args()
    if args.repeats < 5:
        parser.error("--repeats must be at least 5: a median of fewer fresh interpreters is noise")

    print(f"airflow-provider-videosdk benchmarks on {machine()}")
    missed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="videosdk-bench-") as home:
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            # Byte-code caches as an installed provider has them, kept out of the source tree.
            "PYTHONPYCACHEPREFIX": str(Path(home) / "pycache"),
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(HERE / "dags"),
        }
        parse_cost(env, args.repeats, missed)
        per_call(env, args.calls, args.rounds, missed)
        fan_out(env, args.fan_out, rounds=3)
    print()
    for miss in missed:
        print(f"MISSED {miss}")
    print("all targets met" if not missed else f"{len(missed)} target(s) missed")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
