"""
End-to-end test of the provider in a real Airflow 3 deployment.

In a fresh temporary ``AIRFLOW_HOME`` this starts the VideoSDK emulator, ``airflow api-server``,
``airflow scheduler`` (LocalExecutor), ``airflow dag-processor`` and ``airflow triggerer``, each a
process group of its own, on SQLite, or with ``E2E_DB=postgres`` on a PostgreSQL it starts itself.
It then acts as a user would: the REST API (``/api/v2``), the CLI only where the API has nothing,
and headless Chromium for the connection form. One PASS/FAIL line per check; exit status 1 if any
check failed. On failure the deployment's files are kept and their location printed.

Run it with ``make e2e``, which first installs what it needs (``e2e/setup.sh``, the ``e2e`` extra).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

from lib import (
    AIRFLOW,
    PROVIDER_TABLES,
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
    start_postgres,
    tables_holding,
    wait_for,
)

from airflow_provider_videosdk.get_provider_info import get_provider_info

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from airflow_provider_videosdk.testing import EmulatorClient

DAG_FILES = [
    *sorted((REPO / "e2e" / "dags").glob("*.py")),
    REPO / "example_dags" / "example_videosdk_escalation_chain.py",
    REPO / "example_dags" / "example_videosdk_failure_notifier.py",
    REPO / "example_dags" / "example_videosdk_call_status_chain.py",
]
TEMPLATED = "e2e_videosdk_templated_call"
RETRY = "e2e_videosdk_retry_after_call"
CHAIN = "example_videosdk_escalation_chain_deferrable"
NOTIFIER = "example_videosdk_failure_notifier"
STATUS_CHAIN = "example_videosdk_call_status_chain"
STATUS_POKE_INTERVAL = 2.0  # the example's poke_interval
# How much later than poke_interval after the one before it a status read may reach the emulator:
# a loaded machine wakes the triggerer late; a skipped read or a longer interval exceeds it.
READ_GAP_MARGIN = 1.5
SCREENSHOT = REPO / "docs" / "connection-form.png"
AIRFLOW_PROCESSES = ("api-server", "scheduler", "dag-processor", "triggerer")
ANSWER_AFTER = 10.0  # seconds until the primary answers in check 4a
RUN_TIMEOUT = 420.0  # seconds for all DAG runs together: a ceiling for a stuck run, not a latency
# The sensor's answer_timeout in checks 9a and 9b: only a sensor that ignored the final status waits
# that long; the secondary must be phoned within half of it.
STATUS_TIMEOUT = 300
# ... and in check 9c, where the call rings past it: long enough for the trigger to poll the ringing
# call a number of times even when the triggerer starts it late.
HANG_UP_TIMEOUT = 40


# -- the checks ------------------------------------------------------------------------------------


def expected_conn_fields() -> dict[str, str]:
    """Extra field -> label, as the provider registers them."""
    (conn_type,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "videosdk"]
    return {name: spec["label"] for name, spec in conn_type.get("conn-fields", {}).items()}


def check_registration(api: Api) -> tuple[bool, str]:
    providers = api.call("GET", "/api/v2/providers", limit=1000)["providers"]
    ours = [p for p in providers if p["package_name"] == "airflow-provider-videosdk"]
    (meta,) = [h for h in api.call("GET", "/ui/connections/hook_meta") if h["connection_type"] == "videosdk"]
    std = meta["standard_fields"]
    labels = {name: std[name]["title"] for name in ("login", "password", "host")}
    extras = {name: field["schema"].get("title") for name, field in (meta["extra_fields"] or {}).items()}
    problems = []
    if not ours:
        problems.append("the provider is not in GET /api/v2/providers")
    if meta["hook_name"] != "VideoSDK":
        problems.append(f"hook name {meta['hook_name']!r}")
    if labels != {"login": "API key", "password": "API secret", "host": "API base URL"}:
        problems.append(f"labels {labels}")
    if not (std["port"]["hidden"] and std["url_schema"]["hidden"]):
        problems.append("port or schema not hidden")
    if extras != expected_conn_fields():
        problems.append(f"extra fields {extras} != {expected_conn_fields()}")
    version = ours[0]["version"] if ours else "?"
    return not problems, "; ".join(problems) or (
        f"provider {version} listed; hook meta: API key / API secret / API base URL, port and schema hidden, "
        f"extra fields {sorted(extras)}"
    )


def check_connection_test(
    api: Api, env: dict[str, str], emulator_url: str, key: str, secret: str, wrong: str, secrets: list[str]
) -> tuple[bool, str]:
    """REST with ``secret`` and ``wrong``; CLI on the stored connections; ``secrets`` must not be echoed."""
    body = {"connection_id": "videosdk_probe", "conn_type": "videosdk", "login": key, "host": emulator_url}
    good = api.call("POST", "/api/v2/connections/test", {**body, "password": secret})
    bad = api.call("POST", "/api/v2/connections/test", {**body, "password": wrong})
    cli_good = subprocess.run(
        [AIRFLOW, "connections", "test", "videosdk_default"], env=env, capture_output=True, text=True, timeout=120
    )
    cli_bad = subprocess.run(
        [AIRFLOW, "connections", "test", "videosdk_wrong_secret"], env=env, capture_output=True, text=True, timeout=120
    )
    cli_bad_out = cli_bad.stdout + cli_bad.stderr
    problems = []
    if good["status"] is not True:
        problems.append(f"REST test with good credentials failed: {good['message']}")
    if bad["status"] is not False or "401" not in bad["message"]:
        problems.append(f"REST test with a wrong secret: {bad}")
    if cli_good.returncode != 0 or "Connection success" not in cli_good.stdout:
        problems.append(f"CLI test with good credentials: exit {cli_good.returncode}: {cli_good.stdout[-300:]}")
    if cli_bad.returncode == 0 or "401" not in cli_bad_out:
        problems.append(f"CLI test with a wrong secret: exit {cli_bad.returncode}: {cli_bad_out[-300:]}")
    leaked = [s for s in secrets if s in bad["message"] + cli_bad_out]
    if leaked:
        problems.append("a secret appears in a failure message")
    return not problems, "; ".join(problems) or (
        f"REST: good -> {good['message']!r}; wrong secret -> refused (401), no secret in the message; "
        "CLI `airflow connections test`: the same"
    )


def check_templated(api: Api, emulator: EmulatorClient, run_id: str, conf: dict[str, str]) -> tuple[bool, str]:
    state = api.run_state(TEMPLATED, run_id)
    calls = [c for c in emulator.calls() if c["to"] == conf["to"]]
    xcom = api.xcom(TEMPLATED, run_id, "call")
    expected = {"displayName": f"{TEMPLATED} {run_id}", "meetingId": conf["meeting_id"], "participantId": xcom}
    ok = state.startswith("success") and len(calls) == 1 and all(calls[0].get(k) == v for k, v in expected.items())
    return ok, f"run {state}, {len(calls)} call(s), XCom participant {xcom!r}" + (
        f", rendered name {calls[0]['displayName']!r}" if calls else ""
    )


def deferred(api: Api, run_id: str, task_id: str) -> bool:
    """Whether the sensor's first try went to the triggerer (its log holds the trigger's lines)."""
    return went_to_the_triggerer(api.log(CHAIN, run_id, task_id, 1))


def went_to_the_triggerer(log: str) -> bool:
    """Whether a try's log text holds the trigger's lines: it deferred and the trigger fired."""
    return "DEFERRED" in log and "Trigger fired event" in log


def _final_status_at(call: dict[str, Any]) -> float:
    """When the call reached its final status, by the emulator's timelog (ISO-8601, UTC)."""
    return parse_time(call["timelog"][-1]["timestamp"]) or float("nan")


def _arrivals(emulator: EmulatorClient, path: str, before: float, **query: str) -> list[float]:
    """When each GET of ``path`` (with ``query``) reached the emulator before ``before``, by its own clock."""
    wanted = {k: [v] for k, v in query.items()}
    return sorted(
        r["at"]
        for r in emulator.requests()
        if r["method"] == "GET" and r["path"] == path and r["at"] < before and wanted.items() <= r["query"].items()
    )


def _started_at(api: Api, dag_id: str, run_id: str, task_id: str) -> float:
    """When the task instance's first try started (a resume after deferring keeps it); +inf if it did not run."""
    return parse_time(api.task_instance(dag_id, run_id, task_id).get("start_date")) or float("inf")


def check_status_escalation(api: Api, emulator: EmulatorClient, run_id: str, conf: dict[str, Any]) -> tuple[bool, str]:
    """
    The call-status chain: the primary's call ends unanswered and the secondary is phoned.

    Judged by the emulator's own times, which the machine's load cannot reorder. The sensor's status
    reads of the primary's call (``GET /v2/sip/call/{id}`` before ``call_secondary`` started, which
    reads it once more) are its poke, then the trigger's polls, no two of which may be more than
    ``poke_interval`` + ``READ_GAP_MARGIN`` apart. A final status is acted on at the first read
    that saw it: at most one read at or after it (a read arriving a moment before it may be
    answered after it). When the sensor times out instead (9c), the trigger kept polling until its
    deadline. Reported, not bounded: how long the triggerer took to start the trigger, how soon
    the final status was read, and how soon the secondary was phoned (Airflow's scheduling),
    which must only come well within the sensor's timeout.
    """
    tis = api.task_states(STATUS_CHAIN, run_id)
    placed = emulator.sip_calls()
    calls = {c["to"]: c for c in placed}
    primary, secondary = calls.get(conf["primary"]), calls.get(conf["secondary"])
    if primary is None or secondary is None:
        return False, f"dialled {sorted(calls)}, tasks {_states(tis)}"
    statuses = [e["status"] for e in primary["timelog"]]
    final_at = _final_status_at(primary)
    phoned = secondary["placedAt"] - final_at
    ended = [e for e in emulator.call_ends() if e["callId"] == primary["id"]]
    log = api.log(STATUS_CHAIN, run_id, "wait_primary", 1)
    in_triggerer = went_to_the_triggerer(log)
    next_began = _started_at(api, STATUS_CHAIN, run_id, "call_secondary")
    reads = _arrivals(emulator, f"/v2/sip/call/{primary['id']}", next_began)
    polls = reads[1:]  # the trigger's: reads[0] is the sensor's poke before it deferred
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    limit = STATUS_POKE_INTERVAL + READ_GAP_MARGIN
    expect = conf["expect"]
    ok = (
        statuses[-1] == expect
        and "answered" not in statuses
        and tis["wait_primary"] == ("failed", 1)  # not retried: the final status is the signal
        and tis["call_secondary"][0] == tis["wait_secondary"][0] == "success"
        and [c["to"] for c in placed].count(conf["primary"]) == 1
        and bool(reads)
        and (in_triggerer or len(reads) == 1)  # no trigger: the poke saw the final status
        and max(gaps, default=0.0) <= limit
    )
    if not in_triggerer:
        where = "the poke only"
    elif not polls:
        where = "the poke; the triggerer started the trigger after its deadline"
    else:
        where = f"the poke, then the trigger's from {polls[0] - reads[0]:.2f}s after it" + (
            f", {min(gaps):.2f}-{max(gaps):.2f}s apart (limit {limit:g}s)" if gaps else ""
        )
    cadence = f"{len(reads)} status reads ({where})"
    if expect == "ended":  # the sensor's own timeout: it hung the ringing call up
        # The trigger's deadline is answer_timeout after the sensor's try began to execute, so no earlier than:
        deadline = _started_at(api, STATUS_CHAIN, run_id, "wait_primary") + conf["answer_timeout"]
        kept_looking = not polls or polls[-1] >= deadline - limit  # none: the triggerer began after it
        ok = ok and in_triggerer and kept_looking and len(ended) == 1 and ended[0]["statusBefore"] == "ringing"
        seen = f", the last {polls[-1] - deadline:+.2f}s from the earliest its deadline can be" if polls else ""
        hung_up = f"{ended[0]['statusBefore']} before, {ended[0]['at'] - deadline:+.2f}s from it" if ended else "no end"
        seen_text = f"{cadence}{seen}; hung up by the sensor ({hung_up})"
        ceiling_text = ""
    else:
        after = [at for at in reads if at >= final_at]
        ceiling = conf["answer_timeout"] / 2
        ok = ok and not ended and f"its status is '{expect}'" in log and len(after) <= 1 and phoned <= ceiling
        if len(after) > 1:
            seen_text = f"{cadence}; '{expect}' read {len(after)} times: not acted on at the first read that saw it"
        else:
            when = f"{after[0] - final_at:.2f}s after it was reached" if after else "as it was reached"
            seen_text = f"{cadence}; '{expect}' acted on at the first read that saw it, {when}"
        ceiling_text = f" (ceiling {ceiling:g}s)"
    return ok, (
        f"primary {' -> '.join(statuses)}; {seen_text}; secondary phoned {phoned:.2f}s after the final status"
        f"{ceiling_text}; tasks {_states(tis)}"
    )


def check_sessions_chain_latency(
    api: Api, emulator: EmulatorClient, run_id: str, conf: dict[str, Any]
) -> tuple[bool, str]:
    """The sessions-based chain in the same deployment: it cannot see a final status, so it waits its timeout."""
    placed = {c["to"]: c["placedAt"] for c in emulator.calls()}
    if conf["primary"] not in placed or conf["secondary"] not in placed:
        return False, f"dialled {sorted(placed)}"
    waited = placed[conf["secondary"]] - placed[conf["primary"]]
    ok = waited >= conf["answer_timeout"]
    return ok, f"secondary phoned {waited:.2f}s after the primary's call (its answer_timeout {conf['answer_timeout']}s)"


def check_chain_answered(api: Api, emulator: EmulatorClient, run_id: str, conf: dict[str, Any]) -> tuple[bool, str]:
    state = api.run_state(CHAIN, run_id)
    tis = api.task_states(CHAIN, run_id)
    dialled = [c["to"] for c in emulator.calls() if c["to"] in (conf["primary"], conf["secondary"], conf["manager"])]
    answered = api.xcom(CHAIN, run_id, "wait_primary")
    primary_id = api.xcom(CHAIN, run_id, "call_primary")
    in_triggerer = deferred(api, run_id, "wait_primary")
    # The trigger must have seen the answer if the sensor's poke (its first sessions read) came before it;
    # a machine slow enough to start the sensor later than ANSWER_AFTER leaves the answer to that poke.
    call = next((c for c in emulator.calls() if c["to"] == conf["primary"]), {})
    reads = _arrivals(emulator, "/v2/sessions", float("inf"), roomId=str(call.get("meetingId")))
    poke_first = bool(reads) and reads[0] < (call.get("answerAt") or float("inf"))
    ok = (
        state.startswith("success")
        and (in_triggerer or not poke_first)
        and dialled == [conf["primary"]]
        and tis["wait_primary"][0] == "success"
        and answered.get("participantId") == primary_id
        and tis["call_secondary"][0] == tis["call_manager"][0] == "skipped"
    )
    return ok, f"run {state}, dialled {len(dialled)} ({'primary' if dialled == [conf['primary']] else dialled}), " + (
        f"the answer seen {'in the triggerer' if in_triggerer else 'at the first poke, not in the triggerer'}"
        + (f" (the poke came {reads[0] - call['answerAt']:.2f}s after the answer)" if reads and not poke_first else "")
        + ", "
        f"tasks {_states(tis)}"
    )


def check_chain_unanswered(api: Api, emulator: EmulatorClient, run_id: str, conf: dict[str, Any]) -> tuple[bool, str]:
    state = api.run_state(CHAIN, run_id)
    tis = api.task_states(CHAIN, run_id)
    chain = [conf["primary"], conf["secondary"], conf["manager"]]
    dialled = [c["to"] for c in emulator.calls() if c["to"] in chain]
    waited = [deferred(api, run_id, t) for t in ("wait_primary", "wait_secondary")]
    ok = (
        dialled == chain
        and all(waited)
        and tis["wait_primary"][0] == tis["wait_secondary"][0] == "failed"
        and tis["call_manager"][0] == "success"
    )
    return ok, (
        f"run {state}, dialled primary, secondary, manager {[dialled.count(n) for n in chain]} time(s), "
        f"both waits timed out in the triggerer: {all(waited)}, tasks {_states(tis)}"
    )


def check_retry(api: Api, emulator: EmulatorClient, run_id: str, conf: dict[str, str]) -> tuple[bool, str]:
    state = api.run_state(RETRY, run_id)
    task_state, tries = api.task_states(RETRY, run_id)["call"]
    history = api.call("GET", api.run_path(RETRY, run_id) + "/taskInstances/call/tries")["task_instances"]
    first = [t["state"] for t in history if t["try_number"] == 1]
    calls = [c for c in emulator.calls() if c["to"] == conf["to"]]
    xcom = api.xcom(RETRY, run_id, "call")
    kept = "already placed on an earlier try" in api.log(RETRY, run_id, "call", 2)
    ok = (
        state.startswith("success")
        and tries == 2
        and first not in ([], ["success"])
        and len(calls) == 1
        and xcom == calls[0]["participantId"]
        and kept
    )
    return ok, (
        f"run {state}, try 1 {first[0] if first else '?'}, try {tries} {task_state}; emulator placed {len(calls)} "
        f"call(s); try 2 returned {xcom!r}"
        + (f" = the call's participant {calls[0]['participantId']!r}" if calls else "")
    )


def check_notifier(api: Api, emulator: EmulatorClient, run_id: str, conf: dict[str, str]) -> tuple[bool, str]:
    state = api.run_state(NOTIFIER, run_id)
    wait_for("the failure callback's call", lambda: [c for c in emulator.calls() if c["to"] == conf["on_call"]], 30)
    time.sleep(3)  # a second call would come right after the first
    calls = [c for c in emulator.calls() if c["to"] == conf["on_call"]]
    name = f"{NOTIFIER} failed: load"
    ok = state.startswith("failed") and len(calls) == 1 and calls[0]["displayName"] == name
    return ok, f"run {state}, the failure callback placed {len(calls)} call(s)" + (
        f" named {calls[0]['displayName']!r}" if calls else ""
    )


def check_no_secrets(root: Path, needles: dict[str, str]) -> tuple[bool, str]:
    """Search every file under ``root`` (AIRFLOW_HOME, logs, DB files) for each secret and token."""
    found, files, size = find_in_files(root, needles)
    tokens = sum(name.startswith("token") for name in needles)
    ok = not found and tokens > 0
    detail = f"searched {files} files ({size / 1e6:.1f} MB) for {len(needles) - tokens} secrets and {tokens} tokens"
    return ok, detail + (f"; found {found[:5]}" if found else "") + ("" if tokens else "; the emulator saw no token")


def check_no_full_numbers(
    root: Path, db_files: list[Path], stored: dict[str, set[str]], numbers: list[str]
) -> tuple[bool, str]:
    """
    No callee's full number in any file of the deployment but the metadata DB, nor in the DB's tables
    the provider writes (XCom, rendered fields, trigger events, triggers). ``stored``: which tables
    hold each number (read before the DB stopped). The tables Airflow fills from the trigger request
    (the run's conf) are named, not failed.
    """
    needles = {number: number.lstrip("+") for number in numbers}  # with or without its '+'
    in_files = find_in_files(root, needles, skip=db_files)[0]
    provider = sorted({t for tables in stored.values() for t in tables if t in PROVIDER_TABLES})
    airflow_own = sorted({t for tables in stored.values() for t in tables} - set(PROVIDER_TABLES))
    ok = not in_files and not provider and "dag_run" in airflow_own  # dag_run.conf: the search saw the numbers
    detail = (
        f"searched the deployment's files and every DB table for {len(numbers)} callee numbers: none in logs, XCom, "
        f"rendered fields, trigger events or triggers; Airflow itself keeps them in {', '.join(airflow_own) or '-'}"
        " (the conf each run was triggered with)"
    )
    if in_files or provider:
        detail = f"full numbers found in files {in_files[:5]} and in provider tables {provider}"
    return ok, detail


def find_in_files(root: Path, needles: dict[str, str], skip: Sequence[Path] = ()) -> tuple[list[str], int, int]:
    """Where under ``root`` (but ``skip`` and below) each needle appears ('name in path'); files and bytes read."""
    found: list[str] = []
    files = size = 0
    encoded = {name: value.encode() for name, value in needles.items()}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or any(path == s or s in path.parents for s in skip):
            continue
        data = path.read_bytes()
        files += 1
        size += len(data)
        found += [f"{name} in {path.relative_to(root)}" for name, value in encoded.items() if value in data]
    return found, files, size


def check_connection_form(
    api_url: str, password: str, root: Path, procs: Processes, env: dict[str, str]
) -> tuple[bool, str]:
    """Admin -> Connections -> Add -> VideoSDK in headless Chromium; screenshot to docs/."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver, why = start_chromium(procs, env, root, "chromedriver")
    if driver is None:
        return False, why
    try:
        wait = WebDriverWait(driver, 30)

        def click(xpath: str, within: Any = None) -> None:
            wait.until(lambda d: (within or d).find_element(By.XPATH, xpath).is_displayed())
            (within or driver).find_element(By.XPATH, xpath).click()

        driver.get(api_url + "/")
        wait.until(ec.visibility_of_element_located((By.NAME, "username"))).send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        click("//button[normalize-space(.)='Admin']")
        click("//*[self::a or @role='menuitem'][normalize-space(.)='Connections']")
        click("//button[normalize-space(.)='Add Connection']")
        dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))
        dialog.find_element(By.CSS_SELECTOR, "input[role=combobox]").send_keys("VideoSDK")
        click("//*[@role='option'][normalize-space(.)='VideoSDK']")

        def labels() -> set[str]:
            return {el.text.strip() for el in dialog.find_elements(By.TAG_NAME, "label") if el.text.strip()}

        wait.until(lambda _: "API key" in labels())
        standard = labels()
        click(".//button[normalize-space(.)='Extra Fields']", dialog)
        wanted = set(expected_conn_fields().values())
        with contextlib.suppress(Exception):
            wait.until(lambda _: wanted <= labels())
        extra = labels()
        click(".//button[normalize-space(.)='Standard Fields']", dialog)
        wait.until(lambda _: "API key" in labels())
        dialog.find_element(By.NAME, "connection_id").send_keys("videosdk_default")
        shot = root / "connection-form.png"
        driver.save_screenshot(str(shot))
    finally:
        driver.quit()
        procs.stop("chromedriver")
    problems = []
    if missing := {"API key", "API secret", "API base URL"} - standard:
        problems.append(f"labels missing: {sorted(missing)}")
    if missing := wanted - extra:
        problems.append(f"extra fields missing: {sorted(missing)}")
    if shown := {"Port", "Schema", "Login", "Password", "Host"} & (standard | extra):
        problems.append(f"shown but should not be: {sorted(shown)}")
    if not problems:
        shutil.copyfile(shot, SCREENSHOT)
    return not problems, "; ".join(problems) or (
        f"labels API key, API secret, API base URL and {len(wanted)} extra fields shown, port and schema not; "
        f"screenshot {SCREENSHOT.relative_to(REPO)}"
    )


def sqlite_url(home: Path) -> str:
    """
    The SQLite metadata DB, whose writers wait up to 25 s for the lock: with the default 5 s, a
    loaded machine made the triggerer die of "database is locked". Longer would outlast the 30 s
    in which Airflow's and this script's HTTP clients expect an answer from the api-server.
    """
    return f"sqlite:///{home / 'airflow.db'}?timeout=25"


def use_wal(db: Path) -> None:
    """
    Put the SQLite DB in write-ahead-log mode (kept in the file), so that readers and the writer no
    longer block each other: under load, readers holding the lock stalled the api-server past 30 s.
    """
    with contextlib.closing(sqlite3.connect(db)) as con:
        con.execute("PRAGMA journal_mode=WAL")


def _states(tis: dict[str, tuple[str | None, int]]) -> str:
    return ", ".join(f"{task} {state}" for task, (state, _) in tis.items())


# -- the run ---------------------------------------------------------------------------------------


def run(root: Path, db: str, procs: Processes, report: Report, t0: float) -> None:
    home = root / "airflow"
    (home / "dags").mkdir(parents=True)
    for path in DAG_FILES:
        shutil.copy(path, home / "dags" / path.name)
    key = "e2e-api-key"
    secret, wrong, wrong_probe = (os.urandom(24).hex() for _ in range(3))
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    emulator_url, emulator = start_emulator(procs, key, secret)
    sql_conn = start_postgres(root, procs) if db == "postgres" else sqlite_url(home)
    env = airflow_env(home, api_url, sql_conn)
    migrate(env)
    if sql_conn.startswith("sqlite"):
        use_wal(home / "airflow.db")
    print(f"metadata DB migrated after {time.monotonic() - t0:.1f}s", flush=True)
    procs.start("api-server", [AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(api_port), "-w", "1"], env)
    for name in AIRFLOW_PROCESSES[1:]:
        procs.start(name, [AIRFLOW, name], env)
    wait_for("a healthy api-server, scheduler, dag-processor and triggerer", lambda: all_healthy(api_url), 120)
    api = Api(api_url, login(api_url, home))
    print(f"deployment up after {time.monotonic() - t0:.1f}s ({db}, Airflow files in {home})", flush=True)
    for conn_id, password in (("videosdk_default", secret), ("videosdk_wrong_secret", wrong)):
        body = {"connection_id": conn_id, "conn_type": "videosdk", "login": key, "password": password}
        api.call("POST", "/api/v2/connections", {**body, "host": emulator_url})

    browser: dict[str, tuple[bool, str]] = {}

    def browse() -> None:
        try:
            browser["result"] = check_connection_form(api_url, admin_password(home), root, procs, env)
        except Exception as exc:
            browser["result"] = (False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

    browser_thread = threading.Thread(target=browse, daemon=True)
    browser_thread.start()

    report.run("1 provider and connection type registered", lambda: check_registration(api))

    dag_ids = (TEMPLATED, RETRY, CHAIN, NOTIFIER, STATUS_CHAIN)
    for dag_id in dag_ids:
        wait_for(f"DAG {dag_id} to be parsed", functools.partial(api.call, "GET", f"/api/v2/dags/{dag_id}"), 90)
        api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    confs: dict[str, dict[str, Any]] = {
        "templated": {"to": "+14155550401", "meeting_id": "e2e-templated"},
        "answered": {"primary": "+14155550411", "secondary": "+14155550412", "manager": "+14155550413"},
        "unanswered": {
            "primary": "+14155550421",
            "secondary": "+14155550422",
            "manager": "+14155550423",
            "answer_timeout": 8,
        },
        "retry": {"to": "+14155550431", "meeting_id": "e2e-retry"},
        "notifier": {"on_call": "+14155550441"},
        # The call-status chain: the primary rejects, rings out, or rings past the sensor's timeout.
        "status_rejects": {
            "primary": "+14155550451",
            "secondary": "+14155550452",
            "answer_timeout": STATUS_TIMEOUT,
            "expect": "rejected",
        },
        "status_rings_out": {
            "primary": "+14155550461",
            "secondary": "+14155550462",
            "ringing_timeout": 10,
            "answer_timeout": STATUS_TIMEOUT,
            "expect": "not-answered",
        },
        "status_hang_up": {
            "primary": "+14155550471",
            "secondary": "+14155550472",
            "ringing_timeout": 90,
            "answer_timeout": HANG_UP_TIMEOUT,
            "expect": "ended",
        },
    }
    emulator.set_callee(confs["status_rejects"]["primary"], "reject", after=2)
    for name in ("status_rings_out", "status_hang_up"):
        emulator.set_callee(confs[name]["primary"], "never")
    for name in ("status_rejects", "status_rings_out", "status_hang_up"):
        emulator.set_callee(confs[name]["secondary"], "answer", after=1)
    # Late enough that the sensor's first poke (before it defers) cannot see it, even on a busy machine.
    emulator.set_answer(confs["answered"]["primary"], ANSWER_AFTER)
    dags = {"templated": TEMPLATED, "answered": CHAIN, "unanswered": CHAIN, "retry": RETRY, "notifier": NOTIFIER}
    dags.update(dict.fromkeys(("status_rejects", "status_rings_out", "status_hang_up"), STATUS_CHAIN))
    runs: dict[str, str] = {}
    for name, dag_id in dags.items():
        params = {k: v for k, v in confs[name].items() if k != "expect"}
        trigger: dict[str, Any] = {"logical_date": None, "conf": params}
        runs[name] = api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", trigger)["dag_run_id"]
    print(f"triggered {len(runs)} DAG runs after {time.monotonic() - t0:.1f}s", flush=True)

    report.run(
        "2 connection test (REST and CLI)",
        lambda: check_connection_test(api, env, emulator_url, key, secret, wrong_probe, [secret, wrong_probe, wrong]),
    )

    def finished() -> bool:
        states = [api.call("GET", api.run_path(dags[n], r))["state"] for n, r in runs.items()]
        return all(s in ("success", "failed") for s in states)

    with contextlib.suppress(TimeoutError):
        wait_for("the DAG runs", finished, RUN_TIMEOUT, 1.0)
    print(f"DAG runs done after {time.monotonic() - t0:.1f}s", flush=True)
    checks = (
        ("3 templated call, participant ID in XCom", check_templated, "templated"),
        ("4a escalation (deferrable): primary answers, only the primary dialled", check_chain_answered, "answered"),
        ("4b escalation (deferrable): nobody answers, each dialled once", check_chain_unanswered, "unanswered"),
        ("5 exactly once across a scheduler retry", check_retry, "retry"),
        ("6 failure notifier places exactly one call", check_notifier, "notifier"),
        ("9a call status: primary rejects after 2 s, secondary at once", check_status_escalation, "status_rejects"),
        ("9b call status: primary rings out (ringing_timeout=10)", check_status_escalation, "status_rings_out"),
        ("9c call status: sensor times out, hangs the ringing call up", check_status_escalation, "status_hang_up"),
        ("9d sessions chain, same run: waits its full timeout", check_sessions_chain_latency, "unanswered"),
    )
    for title, check, name in checks:
        report.run(title, functools.partial(check, api, emulator, runs[name], confs[name]))

    browser_thread.join(timeout=120)
    report.record("8 connection form in headless Chromium", *browser.get("result", (False, "did not finish")))

    tokens = emulator.tokens()
    numbers = sorted({v for conf in confs.values() for v in conf.values() if isinstance(v, str) and v[:1] == "+"})
    db_url = sql_conn
    stored = tables_holding(db_url, {n: n.lstrip("+") for n in numbers})  # before the DB stops
    procs.stop()  # everything, so that every log and DB file is complete
    needles = {"API secret": secret, "wrong secret": wrong, "probe secret": wrong_probe}
    needles.update({f"token {i + 1}": token for i, token in enumerate(tokens)})
    report.run("7 no secret or token in any file of the deployment", lambda: check_no_secrets(root, needles))
    db_files = sorted(home.glob("airflow.db*")) if sql_conn.startswith("sqlite") else [root / "pgdata"]
    report.run(
        "7b no callee's full number in logs, XCom, rendered fields or trigger events",
        lambda: check_no_full_numbers(root, db_files, stored, numbers),
    )


def main() -> int:
    db = os.environ.get("E2E_DB", "sqlite")
    if db not in ("sqlite", "postgres"):
        print(f"E2E_DB must be sqlite or postgres, got {db!r}")
        return 2
    code = run_suite("e2e", lambda root, procs, report, t0: run(root, db, procs, report, t0), f"metadata DB: {db}")
    import incidents  # the incident checks, in a deployment of their own (e2e/incidents.py)

    return max(code, incidents.main())


if __name__ == "__main__":
    sys.exit(main())
