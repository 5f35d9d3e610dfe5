"""
Opening an incident when the POST that created the escalation run lost its answer: the resend gets
409, and the run's conf (the opener's token) tells this failure opened it, so it phones the first
level, rather than logging "joined" while nobody phones at once (seen in a loaded storm).

Real HTTP on 127.0.0.1 against a small stand-in for Airflow's dagRuns endpoint that can hold its
answer past the client's deadline or fail it with a 5xx; the real API server's 201/409 under a storm
is the e2e's storm check (e2e/incidents.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_videosdk.incidents.api import OPENER_KEY, AirflowApi, ApiSettings

DAG_ID, RUN_ID = "db_incident", "incident__db-down__20261203T000000Z"
RUNS = f"/api/v2/dags/{DAG_ID}/dagRuns"


class StandIn(ThreadingHTTPServer):
    """Airflow's ``POST/GET .../dagRuns`` and ``POST /auth/token``; ``first_post`` scripts the first POST."""

    daemon_threads = True

    def __init__(self, first_post: str) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.first_post = first_post  # "slow" (created, answered late), "503" (not created), "plain"
        self.runs: dict[str, dict[str, Any]] = {}
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/auth/token":
            return self._answer(201, {"access_token": "stand-in-token"})
        with self.server.lock:
            self.server.seen.append(("POST", self.path))
            first = sum(1 for m, p in self.server.seen if m == "POST") == 1
            mode = self.server.first_post if first else "plain"
            if mode == "503":
                return self._answer(503, {"detail": "busy"})
            if body["dag_run_id"] in self.server.runs:
                return self._answer(409, {"detail": "DAG run exists"})
            self.server.runs[body["dag_run_id"]] = {"dag_run_id": body["dag_run_id"], "conf": body["conf"]}
        if mode == "slow":
            time.sleep(1.5)  # past the client's 0.5 s deadline: created, but the answer is lost
        return self._answer(200, self.server.runs[body["dag_run_id"]])

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.seen.append(("GET", self.path))
            run = self.server.runs.get(self.path.rsplit("/", 1)[-1])
        self._answer(200, run) if run else self._answer(404, {"detail": "not found"})


def create(server: StandIn) -> bool:
    settings = ApiSettings(server.url, "u", "p", timeout=0.5, v2=True)

    async def go() -> bool:
        async with AirflowApi(settings) as api:
            return await api.create_run(DAG_ID, RUN_ID, {"incident_key": "db-down"})

    return asyncio.run(go())


@pytest.fixture
def serve():
    servers: list[StandIn] = []

    def start(first_post: str, existing: dict[str, Any] | None = None) -> StandIn:
        server = StandIn(first_post)
        if existing is not None:
            server.runs[RUN_ID] = existing
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_lost_answer_then_409_is_this_failures_own_run(serve) -> None:
    server = serve("slow")

    assert create(server) is True  # it opened the incident: it phones the first level
    assert server.seen == [("POST", RUNS), ("POST", RUNS), ("GET", f"{RUNS}/{RUN_ID}")]
    assert list(server.runs) == [RUN_ID]


def test_a_5xx_then_409_for_a_run_another_failure_created_is_joined(serve) -> None:
    server = serve("503", existing={"dag_run_id": RUN_ID, "conf": {OPENER_KEY: "another-failure"}})

    assert create(server) is False
    assert server.seen == [("POST", RUNS), ("POST", RUNS), ("GET", f"{RUNS}/{RUN_ID}")]


def test_a_409_at_the_first_try_is_joined_without_reading_the_run(serve) -> None:
    server = serve("plain", existing={"dag_run_id": RUN_ID, "conf": {OPENER_KEY: "another-failure"}})

    assert create(server) is False
    assert server.seen == [("POST", RUNS)]
