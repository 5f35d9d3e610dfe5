"""
End-to-end test of incidents in a real Airflow 3 deployment (``make e2e`` runs it after ``e2e/run.py``).

In a fresh ``AIRFLOW_HOME``: the emulator, ``airflow api-server``, ``scheduler`` (LocalExecutor),
``dag-processor`` and ``triggerer``; the ``videosdk_default`` and ``airflow_api_default`` (this
deployment's own API, as the admin) connections. Then:

1. storm: 30 tasks in 3 DAGs fail at one moment with one incident key: exactly 1 escalation run,
   1 call to level 1, 29 callbacks logged that they joined; the time from the opening task's end to
   the first ``POST /v2/sip/call`` is measured and reported;
2. acknowledgement (``ack="human"``): level 1 answers (as voicemail would) and nobody acknowledges
   within ``ack_timeout``: level 2 is phoned; one of its callees answers and acknowledges through
   the REST API (``PATCH .../hitlDetails``): no further call, the other, still ringing, is hung up;
   headless Chromium shows the acknowledgement request in Airflow's UI (screenshot checked).

Run it alone with ``python e2e/incidents.py``.
"""

from __future__ import annotations

import functools
import shutil
import sys
import time
from typing import TYPE_CHECKING, Any

from lib import (
    AIRFLOW,
    REPO,
    Api,
    Processes,
    Report,
    admin_password,
    airflow_env,
    all_healthy,
    free_port,
    login,
    migrate,
    parse_time,
    run_suite,
    start_chromium,
    start_emulator,
    wait_for,
)

from airflow_provider_videosdk.validation import mask_phone

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_videosdk.testing import EmulatorClient

DAG_FILE = REPO / "e2e" / "incident_dags" / "e2e_incidents.py"
STORM_DAGS = [f"e2e_incident_storm_{n}" for n in (1, 2, 3)]
STORM_ESCALATION = "e2e_incident_storm_escalation"
ACK_ESCALATION = "e2e_incident_ack_escalation"
STORM_L1, STORM_L2 = "+14155550801", "+14155550802"
ACK_L1, ACK_L2A, ACK_L2B = "+14155550811", "+14155550812", "+14155550813"
FIRST_RING_TARGET = 5.0  # seconds from the failing task's end to the first POST /v2/sip/call
SCREENSHOT_NAME = "incident-acknowledge.png"


def _runs(api: Api, dag_id: str) -> list[dict[str, Any]]:
    return list(api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns")["dag_runs"])


def start_storm(api: Api, emulator: EmulatorClient, conf: dict[str, Any]) -> dict[str, str]:
    """Level 1 answers after 3 s; one run of each storm DAG with ``conf``; return DAG ID -> run ID."""
    emulator.set_callee(STORM_L1, "answer", after=3)
    return {d: api.trigger(d, conf) for d in STORM_DAGS}


def storm_running(api: Api, runs: dict[str, str]) -> int:
    """How many of the storm's 30 tasks are running."""
    return sum(s == "running" for d, r in runs.items() for s, _ in api.task_states(d, r).values())


def wait_storm(api: Api, runs: dict[str, str], timeout: float = 150) -> None:
    """Wait until every storm run has failed, then for callbacks that ran late (or a second escalation)."""

    def storm_over() -> bool:
        return all(api.call("GET", api.run_path(d, r))["state"] == "failed" for d, r in runs.items())

    wait_for("the storm's runs to fail", storm_over, timeout, 1)
    time.sleep(5)


def check_storm(api: Api, emulator: EmulatorClient, runs: dict[str, str]) -> tuple[bool, str]:
    """One escalation run, one call to level 1, 29 joined; the time to the first ring."""
    logs, ends = {}, {}
    for dag_id, run_id in runs.items():
        for ti in api.call("GET", api.run_path(dag_id, run_id) + "/taskInstances")["task_instances"]:
            logs[(dag_id, ti["task_id"])] = api.log(dag_id, run_id, ti["task_id"], 1)
            ends[(dag_id, ti["task_id"])] = parse_time(ti["end_date"])
    joined = [k for k, text in logs.items() if "joined it; phoning no one" in text]
    opened = [k for k, text in logs.items() if "Opened incident e2e-storm" in text]
    escalations = _runs(api, STORM_ESCALATION)
    calls = [c for c in emulator.sip_calls() if c["to"] in (STORM_L1, STORM_L2)]
    first_ring = min((c["placedAt"] for c in calls), default=float("nan"))
    # When the opening task failed: its log's "Task failed with exception" (its end_date comes after
    # its failure callback, which now places the first call).
    opener_end = _failed_at(api, runs, opened[0]) if len(opened) == 1 else float("nan")
    spread = max(e for e in ends.values() if e) - min(e for e in ends.values() if e)
    ring = first_ring - opener_end
    ok = (
        len(logs) == 30
        and len(escalations) == 1
        and len(opened) == 1
        and len(joined) == 29
        and [c["to"] for c in calls] == [STORM_L1]
    )
    return ok, (
        f"{len(logs)} tasks failed within {spread:.1f}s; {len(escalations)} escalation run(s) "
        f"({escalations[0]['dag_run_id'] if escalations else '-'}), {len(opened)} opened, {len(joined)} joined; "
        f"calls {[c['to'] for c in calls]}; first ring {ring:.1f}s after the opening task ended "
        f"(target {FIRST_RING_TARGET:g}s: {'met' if ring <= FIRST_RING_TARGET else 'NOT met'})"
    )


def _failed_at(api: Api, runs: dict[str, str], key: tuple[str, str]) -> float:
    """When task ``key`` (dag id, task id) logged that it failed, Unix time (NaN if it did not)."""
    for entry in api.log_entries(key[0], runs[key[0]], key[1], 1):
        if isinstance(entry, dict) and entry.get("event") == "Task failed with exception":
            return parse_time(entry.get("timestamp")) or float("nan")
    return float("nan")


def check_storm_summary(api: Api) -> tuple[bool, str]:
    (run,) = _runs(api, STORM_ESCALATION)
    wait_for("the storm's escalation to end", functools.partial(ended, api, STORM_ESCALATION, run["dag_run_id"]), 90)
    state = api.run_state(STORM_ESCALATION, run["dag_run_id"])
    log = api.log(STORM_ESCALATION, run["dag_run_id"], "summary", 1)
    headline = f"Incident e2e-storm: acknowledged by {mask_phone(STORM_L1)} (answered at level_1)"
    # The opening failure phoned level 1; the run's call task must have adopted that call, not dialled.
    adopted = "placed this call already" in api.log(STORM_ESCALATION, run["dag_run_id"], "level_1.call_1", 1)
    ok = state.startswith("success") and headline in log and adopted
    call = "adopted" if adopted else "NOT adopted"
    return ok, f"escalation run {state}; level 1's call {call}; summary: {_headline(log)}"


def _headline(log: str) -> str:
    """The summary's first line (``Incident <key>: ...``)."""
    return next((line for line in log.splitlines() if line.startswith("Incident ")), "-")


def ended(api: Api, dag_id: str, run_id: str) -> bool:
    return api.call("GET", api.run_path(dag_id, run_id))["state"] in ("success", "failed")


def awaiting(api: Api, run_id: str, task_id: str) -> bool:
    """Whether the human-in-the-loop request of ``task_id`` is waiting for a response."""
    state = api.task_instance(ACK_ESCALATION, run_id, task_id)["state"]
    return state in ("deferred", "awaiting_input")


def check_ack_flow(
    api: Api, emulator: EmulatorClient, api_url: str, password: str, root: Path, procs: Processes, env: dict[str, str]
) -> tuple[bool, str]:
    """Voicemail at level 1 times out; level 2 answers and acknowledges through the REST API."""
    emulator.set_callee(ACK_L1, "voicemail", after=2)
    emulator.set_callee(ACK_L2A, "answer", after=3)
    emulator.set_callee(ACK_L2B, "never")
    run_id = api.call(
        "POST", f"/api/v2/dags/{ACK_ESCALATION}/dagRuns", {"logical_date": None, "conf": {"incident_key": "e2e-ack"}}
    )["dag_run_id"]
    wait_for("level 1's acknowledgement request", lambda: awaiting(api, run_id, "level_1.acknowledge"), 120, 1)
    # The voicemail's request, in the UI while it waits (nobody presses it: it times out).
    shot = screenshot_required_action(api_url, password, root, procs, env, run_id, "level_1.acknowledge")
    wait_for("level 2's acknowledgement request", lambda: awaiting(api, run_id, "level_2.acknowledge"), 150, 0.5)
    # Answer as a person would, after the scheduler has seen the paused task's worker exit: a response that
    # beats that event re-queues the task, and Airflow 3.3's scheduler then fails it ("finished with state
    # success" while queued), as seen once here with a response 0.2 s after the request.
    scheduler_log = root / "process-logs" / "scheduler.log"
    seen = f"executor event with state success for task instance TaskInstanceKey(dag_id='{ACK_ESCALATION}', "
    seen += "task_id='level_2.acknowledge'"
    wait_for("the scheduler to see the paused worker exit", lambda: seen in scheduler_log.read_text(), 60, 0.5)
    path = api.run_path(ACK_ESCALATION, run_id) + "/taskInstances/level_2.acknowledge/-1/hitlDetails"
    api.call("PATCH", path, {"chosen_options": ["Acknowledge"], "params_input": {}})
    wait_for("the escalation to end", functools.partial(ended, api, ACK_ESCALATION, run_id), 90, 1)
    time.sleep(3)  # a further call would come right after
    state = api.run_state(ACK_ESCALATION, run_id)
    calls = [c for c in emulator.sip_calls() if c["to"] in (ACK_L1, ACK_L2A, ACK_L2B)]
    by_to = {c["to"]: c for c in calls}
    ends = [e for e in emulator.call_ends() if e["callId"] == by_to.get(ACK_L2B, {}).get("id")]
    tis = api.task_states(ACK_ESCALATION, run_id)
    summary = api.log(ACK_ESCALATION, run_id, "summary", 1)
    ok = (
        sorted(c["to"] for c in calls) == sorted([ACK_L1, ACK_L2A, ACK_L2B])
        and tis["level_1.acknowledge"][0] == "failed"
        and tis["level_2.acknowledge"][0] == "success"
        and len(ends) == 1
        and ends[0]["statusBefore"] == "ringing"
        and state.startswith("success")
        and "Acknowledge pressed, at level_2" in summary
        and shot[0]
    )
    return ok, (
        f"run {state}; calls {[c['to'] for c in calls]}; level 1 ack {tis['level_1.acknowledge'][0]} (voicemail, "
        f"timed out), level 2 ack {tis['level_2.acknowledge'][0]}; the ringing callee hung up: {len(ends)} end(s) "
        f"({ends[0]['statusBefore'] if ends else '-'} before); {_headline(summary)}; {shot[1]}"
    )


def screenshot_required_action(
    api_url: str, password: str, root: Path, procs: Processes, env: dict[str, str], run_id: str, task_id: str
) -> tuple[bool, str]:
    """The acknowledgement request in Airflow's UI, in headless Chromium; the screenshot is kept in docs/."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver, why = start_chromium(procs, env, root, "chromedriver-incidents")
    if driver is None:
        return False, why
    shot = root / SCREENSHOT_NAME
    try:
        wait = WebDriverWait(driver, 40)
        driver.get(api_url + "/")
        wait.until(ec.visibility_of_element_located((By.NAME, "username"))).send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        time.sleep(2)
        driver.get(f"{api_url}/dags/{ACK_ESCALATION}/runs/{run_id}/tasks/{task_id}/required_actions")
        button = "//button[normalize-space(.)='Acknowledge']"
        wait.until(lambda d: d.find_element(By.XPATH, button).is_displayed())
        text = driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()
        procs.stop("chromedriver-incidents")
    ok = "e2e-ack" in text and shot.stat().st_size > 10_000
    if ok:
        shutil.copyfile(shot, REPO / "docs" / SCREENSHOT_NAME)
    return ok, f"UI: the request 'Incident e2e-ack: acknowledge' with an Acknowledge button (docs/{SCREENSHOT_NAME})"


def run(root: Path, procs: Processes, report: Report, t0: float) -> None:
    home = root / "airflow"
    (home / "dags").mkdir(parents=True)
    shutil.copy(DAG_FILE, home / "dags" / DAG_FILE.name)
    key, secret = "e2e-api-key", "e2e-incident-secret-7f3a9c"
    api_url = f"http://127.0.0.1:{free_port()}"
    emulator_url, emulator = start_emulator(procs, key, secret)
    # 30 failing tasks at once: enough executor slots for all of them, and the escalation besides.
    env = airflow_env(
        home, api_url, None, AIRFLOW__CORE__PARALLELISM="40", AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG="16"
    )
    migrate(env)
    port = api_url.rsplit(":", 1)[1]
    procs.start("api-server", [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", port, "-w", "1"], env)
    for name in ("scheduler", "dag-processor", "triggerer"):
        procs.start(name, [AIRFLOW, name], env)
    wait_for("a healthy deployment", lambda: all_healthy(api_url), 120)
    password = admin_password(home)
    api = Api(api_url, login(api_url, home))
    print(f"incidents: deployment up after {time.monotonic() - t0:.1f}s", flush=True)
    api.call("POST", "/api/v2/connections", {"connection_id": "videosdk_default", "conn_type": "videosdk",
                                             "login": key, "password": secret, "host": emulator_url})  # fmt: skip
    api.call("POST", "/api/v2/connections", {"connection_id": "airflow_api_default", "conn_type": "airflow_api",
                                             "login": "admin", "password": password, "host": api_url})  # fmt: skip
    for dag_id in (*STORM_DAGS, STORM_ESCALATION, ACK_ESCALATION):
        wait_for(f"DAG {dag_id} to be parsed", functools.partial(api.call, "GET", f"/api/v2/dags/{dag_id}"), 120)
    for dag_id in STORM_DAGS:
        api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    paused = [d for d in (STORM_ESCALATION, ACK_ESCALATION) if api.call("GET", f"/api/v2/dags/{d}")["is_paused"]]
    report.record("0 escalation DAGs not paused when first parsed", not paused, f"paused: {paused or 'none'}")
    fail_at = time.time() + 40  # every task is running (sleeping) by then, even on a loaded machine
    runs = start_storm(api, emulator, {"fail_at": fail_at})
    wait_storm(api, runs)
    report.run("1 storm: 30 failures, 1 escalation, 1 call, 29 joined", lambda: check_storm(api, emulator, runs))
    report.run("2 storm escalation: level 1 answered, summary", lambda: check_storm_summary(api))
    report.run(
        "3 acknowledgement: voicemail escalates, REST acknowledgement ends it, UI shows the request",
        lambda: check_ack_flow(api, emulator, api_url, password, root, procs, env),
    )


def main() -> int:
    return run_suite("e2e-incidents", run, "metadata DB: sqlite")


if __name__ == "__main__":
    sys.exit(main())
