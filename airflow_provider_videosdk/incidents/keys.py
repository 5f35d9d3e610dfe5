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


#: The run's conf key that says the notifier which opened the incident phones its first level itself
#: (the value: when it began, Unix time); the run's first-level calls then adopt those calls.
FIRST_LEVEL_KEY = "first_level_phoned_from"
#: Seconds after opening within which the notifier may begin its first-level POSTs, and the
#: wall-clock budget of each (retries included); a run's first-level task waits for them that long.
#: 60 s covers Airflow's API using its whole deadline to create the run (3 tries of 10 s) and to read
#: back a run whose answer was lost: a loaded storm's API took 15 s, and a notifier that gave up
#: phoning then left the first ring to the run, which waits out this window before it dials.
FIRST_CALL_SEND_BY = 60.0
FIRST_CALL_BUDGET = 15.0


def first_call_ids(run_id: str, callee_index: int) -> tuple[str, str]:
    """
    The participant id and attempt token of the first level's call to callee ``callee_index`` (0-based)
    in run ``run_id``: derived from the run id alone, so that the notifier which places the call and
    the run's task that adopts it agree without passing anything but the run id.
    """
    digest = hashlib.sha256(f"{run_id}|first-level|{callee_index}".encode()).hexdigest()
    return f"incident-{digest[:16]}", digest[16:48]


def first_call_wait(opened_at: float, request_timeout: float, clock_skew: float) -> float:
    """Until when (Unix time) a run's first-level task looks for the notifier's call before dialling itself."""
    return opened_at + FIRST_CALL_SEND_BY + FIRST_CALL_BUDGET + request_timeout + clock_skew
