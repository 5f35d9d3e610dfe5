"""
Helpers shared by the end-to-end tests (``e2e/run.py``, ``e2e/celery.py``): processes this run started
and only those, the deployment's REST API, a throwaway PostgreSQL and Redis, the emulator, and a
timestamping proxy in front of it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import psutil
import requests

from airflow_provider_videosdk.testing import EmulatorClient
from airflow_provider_videosdk.testing.emulator.control import TOKEN_ENV

if TYPE_CHECKING:
    from collections.abc import Callable

REPO = Path(__file__).resolve().parent.parent
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
TERMINAL = ("success", "failed", "skipped", "upstream_failed", "removed")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Call ``probe`` until it returns something truthy; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if result := probe():
                return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


@dataclass
class _Started:
    proc: subprocess.Popen[bytes]
    stop_signal: int
    argv: list[str]
    env: dict[str, str]
    user: str | None


class Processes:
    """The processes this run started, each in a process group of its own; stops exactly those."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._started: dict[str, _Started] = {}
        self._history: dict[str, _Started] = {}  # how each was last started, for restart()
        self._lock = threading.Lock()

    def start(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        *,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> subprocess.Popen[bytes]:
        """Start ``argv`` in a new session, its output appended to ``<log_dir>/<name>.log``."""
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, user=user, cwd=self.log_dir,
            )  # fmt: skip
        with self._lock:
            self._started[name] = self._history[name] = _Started(proc, stop_signal, argv, env, user)
        return proc

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        """Start ``name`` again as it was first started (it must have been stopped or killed)."""
        with self._lock:
            started = self._history[name]
        return self.start(name, started.argv, started.env, user=started.user, stop_signal=started.stop_signal)

    def pid(self, name: str) -> int:
        """The process ID of ``name``, which must be running."""
        with self._lock:
            return self._started[name].proc.pid

    def running(self, name: str) -> bool:
        """Whether ``name`` was started and has not exited."""
        with self._lock:
            started = self._started.get(name)
        return started is not None and started.proc.poll() is None

    def tree(self, name: str) -> list[psutil.Process]:
        """``name``'s process and every process under it, also those in process groups of their own."""
        with self._lock:
            started = self._started.get(name)
        if started is None:
            return []
        try:
            root = psutil.Process(started.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    def kill(self, name: str) -> list[int]:
        """
        SIGKILL ``name`` and every process under it at once, as a machine that dies would; return the PIDs.
        A task process runs in a process group of its own, so killing the group alone would leave it.
        """
        with self._lock:
            started = self._started.pop(name, None)
        if started is None:
            return []
        victims = {p.pid: p for p in _group_members(started.proc.pid)}
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(started.proc.pid)
            victims.update({p.pid: p for p in [root, *root.children(recursive=True)]})
        for victim in victims.values():
            with contextlib.suppress(psutil.Error):
                victim.kill()
        psutil.wait_procs(list(victims.values()), timeout=10)
        with contextlib.suppress(subprocess.TimeoutExpired):
            started.proc.wait(timeout=5)
        return sorted(victims)

    def stop(self, *names: str, grace: float = 10.0) -> None:
        """
        Signal the named process groups (all when none is named), and what their processes spawned
        into groups of their own (task processes do); kill whatever is left after ``grace`` seconds.
        """
        with self._lock:
            chosen = {n: self._started[n] for n in (names or list(self._started)) if n in self._started}
        victims: dict[int, psutil.Process] = {}
        for started in chosen.values():
            proc, sig = started.proc, started.stop_signal
            group = {p.pid: p for p in _group_members(proc.pid)}
            spawned: list[psutil.Process] = []
            with contextlib.suppress(psutil.Error):
                spawned = psutil.Process(proc.pid).children(recursive=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            for child in spawned:
                if child.pid not in group:
                    with contextlib.suppress(psutil.Error):
                        child.send_signal(sig)
            victims.update(group)
            victims.update({p.pid: p for p in spawned})
        _, alive = psutil.wait_procs(list(victims.values()), timeout=grace)
        for leftover in alive:
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        psutil.wait_procs(alive, timeout=5)
        with self._lock:
            for name, started in chosen.items():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    started.proc.wait(timeout=1)
                self._started.pop(name, None)


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(proc.pid) == pgid:
                members.append(proc)
    return members


class Report:
    """PASS/FAIL lines, printed as the checks finish."""

    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []

    def record(self, name: str, ok: bool, detail: str) -> None:
        self.results.append((name, ok))
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)

    def run(self, name: str, check: Callable[[], tuple[bool, str]]) -> None:
        try:
            ok, detail = check()
        except Exception as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        self.record(name, ok, detail)

    @property
    def failed(self) -> int:
        return sum(not ok for _, ok in self.results)


def parse_time(value: str | None) -> float | None:
    """Unix seconds of an ISO-8601 time as the REST API writes it, or None."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Api:
    """The deployment's REST API, as the admin user."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        resp = self.session.request(method, self.url + path, json=body, params=params or None, timeout=30)
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path} answered {resp.status_code}: {resp.text[:300]}")
        return resp.json() if resp.content else None

    def run_path(self, dag_id: str, run_id: str) -> str:
        return f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}"

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        """Start a run of ``dag_id`` now with ``conf``; return its run ID."""
        body = {"logical_date": None, "conf": conf}
        return str(self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        """The run's state and how long it took, e.g. ``success in 21s``."""
        run = self.call("GET", self.run_path(dag_id, run_id))
        if not (run["start_date"] and run["end_date"]):
            return str(run["state"])
        start, end = (datetime.fromisoformat(run[k].replace("Z", "+00:00")) for k in ("start_date", "end_date"))
        return f"{run['state']} in {(end - start).total_seconds():.0f}s"

    def task_states(self, dag_id: str, run_id: str) -> dict[str, tuple[str | None, int]]:
        tis = self.call("GET", self.run_path(dag_id, run_id) + "/taskInstances")["task_instances"]
        return {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in tis}

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """The task instance as the REST API shows it (state, try_number, pid, hostname, trigger, ...)."""
        return dict(self.call("GET", self.run_path(dag_id, run_id) + f"/taskInstances/{task_id}"))

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """Every try of the task instance so far (the current one included), oldest first."""
        path = self.run_path(dag_id, run_id) + f"/taskInstances/{task_id}/tries"
        return sorted(self.call("GET", path)["task_instances"], key=lambda t: t["try_number"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        return self.call("GET", self.run_path(dag_id, run_id) + f"/taskInstances/{task_id}/xcomEntries/{key}")["value"]

    def log_entries(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[Any]:
        """The try's log as the REST API serves it: one structured entry (a dict) per line."""
        path = self.run_path(dag_id, run_id) + f"/taskInstances/{task_id}/logs/{try_number}"
        return list(self.call("GET", path)["content"])

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        content = self.log_entries(dag_id, run_id, task_id, try_number)
        return "\n".join(str(e.get("event", "")) if isinstance(e, dict) else str(e) for e in content)

    def raised(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> list[str]:
        """The exception types the try's log records it failed with."""
        entries = self.log_entries(dag_id, run_id, task_id, try_number)
        details = [e.get("error_detail") for e in entries if isinstance(e, dict) and e.get("error_detail")]
        return [str(d.get("exc_type")) for detail in details for d in detail if isinstance(d, dict)]


# -- the deployment --------------------------------------------------------------------------------


class Postgres:
    """A throwaway PostgreSQL from Debian's packages on a free port, which can be stopped and started again."""

    def __init__(self, root: Path, procs: Processes) -> None:
        # Debian installs it under /usr/lib/postgresql/<major>/bin (initdb may also be linked into /usr/local/bin).
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
        if not bins and (initdb := shutil.which("initdb")):
            bins = [Path(initdb).resolve().with_name("postgres")]
        if not bins or not bins[-1].exists():
            raise RuntimeError("PostgreSQL is not installed: run e2e/setup.sh with E2E_DB=postgres")
        self.bin = bins[-1].parent
        self.procs = procs
        self.user = "postgres" if os.geteuid() == 0 else None  # postgres refuses to run as root
        self.data = root / "pgdata"
        self.data.mkdir(mode=0o700)
        if self.user:
            root.chmod(0o711)
            shutil.chown(self.data, self.user, self.user)
        subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--no-sync"],
            user=self.user, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.port = free_port()
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server (again) and wait until it accepts connections."""
        speed = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        argv = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
                "-k", str(self.data), "-c", "max_connections=300", *speed]  # fmt: skip
        self.procs.start("postgres", argv, dict(os.environ), user=self.user, stop_signal=signal.SIGINT)
        wait_for("PostgreSQL", self.ready, 60, 0.2)

    def ready(self) -> bool:
        """Whether it accepts connections now."""
        probe = [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(probe, check=False, timeout=10).returncode == 0

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open connections are cut, as when the database becomes unavailable."""
        self.procs.stop("postgres", grace=30)


def start_postgres(root: Path, procs: Processes) -> str:
    """Start a throwaway PostgreSQL from Debian's packages on a free port; return its SQLAlchemy URL."""
    postgres = Postgres(root, procs)
    postgres.start()
    return postgres.url


class Redis:
    """Debian's ``redis-server`` on a free port, with an append-only file so that a restart keeps the queue."""

    def __init__(self, root: Path, procs: Processes) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run e2e/setup.sh with E2E_CELERY=1")
        self.procs = procs
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        data = root / "redis"
        data.mkdir()
        persist = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
        self.argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(data), *persist]

    def start(self) -> None:
        """Start the server (again) and wait until it answers PING."""
        self.procs.start("redis", self.argv, dict(os.environ))
        wait_for("Redis", self.ready, 30, 0.1)

    def ready(self) -> bool:
        """Whether it answers PING now."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        """Shut it down (SIGTERM: it writes its append-only file first, as a restart would)."""
        self.procs.stop("redis", grace=20)


#: Tables the provider writes to through Airflow: XCom, rendered fields, task instances (a deferred
#: task's trigger event is its next_kwargs) and triggers (their kwargs).
PROVIDER_TABLES = ("xcom", "rendered_task_instance_fields", "task_instance", "trigger")


def tables_holding(db_url: str, needles: dict[str, str]) -> dict[str, set[str]]:
    """Which tables of the metadata DB at ``db_url`` hold each needle somewhere in a row (name -> tables)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(db_url)
    found: dict[str, set[str]] = {}
    try:
        with engine.connect() as con:
            for table in sqlalchemy.inspect(con).get_table_names():
                rows = con.execute(sqlalchemy.text(f'SELECT * FROM "{table}"')).fetchall()
                text = "\n".join(repr(tuple(row)) for row in rows)
                for name, value in needles.items():
                    if value in text:
                        found.setdefault(name, set()).add(table)
    finally:
        engine.dispose()
    return found


def start_emulator(procs: Processes, key: str, secret: str) -> tuple[str, EmulatorClient]:
    """Start the VideoSDK emulator as a process of its own; return its URL and a client that steers it."""
    port = free_port()
    module = "airflow_provider_videosdk.testing.emulator"
    argv = [sys.executable, "-m", module, "--port", str(port), "--api-key", key, "--api-secret", secret]
    token = secrets.token_urlsafe(24)  # the emulator's control token, handed over in its environment
    procs.start("emulator", argv, {**os.environ, TOKEN_ENV: token})
    url = f"http://127.0.0.1:{port}"
    client = EmulatorClient(url, token=token)
    wait_for("the emulator", lambda: client.calls() == [], 30, 0.2)
    return url, client


def airflow_env(
    home: Path, api_url: str, sql_conn: str | None, executor: str = "LocalExecutor", **config: str
) -> dict[str, str]:
    """The environment of every Airflow process; ``config`` adds ``AIRFLOW__SECTION__KEY`` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR=executor,
        AIRFLOW__CORE__PARALLELISM="8",  # LocalExecutor starts this many workers; the runs need 5 at most
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{api_url}/execution/",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
    )
    if sql_conn:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = sql_conn
    env.update(config)
    return env


def migrate(env: dict[str, str]) -> None:
    """``airflow db migrate``; raise with its output if it fails."""
    result = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")


def login(api_url: str, home: Path) -> str:
    """The admin's JWT: Airflow 3's simple auth manager writes a generated password to AIRFLOW_HOME."""
    password = admin_password(home)
    resp = requests.post(f"{api_url}/auth/token", json={"username": "admin", "password": password}, timeout=30)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def admin_password(home: Path) -> str:
    path = home / "simple_auth_manager_passwords.json.generated"
    return str(wait_for("the generated admin password", lambda: json.loads(path.read_text())["admin"], 30))


def all_healthy(api_url: str) -> bool:
    health = requests.get(f"{api_url}/api/v2/monitor/health", timeout=5).json()
    return all(part.get("status") == "healthy" for part in health.values())


def terminate_on_signals(handler: Callable[[int, Any], None]) -> None:
    """Route Ctrl-C, a closed terminal and a kill to ``handler`` (also when started with SIGINT ignored)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


def ignore_signals() -> None:
    """Ignore them from now on: a second Ctrl-C must not cut the clean-up short."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_suite(name: str, body: Callable[[Path, Processes, Report, float], None], setting: str) -> int:
    """
    Run an e2e suite in a fresh temporary root: ``body(root, procs, report, t0)`` starts what it needs
    through ``procs``; whatever happens (a failure, Ctrl-C, a kill), exactly those processes are stopped.
    Prints the tally and the wall time (with ``setting``); keeps the root when a check failed.
    Returns the exit code.
    """
    t0 = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix=f"videosdk-{name}-"))
    (root / "process-logs").mkdir()
    procs, report = Processes(root / "process-logs"), Report()
    terminate_on_signals(_interrupt)
    try:
        body(root, procs, report, t0)
    except KeyboardInterrupt:
        report.record("run", False, "interrupted")
    except Exception as exc:
        report.record("deployment", False, f"{type(exc).__name__}: {exc}")
    finally:
        ignore_signals()
        procs.stop()
    passed = len(report.results) - report.failed
    print(f"{name}: {passed} passed, {report.failed} failed")
    print(f"wall time {time.monotonic() - t0:.1f}s ({setting})")
    if report.failed:
        print(f"the deployment's files (Airflow home, process logs) are kept in {root}")
        return 1
    shutil.rmtree(root, ignore_errors=True)
    return 0


# -- a proxy that notes when each request arrived --------------------------------------------------


@dataclass
class Arrival:
    """A request as it reached the emulator through :class:`TimingProxy`."""

    at: float  # Unix seconds when it arrived
    method: str
    path: str
    query: dict[str, list[str]]


class TimingProxy:
    """
    A reverse proxy on 127.0.0.1 in front of the emulator that records when each request arrived
    (the emulator records requests in order, not their times). Point the connection's host at ``url``.
    """

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                at = time.time()
                url = urlsplit(self.path)
                with proxy._lock:
                    proxy.arrivals.append(Arrival(at, self.command, url.path, parse_qs(url.query)))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream = http.client.HTTPConnection(*proxy.target, timeout=120)
                try:
                    upstream.request(self.command, self.path, body, headers)
                    answer = upstream.getresponse()
                    payload = answer.read()
                except (OSError, http.client.HTTPException):
                    self.close_connection = True  # the emulator dropped it: so do we
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                finally:
                    upstream.close()
                with contextlib.suppress(OSError):
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def to(self, path: str, method: str | None = None) -> list[Arrival]:
        """The requests to exactly ``path`` (and ``method``), in the order they arrived."""
        with self._lock:
            return [a for a in self.arrivals if a.path == path and (method is None or a.method == method)]

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


#: How the e2e runs Debian's Chromium: headless, quiet, one fixed window size for the screenshots.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]


def start_chromium(procs: Processes, env: dict[str, str], root: Path, name: str) -> tuple[Any, str]:
    """
    A Selenium driver for headless Chromium through a chromedriver process ``name`` of ``procs``, or
    None and why not. The caller quits the driver and stops ``name``.
    """
    from selenium import webdriver

    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        return None, "chromium or chromedriver is missing: run e2e/setup.sh"
    port = free_port()
    procs.start(name, [chromedriver, f"--port={port}"], env)
    driver_url = f"http://127.0.0.1:{port}"
    wait_for("chromedriver", lambda: requests.get(driver_url + "/status", timeout=2).ok, 30, 0.2)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={tempfile.mkdtemp(dir=root, prefix='chromium-')}"]:
        options.add_argument(flag)
    return webdriver.Remote(command_executor=driver_url, options=options), ""
