"""
The provider in Airflow's production topology, and the process faults that phone a person twice, or never.

In a fresh temporary ``AIRFLOW_HOME`` this starts, each a process group of its own on 127.0.0.1: the
VideoSDK emulator (behind a proxy that notes when each request arrived), PostgreSQL as the metadata DB,
Redis as the Celery broker, ``airflow api-server``, ``scheduler`` and ``dag-processor`` with the
CeleryExecutor, two ``airflow celery worker`` and two ``airflow triggerer``. Through the REST API it then
runs the scenarios one after another, each breaking one process the way production does, and counts the
calls the emulator placed:

1. a Celery worker SIGKILLed with everything under it while its task's call is in flight;
2. a triggerer SIGKILLed while 20 deferred answer sensors wait;
3. the scheduler SIGKILLed and restarted while call tasks are queued and running;
4. Redis stopped for 10 s while call tasks are queued, and more are scheduled;
5. PostgreSQL stopped for a few seconds just as a call task writes its intent to the task state store.

One PASS/FAIL line per scenario and a table at the end (scenario x calls placed x final states x recovery
time). Exit status 1 if any failed; the deployment's files are then kept. Only the processes it started
are stopped, also on failure or Ctrl-C. Run it with ``make e2e-celery``.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import incidents
from lib import (
    AIRFLOW,
    REPO,
    Api,
    Postgres,
    Processes,
    Redis,
    Report,
    TimingProxy,
    admin_password,
    airflow_env,
    all_healthy,
    free_port,
    login,
    migrate,
    parse_time,
    run_suite,
    start_emulator,
    wait_for,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from airflow_provider_videosdk.testing import EmulatorClient

DAG_DIR = REPO / "e2e" / "dags" / "celery"
CALL_DAG = "e2e_celery_call"
SIP_CALL_DAG = "e2e_celery_sip_call"
LOOKUP_DAG = "e2e_celery_call_after_lookup"
SENSOR_DAG = "e2e_celery_answer_sensor"
WORKERS = ("worker-1", "worker-2")
TRIGGERERS = ("triggerer-1", "triggerer-2")
CORE = ("api-server", "scheduler", "dag-processor")
OUTBOUND = "/v2/sip/outbound-call"
CALL_API = "/v2/sip/call"
SESSIONS = "/v2/sessions"

# The settings that decide how fast Airflow notices a dead process (each is explained in docs/reliability.md,
# "Running in production"). Production values differ only where that page says so.
HEARTBEAT_TIMEOUT = 20  # [scheduler] task_instance_heartbeat_timeout (Airflow's default: 300 s)
HEARTBEAT_CHECK = 2  # [scheduler] task_instance_heartbeat_timeout_detection_interval (default 10 s)
TRIGGERER_HEARTBEAT = 2  # [triggerer] job_heartbeat_sec (default 5 s)
TRIGGERER_THRESHOLD = 10  # [triggerer] triggerer_health_check_threshold (default 30 s)
VISIBILITY_TIMEOUT = 3600  # [celery_broker_transport_options] visibility_timeout: longer than any task here
CONCURRENCY = 4  # task slots per worker
QUEUED_TIMEOUT = 40  # [scheduler] task_queued_timeout (default 600 s): re-queues a task whose broker message was lost
CONFIG = {
    "AIRFLOW__CORE__PARALLELISM": "32",
    "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "32",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(CONCURRENCY),
    "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",  # Airflow's default, written out: redelivery after a lost worker
    "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": str(HEARTBEAT_CHECK),
    "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(QUEUED_TIMEOUT),
    "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "15",
    "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": str(TRIGGERER_HEARTBEAT),
    "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_THRESHOLD),
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
}
HOLD = 25.0  # seconds the emulator holds a call's answer after placing it (the hook's timeout is 30 s)


@dataclass
class Row:
    """One line of the closing table."""

    scenario: str
    calls: str
    states: str
    recovery: str


@dataclass
class Deployment:
    """Everything a scenario needs: the processes, the REST API, the emulator and what steers the faults."""

    root: Path
    procs: Processes
    api: Api
    emulator: EmulatorClient
    proxy: TimingProxy
    postgres: Postgres
    redis: Redis
    triggerer_jobs: dict[str, int]  # triggerer process name -> its job ID in the metadata DB
    env: dict[str, str]  # the environment of the Airflow processes
    rows: list[Row] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(600))

    def number(self) -> str:
        """A callee number no other scenario uses."""
        return f"+1415555{next(self._numbers):04d}"

    def calls_to(self, numbers: list[str]) -> dict[str, int]:
        """How many calls the emulator placed to each of ``numbers``."""
        placed = Counter(c["to"] for c in self.emulator.calls())
        return {n: placed[n] for n in numbers}

    def wait_runs(self, dag_id: str, runs: list[str], timeout: float) -> dict[str, str]:
        """Wait until every run is finished (or ``timeout``); return run ID -> state."""
        states: dict[str, str] = {}

        def done() -> bool:
            for run_id in runs:
                if states.get(run_id) not in ("success", "failed"):
                    states[run_id] = self.api.call("GET", self.api.run_path(dag_id, run_id))["state"]
            return all(s in ("success", "failed") for s in states.values())

        with contextlib.suppress(TimeoutError):
            wait_for(f"{len(runs)} runs of {dag_id}", done, timeout, 1.0)
        return states

    def task(self, dag_id: str, run_id: str, task_id: str = "call") -> dict[str, Any]:
        return self.api.task_instance(dag_id, run_id, task_id)

    def ran_on(self, dag_id: str, run_id: str, try_number: int, task_id: str = "call") -> str | None:
        """The worker whose log shows it executing that try (its log path names the run and the try)."""
        needle = f"dag_id={dag_id}/run_id={run_id}/task_id={task_id}/attempt={try_number}.log"
        for worker in WORKERS:
            with contextlib.suppress(OSError):
                if needle in (self.procs.log_dir / f"{worker}.log").read_text(errors="replace"):
                    return worker
        return None

    def worker_of(self, pid: int) -> str | None:
        """The Celery worker whose process tree holds process ``pid``."""
        for worker in WORKERS:
            if pid in {p.pid for p in self.procs.tree(worker)}:
                return worker
        return None

    def revive(self) -> list[str]:
        """Start again any Airflow process that exited on its own (as systemd or Kubernetes would); return them."""
        revived = [n for n in (*CORE, *WORKERS, *TRIGGERERS) if not self.procs.running(n)]
        for name in revived:
            self.procs.restart(name)
        return revived


def summarize(states: list[str | None]) -> str:
    """``['success', 'success', 'failed']`` -> ``'2 success, 1 failed'``."""
    return ", ".join(f"{n} {s}" for s, n in Counter(str(s) for s in states).most_common())


# -- scenario 0: an incident storm -----------------------------------------------------------------

STORM_SLOTS = 12  # task slots each worker gains for the storm: all 30 tasks run at once on the 2 workers


def scenario_storm(dep: Deployment) -> tuple[bool, str]:
    """
    30 tasks in 3 DAGs, all running on the 2 workers, fail together with one incident key: 1 escalation
    run, 1 call to level 1, 29 joined (the checks of ``e2e/incidents.py``); then level 1 answers.
    """
    env, slots = dep.env, CONCURRENCY + STORM_SLOTS
    _control(env, f"pool_grow(n={STORM_SLOTS}, reply=True)")
    wait_for(f"{slots} task slots on each worker", lambda: _pool_sizes(env) == [slots] * len(WORKERS), 60, 1.0)
    try:
        release = dep.root / "storm-release"
        runs = incidents.start_storm(dep.api, dep.emulator, {"release": str(release)})
        wait_for("all 30 storm tasks to run", lambda: incidents.storm_running(dep.api, runs) == 30, 300, 1.0)
        release.touch()
        incidents.wait_storm(dep.api, runs)
        ok, detail = incidents.check_storm(dep.api, dep.emulator, runs)
        ended, summary = incidents.check_storm_summary(dep.api)  # it ends before the faults begin
    finally:
        _control(env, f"pool_shrink(n={STORM_SLOTS}, reply=True)")
    back = [CONCURRENCY] * len(WORKERS)
    wait_for(f"{CONCURRENCY} task slots on each worker", lambda: _pool_sizes(env) == back, 60, 1.0)
    calls = [c for c in dep.emulator.sip_calls() if c["to"] in (incidents.STORM_L1, incidents.STORM_L2)]
    spread, runs_joined, _, ring = (part.strip() for part in detail.split(";"))  # check_storm's four parts
    timing = f"{spread}, {ring.split(' (')[0]}"
    dep.rows.append(Row("0 incident storm: 30 failures on 2 workers", str(len(calls)), runs_joined, timing))
    return ok and ended, f"{detail}; {summary}"


# -- scenario 1: a worker killed mid-call ---------------------------------------------------------


@dataclass
class CallVariant:
    """
    One operator's run in scenario 1: which DAG, how the callee behaves, which request places the call,
    and what the retry must end with.
    """

    label: str
    dag_id: str
    conf: dict[str, Any]
    fault_path: str  # the request that places the call, held after it is carried out
    placed: Callable[[Deployment], int]  # how many calls the emulator placed for this run
    expect: Callable[[Deployment, str], tuple[bool, str]]  # the final state after the retry, with detail


def outbound_variants(dep: Deployment) -> list[CallVariant]:
    """``SipOutboundCallOperator``: the retry finds the intent; in the meeting if answered, else outcome unknown."""
    variants = []
    for answers in (True, False):
        to, meeting = dep.number(), f"e2e-kill-{'answered' if answers else 'unanswered'}"
        dep.emulator.set_answer(to, 1.0 if answers else None)

        def placed(d: Deployment, to: str = to) -> int:
            return d.calls_to([to])[to]

        def expect(d: Deployment, run_id: str, to: str = to, answers: bool = answers) -> tuple[bool, str]:
            ti = d.task(CALL_DAG, run_id)
            if answers:
                (call,) = [c for c in d.emulator.calls() if c["to"] == to]
                xcom = d.api.xcom(CALL_DAG, run_id, "call")
                ok = ti["state"] == "success" and xcom == call["participantId"]
                return ok, f"{ti['state']}, the retry found participant {xcom} in the meeting"
            raised = d.api.raised(CALL_DAG, run_id, "call", ti["try_number"])
            ok = ti["state"] == "failed" and "VideoSDKOutcomeUnknownError" in raised
            return ok, f"{ti['state']}, the retry raised {', '.join(raised) or 'nothing'}"

        label = f"SipOutboundCallOperator, callee {'answers' if answers else 'does not answer'}"
        conf = {"to": to, "meeting_id": meeting}
        variants.append(CallVariant(label, CALL_DAG, conf, OUTBOUND, placed, expect))
    return variants


def sip_call_variants(dep: Deployment) -> list[CallVariant]:
    """
    ``SipCallOperator`` (VideoSDK's call API, ``POST /v2/sip/call``): the retry finds the call with ``list_calls``
    and succeeds with the call's ID, whether or not the callee answered.
    """
    to = dep.number()
    dep.emulator.set_answer(to, 1.0)

    def placed(d: Deployment) -> int:
        return sum(c["body"].get("sipCallTo") == to for c in d.emulator.sip_calls())

    def expect(d: Deployment, run_id: str) -> tuple[bool, str]:
        ti = d.task(SIP_CALL_DAG, run_id)
        ids = [c["id"] for c in d.emulator.sip_calls() if c["body"].get("sipCallTo") == to]
        xcom = d.api.xcom(SIP_CALL_DAG, run_id, "call") if ti["state"] == "success" else None
        return ti["state"] == "success" and ids == [xcom], f"{ti['state']}, the retry found call {xcom}"

    conf = {"to": to, "meeting_id": "e2e-kill-call-api"}
    return [CallVariant("SipCallOperator (call API)", SIP_CALL_DAG, conf, CALL_API, placed, expect)]


def scenario_worker_killed(dep: Deployment) -> tuple[bool, str]:
    variants = outbound_variants(dep) + sip_call_variants(dep)
    for variant in variants:
        dep.emulator.add_fault(path=variant.fault_path, method="POST", process=True, delay=HOLD)
    runs = [dep.api.trigger(v.dag_id, v.conf) for v in variants]
    wait_for("every variant's call to be placed", lambda: all(v.placed(dep) for v in variants), 120)
    running = {}
    for variant, run_id in zip(variants, runs, strict=True):
        ti = wait_for(
            "the task's process",
            lambda v=variant, r=run_id: (t := dep.task(v.dag_id, r)).get("pid") and t["state"] == "running" and t,
            30,
            0.2,
        )
        running[run_id] = (ti["pid"], dep.worker_of(ti["pid"]))
    victims = sorted({w for _, w in running.values() if w})
    killed_at = time.time()
    for worker in victims:
        dep.procs.kill(worker)
    for worker in victims:
        dep.procs.restart(worker)  # a new machine in its place; the retry may run on either worker
    print(f"scenario 1: killed {', '.join(victims)} with their task processes; waiting for Airflow", flush=True)
    states = {r: s for v, r in zip(variants, runs, strict=True) for r, s in dep.wait_runs(v.dag_id, [r], 120).items()}
    problems, details = [], []
    for variant, run_id in zip(variants, runs, strict=True):
        tries = dep.api.tries(variant.dag_id, run_id, "call")
        first, last = tries[0], tries[-1]
        noticed = (parse_time(first.get("end_date")) or killed_at) - killed_at
        recovered = (parse_time(last.get("end_date")) or time.time()) - killed_at
        retried_on = dep.ran_on(variant.dag_id, run_id, last["try_number"])
        calls = variant.placed(dep)
        ok, outcome = variant.expect(dep, run_id)
        ok = ok and calls == 1 and len(tries) == 2 and first["state"] == "failed" and running[run_id][1] is not None
        if not ok:
            problems.append(variant.label)
        where = f"try 1 on {running[run_id][1]}, try 2 on {retried_on or 'a worker'}"
        details.append(
            f"{variant.label}: {calls} call(s), {len(tries)} tries ({where}), try 1 failed {noticed:.0f}s after "
            f"the kill, run {states.get(run_id)} {recovered:.0f}s after it; {outcome}"
        )
        dep.rows.append(
            Row(
                f"1 worker killed mid-call: {variant.label}",
                str(calls),
                outcome.split(",")[0] + f" ({where})",
                f"noticed {noticed:.0f}s, done {recovered:.0f}s",
            )
        )
    return not problems, "; ".join(details)


# -- scenario 2: a triggerer killed while sensors wait --------------------------------------------

SENSORS = 20
EARLY, LATE, SHORT = range(0, 4), range(4, 10), range(16, 20)  # 10-15 are never answered, nor are SHORT
LONG_TIMEOUT = 75  # seconds: past the pokes of all 20, the kill, the takeover and the late answers
SHORT_TIMEOUT = 10  # seconds: started last, these time out about when their triggerer is killed
# Seconds for a worker to run the sensor's resumed try, on top of the takeover: a ceiling that only a trigger that
# never fired reaches (its deferral's own timeout is 60 s later), not a latency; load moves the latency.
LATENESS_SLACK = 40.0
# The trigger's deadline is the sensor's poke start + answer_timeout. For lateness it is estimated as the first
# look-up's arrival + answer_timeout (no earlier than the real one). That a sensor did not fail early is judged
# against its try's start (which a resume from deferral keeps) + answer_timeout: no earlier than the real deadline,
# whatever the load; this much is allowed for the second-resolution of the two timestamps.
CLOCK_SLACK = 0.5


def scenario_triggerer_killed(dep: Deployment) -> tuple[bool, str]:
    confs = [
        {
            "meeting_id": f"e2e-trigger-{i:02d}",
            "participant_id": f"callee-{i:02d}",
            "answer_timeout": SHORT_TIMEOUT if i in SHORT else LONG_TIMEOUT,
        }
        for i in range(SENSORS)
    ]
    runs: list[str] = [""] * SENSORS

    def state(i: int) -> str | None:
        return dep.task(SENSOR_DAG, runs[i], "wait")["state"]

    def start(group: list[int]) -> None:
        for i in group:
            runs[i] = dep.api.trigger(SENSOR_DAG, confs[i])
        wait_for(f"{len(group)} sensors to defer", lambda: all(state(i) == "deferred" for i in group), 120, 1.0)

    start([i for i in range(SENSORS) if i not in SHORT])
    for i in EARLY:
        dep.emulator.add_session(confs[i]["meeting_id"], [(confs[i]["participant_id"], time.time())])
    start(list(SHORT))  # meanwhile the early answers are seen

    def first_look(i: int) -> float:
        return min(a.at for a in dep.proxy.to(SESSIONS, "GET") if a.query.get("roomId") == [confs[i]["meeting_id"]])

    deadlines = [first_look(i) + confs[i]["answer_timeout"] for i in range(SENSORS)]
    wait_for("the early answers", lambda: all(state(i) != "deferred" for i in EARLY), 30, 0.5)
    holders = Counter(
        (ti.get("trigger") or {}).get("triggerer_id")
        for ti in (dep.task(SENSOR_DAG, r, "wait") for r in runs)
        if ti["state"] == "deferred"
    )
    by_job = {job: name for name, job in dep.triggerer_jobs.items()}
    victim = by_job.get(holders.most_common(1)[0][0]) if holders else None
    if victim is None:
        return False, f"no deferred sensor is held by a triggerer this run started: {dict(holders)}"
    survivor = next(n for n in TRIGGERERS if n != victim)
    held = holders.most_common(1)[0][1]
    killed_at = time.time()
    dep.procs.kill(victim)
    print(f"scenario 2: killed {victim}, which held {held} triggers", flush=True)
    time.sleep(2)
    for i in LATE:
        dep.emulator.add_session(confs[i]["meeting_id"], [(confs[i]["participant_id"], time.time())])

    def taken_over() -> bool:
        tis = [dep.task(SENSOR_DAG, r, "wait") for r in runs]
        held = [(ti.get("trigger") or {}).get("triggerer_id") for ti in tis if ti["state"] == "deferred"]
        return all(job == dep.triggerer_jobs[survivor] for job in held)

    wait_for("the other triggerer to take the triggers over", taken_over, 90, 0.5)
    takeover = time.time() - killed_at
    final = dep.wait_runs(SENSOR_DAG, runs, max(deadlines) - time.time() + 60)
    dep.procs.restart(victim)
    tis = [dep.task(SENSOR_DAG, r, "wait") for r in runs]
    problems = []
    late_polls = []
    lateness: dict[str, float] = {}
    in_outage = sum(killed_at < deadlines[i] < killed_at + takeover for i in SHORT)
    for i, (ti, run_id) in enumerate(zip(tis, runs, strict=True)):
        answered = i in EARLY or i in LATE
        want = "success" if answered else "failed"
        if ti["state"] != want or final.get(run_id) != want:
            problems.append(f"sensor {i} {ti['state']} (want {want})")
        if answered and ti["state"] == "success":
            participant = dep.api.xcom(SENSOR_DAG, run_id, "wait") or {}
            if participant.get("participantId") != confs[i]["participant_id"]:
                problems.append(f"sensor {i} returned {participant}")
        if not answered and ti.get("end_date"):
            group = "short" if i in SHORT else "long"
            ended = parse_time(ti["end_date"]) or 0
            late = ended - deadlines[i]
            lateness[group] = max(lateness.get(group, -1e9), late)
            early = ended - ((parse_time(ti.get("start_date")) or 0) + confs[i]["answer_timeout"])
            if early < -CLOCK_SLACK:
                problems.append(f"sensor {i} failed {-early:.1f}s before its try's start + answer_timeout")
            if late > takeover + LATENESS_SLACK:
                problems.append(f"sensor {i} failed {late:+.1f}s from its deadline")
        polls = [a.at for a in dep.proxy.to(SESSIONS, "GET") if a.query.get("roomId") == [confs[i]["meeting_id"]]]
        late_polls += [f"sensor {i} +{at - deadlines[i]:.2f}s" for at in polls if at > deadlines[i]]
    if late_polls:
        problems.append(f"polls after the deadline: {late_polls[:5]}")
    early_tries = {dep.task(SENSOR_DAG, runs[i], "wait")["try_number"] for i in EARLY}
    detail = (
        f"{victim} SIGKILLed holding {held} of {sum(holders.values())} waiting triggers; {survivor} held them all "
        f"{takeover:.1f}s later; {summarize([t['state'] for t in tis])}; the 4 answered before the kill stayed "
        f"success (tries {sorted(early_tries)}), the 6 answered after it succeeded; not answered failed at most "
        f"{lateness.get('short', 0):+.1f}s ({in_outage} of 4 deadlines fell within the takeover) / "
        f"{lateness.get('long', 0):+.1f}s (after it) from the deadline; polls after a deadline: {len(late_polls)}; "
        "calls placed: 0"
    )
    dep.rows.append(
        Row(
            "2 triggerer killed, 20 deferred sensors",
            "0 (sensors only read)",
            summarize([t["state"] for t in tis]) + " (10 answered, 10 not)",
            f"takeover {takeover:.0f}s, timeouts <= {max(lateness.values(), default=0):+.0f}s",
        )
    )
    return not problems, "; ".join(problems) or detail


# -- scenario 3: the scheduler restarted -----------------------------------------------------------

BATCH = 12  # call tasks at once: more than the 8 task slots, so some wait in the broker


def scenario_scheduler_restarted(dep: Deployment) -> tuple[bool, str]:
    numbers = [dep.number() for _ in range(BATCH)]
    dep.emulator.add_fault(path=OUTBOUND, method="POST", process=True, delay=6.0, times=BATCH)
    runs = [dep.api.trigger(CALL_DAG, {"to": n, "meeting_id": "e2e-scheduler"}) for n in numbers]

    def queued_and_running() -> bool:
        states = [dep.task(CALL_DAG, r)["state"] for r in runs]
        return "queued" in states and "running" in states and sum(dep.calls_to(numbers).values()) >= 1

    wait_for("call tasks both queued and running", queued_and_running, 90, 0.3)
    before = Counter(dep.task(CALL_DAG, r)["state"] for r in runs)
    killed_at = time.time()
    dep.procs.kill("scheduler")
    time.sleep(3)
    dep.procs.restart("scheduler")
    final = dep.wait_runs(CALL_DAG, runs, 150)
    done = time.time() - killed_at
    calls = dep.calls_to(numbers)
    tries = [dep.task(CALL_DAG, r)["try_number"] for r in runs]
    ok = all(n == 1 for n in calls.values()) and all(s == "success" for s in final.values()) and len(final) == BATCH
    detail = (
        f"scheduler SIGKILLed with {before.get('queued', 0)} queued and {before.get('running', 0)} running, "
        f"restarted 3s later; calls per callee {sorted(Counter(calls.values()).items())} (callee count by calls); "
        f"runs {summarize(list(final.values()))}; tries {sorted(Counter(tries).items())}; all done {done:.0f}s "
        "after the kill"
    )
    dep.rows.append(
        Row(
            f"3 scheduler restarted ({before.get('queued', 0)} queued, {before.get('running', 0)} running)",
            f"{sum(calls.values())} for {BATCH} tasks",
            summarize(list(final.values())),
            f"all done {done:.0f}s",
        )
    )
    return ok, detail


# -- scenario 4: the broker restarted --------------------------------------------------------------

BROKER_DOWN = 10.0


def scenario_broker_restarted(dep: Deployment) -> tuple[bool, str]:
    queued = [dep.number() for _ in range(BATCH)]
    during = [dep.number() for _ in range(4)]
    dep.emulator.add_fault(path=OUTBOUND, method="POST", process=True, delay=8.0, times=2 * CONCURRENCY)
    runs = [dep.api.trigger(CALL_DAG, {"to": n, "meeting_id": "e2e-broker"}) for n in queued]

    def some_queued() -> bool:
        states = [dep.task(CALL_DAG, r)["state"] for r in runs]
        return states.count("queued") >= 2 and sum(dep.calls_to(queued).values()) >= CONCURRENCY

    wait_for("call tasks waiting in the broker", some_queued, 90, 0.3)
    before = Counter(dep.task(CALL_DAG, r)["state"] for r in runs)
    stopped_at = time.time()
    dep.redis.stop()
    runs_during = [dep.api.trigger(CALL_DAG, {"to": n, "meeting_id": "e2e-broker"}) for n in during]
    time.sleep(max(0.0, stopped_at + BROKER_DOWN - time.time()))
    dep.redis.start()
    back_at = time.time()
    print(f"scenario 4: Redis was down {back_at - stopped_at:.0f}s", flush=True)
    final = dep.wait_runs(CALL_DAG, runs + runs_during, 150)
    done = time.time() - back_at
    calls = dep.calls_to(queued + during)
    tries = [dep.task(CALL_DAG, r)["try_number"] for r in runs + runs_during]
    ok = all(n == 1 for n in calls.values()) and all(s == "success" for s in final.values())
    detail = (
        f"Redis stopped {back_at - stopped_at:.0f}s with {before.get('queued', 0)} tasks queued and "
        f"{before.get('running', 0)} running, {len(during)} more triggered meanwhile; calls per callee "
        f"{dict(Counter(calls.values()))} (calls: callees); runs {summarize(list(final.values()))}; tries "
        f"{dict(sorted(Counter(tries).items()))}; all done {done:.0f}s after Redis was back"
    )
    dep.rows.append(
        Row(
            f"4 broker down {BROKER_DOWN:.0f}s ({before.get('queued', 0)} queued, {len(during)} scheduled meanwhile)",
            f"{sum(calls.values())} for {len(calls)} tasks",
            summarize(list(final.values())),
            f"all done {done:.0f}s after it was back",
        )
    )
    return ok, detail


# -- scenario 5: the metadata DB away as the intent is written -------------------------------------

LOOKUP_HOLD = 8.0  # the earlier-callee look-up is answered this late; the DB goes away during it
DB_DOWN = 10.0


def scenario_db_unavailable(dep: Deployment) -> tuple[bool, str]:
    to, meeting = dep.number(), "e2e-db-blip"
    dep.emulator.add_fault(path=SESSIONS, method="GET", process=True, delay=LOOKUP_HOLD)
    run_id = dep.api.trigger(LOOKUP_DAG, {"to": to, "meeting_id": meeting, "earlier": "nobody-answered"})
    wait_for(
        "the look-up before the intent",
        lambda: [a for a in dep.proxy.to(SESSIONS, "GET") if a.query.get("roomId") == [meeting]],
        90,
        0.1,
    )
    time.sleep(1.0)
    stopped_at = time.time()
    dep.postgres.stop()
    calls_while_down = 0
    while time.time() < stopped_at + DB_DOWN:
        calls_while_down = dep.calls_to([to])[to]
        time.sleep(0.5)
    dep.postgres.start()
    back_at = time.time()
    time.sleep(2)
    revived = dep.revive()
    final = dep.wait_runs(LOOKUP_DAG, [run_id], 150)
    done = time.time() - back_at
    calls = [c for c in dep.emulator.calls() if c["to"] == to]
    tries = dep.api.tries(LOOKUP_DAG, run_id, "call")
    logs = {t["try_number"]: dep.api.log(LOOKUP_DAG, run_id, "call", t["try_number"]) for t in tries}
    not_written = [n for n, log in logs.items() if "Could not write the call's intent" in log]
    dialled_in = [t["try_number"] for t in tries if calls and _within(t, calls[0]["placedAt"])]
    ok = len(calls) == 1 and final.get(run_id) == "success" and not (set(not_written) & set(dialled_in))
    what = (
        f"try {not_written} could not write its intent and dialled nothing; "
        if not_written
        else "the execution API's own retries wrote the intent once the DB was back; "
    )
    detail = (
        f"PostgreSQL stopped {DB_DOWN:.0f}s from {LOOKUP_HOLD - 1:.0f}s before the intent write; {what}"
        f"{len(calls)} call(s) in all, placed in try {dialled_in}; {len(tries)} tries, run {final.get(run_id)} "
        f"{done:.0f}s after the DB was back; calls while it was down: {calls_while_down}"
        + (f"; exited during the outage and restarted: {revived}" if revived else "")
    )
    dep.rows.append(
        Row(
            f"5 metadata DB down {DB_DOWN:.0f}s at the intent write",
            str(len(calls)),
            f"{final.get(run_id)} (dialled in try {dialled_in}, {len(tries)} tries)",
            f"done {done:.0f}s after",
        )
    )
    return ok, detail


def _within(task_try: dict[str, Any], at: float) -> bool:
    """Whether Unix time ``at`` falls within the try's start and end."""
    start, end = parse_time(task_try.get("start_date")), parse_time(task_try.get("end_date"))
    return (start or 0) <= at <= (end or float("inf"))


SCENARIOS: list[tuple[str, Callable[[Deployment], tuple[bool, str]]]] = [
    ("0 incident storm: 30 failures on 2 workers, 1 escalation, 1 call, 29 joined", scenario_storm),
    ("1 worker killed mid-call: exactly one call, the retry finds it", scenario_worker_killed),
    ("2 triggerer killed while 20 sensors wait: the other takes over", scenario_triggerer_killed),
    ("3 scheduler restarted with tasks queued and running: none twice, none lost", scenario_scheduler_restarted),
    ("4 broker down 10s with tasks queued: each placed exactly once", scenario_broker_restarted),
    ("5 metadata DB down at the intent write: one call in all", scenario_db_unavailable),
]


# -- the deployment --------------------------------------------------------------------------------


def deploy(root: Path, procs: Processes, t0: float) -> Deployment:
    home = root / "airflow"
    (home / "dags").mkdir(parents=True)
    for path in (*DAG_DIR.glob("*.py"), incidents.DAG_FILE):
        shutil.copy(path, home / "dags" / path.name)
    key, secret = "e2e-api-key", os.urandom(24).hex()
    emulator_url, emulator = start_emulator(procs, key, secret)
    proxy = TimingProxy(emulator_url)
    postgres = Postgres(root, procs)
    postgres.start()
    redis = Redis(root, procs)
    redis.start()
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    result_backend = "db+" + postgres.url  # Celery keeps task results in the metadata DB, as is usual
    config = {**CONFIG, "AIRFLOW__CELERY__BROKER_URL": redis.url, "AIRFLOW__CELERY__RESULT_BACKEND": result_backend}
    env = airflow_env(home, api_url, postgres.url, "CeleryExecutor", **config)
    migrate(env)
    print(f"metadata DB migrated after {time.monotonic() - t0:.1f}s", flush=True)
    procs.start("api-server", [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(api_port), "-w", "1"], env)
    procs.start("scheduler", [AIRFLOW, "scheduler"], env)
    procs.start("dag-processor", [AIRFLOW, "dag-processor"], env)
    for worker in WORKERS:
        argv = [AIRFLOW, "celery", "worker", "--celery-hostname", f"{worker}@127.0.0.1", "--concurrency",
                str(CONCURRENCY), "--skip-serve-logs", "--without-mingle", "--without-gossip"]  # fmt: skip
        procs.start(worker, argv, env)
    wait_for("the api-server", lambda: all_healthy(api_url) or True, 120, 1.0)  # up, if not all healthy yet
    api = Api(api_url, login(api_url, home))
    jobs: dict[str, int] = {}

    def new_triggerer_job() -> int | None:
        found = api.call("GET", "/api/v2/jobs", job_type="TriggererJob", job_state="running", limit=100)["jobs"]
        fresh = [j["id"] for j in found if j["id"] not in jobs.values()]
        return max(fresh) if fresh else None

    for name in TRIGGERERS:  # one after the other, to tell their jobs apart
        procs.start(name, [AIRFLOW, "triggerer", "--skip-serve-logs"], env)
        jobs[name] = wait_for(f"{name}'s job", new_triggerer_job, 120, 0.5)
    wait_for("a healthy api-server, scheduler, dag-processor and triggerers", lambda: all_healthy(api_url), 120)
    body = {"connection_id": "videosdk_default", "conn_type": "videosdk", "login": key, "password": secret}
    api.call("POST", "/api/v2/connections", {**body, "host": proxy.url})
    own = {"connection_id": "airflow_api_default", "conn_type": "airflow_api", "login": "admin"}  # the notifier's
    api.call("POST", "/api/v2/connections", {**own, "password": admin_password(home), "host": api_url})
    for dag_id in (CALL_DAG, SIP_CALL_DAG, LOOKUP_DAG, SENSOR_DAG, *incidents.STORM_DAGS):
        wait_for(f"DAG {dag_id} to be parsed", functools.partial(api.call, "GET", f"/api/v2/dags/{dag_id}"), 120)
        api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    wait_for("the storm's escalation DAG to be parsed",
             functools.partial(api.call, "GET", f"/api/v2/dags/{incidents.STORM_ESCALATION}"), 120)  # fmt: skip
    wait_for("both Celery workers", lambda: _workers_ready(env), 120, 1.0)
    print(f"deployment up after {time.monotonic() - t0:.1f}s (Airflow files in {home})", flush=True)
    return Deployment(root, procs, api, emulator, proxy, postgres, redis, jobs, env)


def _control(env: dict[str, str], call: str) -> Any:
    """What ``app.control.<call>`` of Airflow's Celery app answered (through the broker), or ``None``."""
    code = (
        "import json; from airflow.providers.celery.executors.celery_executor_utils import app; "
        f"print(json.dumps(app.control.{call}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60).stdout
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


def _workers_ready(env: dict[str, str]) -> bool:
    """Whether both Celery workers answer a ping through the broker."""
    ping = _control(env, "inspect(timeout=3).ping()") or {}
    return all(f"{w}@127.0.0.1" in ping for w in WORKERS)


def _pool_sizes(env: dict[str, str]) -> list[int]:
    """Each worker's number of pool processes (task slots), in ``WORKERS`` order (0 for one that did not answer)."""
    stats = _control(env, "inspect(timeout=3).stats()") or {}
    return [len(stats.get(f"{w}@127.0.0.1", {}).get("pool", {}).get("processes", [])) for w in WORKERS]


def print_table(rows: list[Row]) -> None:
    headers = ("scenario", "calls placed", "final states", "recovery time")
    cells = [headers, *((r.scenario, r.calls, r.states, r.recovery) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]
    line = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    print(line.format(*headers))
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for r in rows:
        print(line.format(r.scenario, r.calls, r.states, r.recovery))


def run(root: Path, procs: Processes, report: Report, t0: float) -> None:
    dep = deploy(root, procs, t0)
    try:
        for title, scenario in SCENARIOS:
            started = time.monotonic()
            report.run(title, functools.partial(scenario, dep))
            print(f"      ({time.monotonic() - started:.0f}s; {time.monotonic() - t0:.0f}s in all)", flush=True)
            if revived := dep.revive():
                print(f"      restarted processes that had exited: {revived}", flush=True)
    finally:
        dep.proxy.close()
        print()
        print_table(dep.rows)
        print()


def main() -> int:
    return run_suite("e2e-celery", run, "CeleryExecutor, PostgreSQL, Redis, 2 workers, 2 triggerers")


if __name__ == "__main__":
    sys.exit(main())
