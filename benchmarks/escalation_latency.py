"""
Escalation latency: how soon the secondary is phoned once the primary's call is over.

Runs the two example chains through real Airflow (``airflow dags test``, which runs each deferred
sensor's trigger in process) against the emulator, and reads every time from the calls the
emulator recorded:

- ``example_videosdk_call_status_chain`` (``SipCallOperator`` + ``SipCallStatusSensor``), with the
  primary (a) rejecting after 2 s and (b) ringing out at ``ringing_timeout=10``. Latency is from
  the primary's final status (its last timelog entry) to the secondary's ``POST /v2/sip/call``;
  the target is ``POKE_INTERVAL`` + 1 s.
- ``example_videosdk_escalation_chain_deferrable`` (``SipOutboundCallOperator`` +
  ``SipCallAnsweredSensor``), in the same run and scenarios. The sessions API reports no rejection
  or ring-out, so its sensor waits its full ``answer_timeout`` (10 s here, the ring-out's length)
  whatever the phone did; its latency is measured from when the primary's phone stopped ringing in
  the scenario (2 s or 10 s after the call was placed).

``python benchmarks/escalation_latency.py [--rounds N]`` prints a table and exits 1 when a
call-status latency misses its target. Takes about a minute per round plus a DB migration.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_videosdk._http.call_api import parse_when
from airflow_provider_videosdk.testing.emulator import VideoSDKEmulator

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "example_dags"
STATUS_CHAIN = "example_videosdk_call_status_chain"
SESSIONS_CHAIN = "example_videosdk_escalation_chain_deferrable"
PRIMARY, SECONDARY = "+14155550101", "+14155550102"  # the examples' default params
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
REJECT_AFTER = 2.0
RINGING_TIMEOUT = 10
SESSIONS_TIMEOUT = RINGING_TIMEOUT  # the sessions chain's answer_timeout: as long as the phone rings


def _poke_interval() -> float:
    """The status chain's poke interval, read from the example itself."""
    spec = importlib.util.spec_from_file_location("status_chain", EXAMPLES / f"{STATUS_CHAIN}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return float(module.POKE_INTERVAL)


@dataclass
class Figure:
    """One chain run: seconds from the primary's POST to its end, and from its end to the secondary's POST."""

    scenario: str
    chain: str
    ended_after: float
    latency: float
    end_status: str


class Bench:
    """An Airflow home with the two examples, and an emulator the chains phone through."""

    def __init__(self, home: Path, emulator: VideoSDKEmulator) -> None:
        self.home, self.emulator = home, emulator
        dags = home / "dags"
        dags.mkdir()
        for name in (STATUS_CHAIN, "example_videosdk_escalation_chain"):
            shutil.copy(EXAMPLES / f"{name}.py", dags / f"{name}.py")
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW_CONN_VIDEOSDK_DEFAULT": emulator.connection_json(),
        }
        self._airflow(["db", "migrate"])

    def _airflow(self, args: list[str]) -> None:
        with tempfile.TemporaryFile("w+") as out:
            proc = subprocess.run(
                [AIRFLOW, *args], env=self.env, cwd=self.home, stdout=out, stderr=subprocess.STDOUT, timeout=600
            )
            if proc.returncode:
                out.seek(0)
                raise RuntimeError(f"airflow {' '.join(args)} failed:\n{out.read()[-3000:]}")

    def status_chain(self, scenario: str, conf: dict[str, Any], primary: tuple[str, float | None]) -> Figure:
        """Run the call-status chain; latency from the primary's final timelog entry to the secondary's POST."""
        emu = self.emulator
        emu.reset()
        emu.set_callee(PRIMARY, primary[0], after=primary[1])
        emu.set_callee(SECONDARY, "answer", after=1)
        self._airflow(["dags", "test", STATUS_CHAIN, "-c", json.dumps(conf)])
        calls = emu.sip_calls
        if [c["to"] for c in calls] != [PRIMARY, SECONDARY]:
            raise RuntimeError(f"{scenario}: expected the primary then the secondary, got {[c['to'] for c in calls]}")
        last = calls[0]["timelog"][-1]
        ended = parse_when(last["timestamp"])
        assert ended is not None
        return Figure(
            scenario, "call status", ended - calls[0]["placedAt"], calls[1]["placedAt"] - ended, last["status"]
        )

    def sessions_chain(self, scenario: str, rang_for: float) -> Figure:
        """Run the sessions chain (nobody answers the primary); latency from when its phone stopped ringing."""
        emu = self.emulator
        emu.reset()
        emu.set_answer(SECONDARY, 1)
        self._airflow(["dags", "test", SESSIONS_CHAIN, "-c", json.dumps({"answer_timeout": SESSIONS_TIMEOUT})])
        calls = emu.calls
        if [c["to"] for c in calls] != [PRIMARY, SECONDARY]:
            raise RuntimeError(f"{scenario}: expected the primary then the secondary, got {[c['to'] for c in calls]}")
        ended = calls[0]["placedAt"] + rang_for
        return Figure(scenario, "sessions", rang_for, calls[1]["placedAt"] - ended, "(not reported)")


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def main() -> int:
    """Measure, print the table and the closing note; 1 when a call-status latency misses its target."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1, help="runs of each scenario (default 1)")
    args = parser.parse_args()
    poke = _poke_interval()
    target = poke + 1.0
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="videosdk-escalation-bench-") as tmp, VideoSDKEmulator() as emulator:
        bench = Bench(Path(tmp), emulator)
        for _ in range(args.rounds):
            rejects, rings_out = f"rejects after {REJECT_AFTER:g} s", f"rings out at {RINGING_TIMEOUT} s"
            figures.append(bench.status_chain(rejects, {}, ("reject", REJECT_AFTER)))
            figures.append(bench.status_chain(rings_out, {"ringing_timeout": RINGING_TIMEOUT}, ("never", None)))
            figures.append(bench.sessions_chain(rejects, REJECT_AFTER))
            figures.append(bench.sessions_chain(rings_out, RINGING_TIMEOUT))

    rows, missed = [], False
    for scenario in dict.fromkeys(f.scenario for f in figures):
        for chain in ("call status", "sessions"):
            runs = [f for f in figures if f.scenario == scenario and f.chain == chain]
            latencies = [f.latency for f in runs]
            worst = max(latencies)
            ok = worst <= target if chain == "call status" else None
            missed |= ok is False
            rows.append(
                [
                    scenario,
                    chain,
                    runs[0].end_status,
                    f"{statistics.median(f.ended_after for f in runs):.2f}",
                    f"{statistics.median(latencies):.2f}",
                    f"{worst:.2f}",
                    f"<= {target:g}: {'ok' if ok else 'MISSED'}" if ok is not None else f"waits {SESSIONS_TIMEOUT} s",
                ]
            )
    print(f"Escalation latency, {args.rounds} round(s), airflow dags test against the emulator (seconds)")
    header = ["primary", "chain", "final status", "ended after POST", "to secondary (median)", "worst", "target"]
    print(_table(header, rows))
    status_worst = max(f.latency for f in figures if f.chain == "call status")
    sessions = [f for f in figures if f.chain == "sessions"]
    print(
        f"\nThe call-status chain phoned the secondary at most {status_worst:.2f} s after the primary's final status "
        f"(target: poke_interval {poke:g} s + 1 s). The sessions chain cannot see a rejection or a ring-out: it "
        f"phoned the secondary {min(f.latency for f in sessions):.2f}-{max(f.latency for f in sessions):.2f} s after "
        f"the primary's phone stopped ringing, having waited its full {SESSIONS_TIMEOUT} s answer_timeout."
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
