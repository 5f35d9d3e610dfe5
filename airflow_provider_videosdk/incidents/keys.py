"""
An incident's key and the run id that locks it: pure functions, shared by the notifier and the tests.

Every failure of one incident renders the same key; the escalation DAG's run id is made from the key
and a time bucket, so the first failure to create that run opens the incident and every other one
gets Airflow's 409 for a duplicate run id: it has joined the open incident.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

#: What Airflow accepts in a run id (``run_id_pattern``'s default).
RUN_ID_RE = re.compile(r"^[A-Za-z0-9_.~:+-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.~:+-]+")
MAX_KEY_CHARS = 120  # of the key, in the run id; Airflow's run id column holds 250
RUN_ID_PREFIX = "incident__"
DEFAULT_BUCKET_SECONDS = 3600


def safe_key(key: str) -> str:
    """
    ``key`` in the characters a run id may hold: runs of others become ``_``. When that (or the length
    limit) changed the key, 8 hex digits of its hash are added, so that two keys never share a run id.
    """
    safe = _UNSAFE.sub("_", key).strip("_") or "incident"
    if safe != key or len(safe) > MAX_KEY_CHARS:
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        safe = f"{safe[:MAX_KEY_CHARS]}_{digest}"
    return safe


def bucket_start(now: float, bucket_seconds: int) -> datetime:
    """The start (UTC) of the time bucket ``now`` falls in."""
    return datetime.fromtimestamp(now - now % bucket_seconds, tz=timezone.utc)


def incident_run_id(key: str, now: float, bucket_seconds: int = DEFAULT_BUCKET_SECONDS) -> str:
    """The escalation run id of incident ``key`` at ``now``: ``incident__<key>__<bucket start, UTC>``."""
    run_id = f"{RUN_ID_PREFIX}{safe_key(key)}__{bucket_start(now, bucket_seconds):%Y%m%dT%H%M%SZ}"
    if not RUN_ID_RE.fullmatch(run_id):  # safe_key only keeps allowed characters: this cannot happen
        raise AssertionError(f"run id {run_id!r} does not match {RUN_ID_RE.pattern}")
    return run_id
