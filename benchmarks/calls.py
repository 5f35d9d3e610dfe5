"""
Per-call and fan-out measurements, run by ``run.py`` in a process of their own.

``python benchmarks/calls.py per-call|fan-out CALLS ROUNDS`` reads the ``videosdk_default``
connection (and ``videosdk_bench_http`` for HttpHook) from the environment and prints one
``RESULT <json>`` line: per contender, the seconds each measured round's CALLS calls took.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any
from urllib.request import urlopen

import jwt
import requests

from airflow_provider_videosdk.hooks.videosdk import TOKEN_PERMISSIONS, VideoSDKHook
from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator

PATH = "/v2/sip/outbound-call"
CALL: dict[str, Any] = {"display_name": "On-call engineer", "meeting_id": "bench-meeting", "trunk_id": "trunk_demo"}
TO = "+14155550100"
BODY = {"to": TO, "displayName": CALL["display_name"], "meetingId": CALL["meeting_id"], "trunkId": CALL["trunk_id"]}
Batch = Callable[[int], None]


def _connection() -> dict[str, Any]:
    return json.loads(os.environ["AIRFLOW_CONN_VIDEOSDK_DEFAULT"])


def _pre_minted_token(conn: dict[str, Any]) -> str:
    """A token minted once up front, the way a caller with a long-lived token would send it."""
    now = int(time.time())
    claims = {"apikey": conn["login"], "permissions": TOKEN_PERMISSIONS, "version": 2, "roles": ["crawler"]}
    return jwt.encode({**claims, "iat": now, "exp": now + 3600}, conn["password"], algorithm="HS256")


def raw_session(n: int) -> None:
    """The floor: a bare ``requests.Session``, a pre-minted token, one kept-alive connection."""
    conn = _connection()
    url, headers = conn["host"] + PATH, {"Authorization": _pre_minted_token(conn)}
    with requests.Session() as session:
        for _ in range(n):
            session.post(url, json=BODY, headers=headers, timeout=30).json()["participantId"]


def videosdk_hook(n: int) -> None:
    """One hook, as one task placing ``n`` calls would use it."""
    hook = VideoSDKHook()
    for _ in range(n):
        hook.outbound_call(to=TO, **CALL)
    hook.close()


def http_hook(n: int) -> None:
    """The official HTTP provider's hook sending the same body with the same pre-minted token."""
    from airflow.providers.http.hooks.http import HttpHook

    headers = {"Authorization": _pre_minted_token(_connection())}
    hook = HttpHook(method="POST", http_conn_id="videosdk_bench_http")
    for _ in range(n):
        hook.run(PATH, json=BODY, headers=headers).json()["participantId"]


class _TaskInstance:
    """What ``execute`` uses of a task instance."""

    try_number, max_tries = 1, 0

    def xcom_push(self, key: str, value: Any) -> None:
        pass


def mapped_tasks(n: int) -> None:
    """The body of ``n`` mapped task instances: a fresh operator (hence hook, token, connection) per number."""
    context: Any = {"ti": _TaskInstance()}
    for i in range(n):
        SipOutboundCallOperator(task_id=f"call_{i}", to=f"+1415555{i:04d}", **CALL).execute(context)


def _connections(url: str | None) -> int | None:
    """TCP connections the benchmark server (``server.py``) has accepted so far."""
    if url is None:
        return None
    try:
        with urlopen(url + "/_stats", timeout=5) as answer:
            return int(json.loads(answer.read())["connections"]) - 1  # not counting this request's own
    except (OSError, ValueError, KeyError):
        return None


def measure(contenders: dict[str, Batch], calls: int, rounds: int, count_connections: bool) -> dict[str, Any]:
    """Time every contender on ``calls`` calls per round, rotating their order; round 0 only warms up."""
    url = _connection()["host"] if count_connections else None
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    connections: dict[str, int | None] = {}
    names = list(contenders)
    for r in range(rounds + 1):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            before = _connections(url)
            start = time.perf_counter()
            contenders[name](calls)
            elapsed = time.perf_counter() - start
            after = _connections(url)
            if r:
                seconds[name].append(elapsed)
                connections[name] = None if before is None or after is None else after - before - 1
    return {"seconds": seconds, "connections": connections}


def main() -> None:
    figure, calls, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    skipped = []
    if figure == "per-call":
        # "raw" twice: the second shows how much the measurement itself wobbles.
        contenders: dict[str, Batch] = {"raw": raw_session, "raw_again": raw_session, "hook": videosdk_hook}
        if find_spec("airflow.providers.http"):
            contenders["http_hook"] = http_hook
        else:
            skipped.append("HttpHook: apache-airflow-providers-http is not installed")
    else:
        contenders = {"raw": raw_session, "hook": videosdk_hook, "tasks": mapped_tasks}
    result = measure(contenders, calls, rounds, count_connections=figure == "per-call")
    print("RESULT", json.dumps({**result, "skipped": skipped}))


if __name__ == "__main__":
    main()
