"""
Hanging a call up without ever hanging up an answered one: on a sensor's timeout, and when a task is killed.

The rule: read the call first; leave it alone if it was answered or is over; else end it
(``POST /v2/sip/call/end``) and read what the end met (:func:`~.call_watch.judge_hang_up`): a call
picked up as it was hung up counts as answered. Every request has a budget; nothing here raises.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.exceptions import VideoSDKError

if TYPE_CHECKING:
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

#: Seconds each request of a hang-up may take when a killed task hangs its call up, and the most
#: ``on_kill`` waits for the whole hang-up: Airflow 3 sends SIGKILL 5 s after the SIGTERM that runs it.
KILL_HANG_UP_BUDGET = 1.5
KILL_HANG_UP_WAIT = 4.0


def hang_up_unless_answered(
    hook: VideoSDKHook,
    call_id: str,
    *,
    created_after: float | None,
    budget: float,
    log: Any,  # the task's logger: stdlib on Airflow 2, structlog's on 3
    why: str = "it was not answered in time",
    moment: str = "just as the wait ran out",
) -> tuple[dict[str, Any] | None, str]:
    """
    Read call ``call_id``, end it unless it is answered or over, and read what the end met.

    ``why`` (the call was hung up because ...) and ``moment`` (it was answered ...) go into the log.
    Returns the call if it was answered (before, or as it was hung up), and what to add to a
    timeout message. A failed read or hang-up is logged, not raised; each request takes at most ``budget``.
    """
    from airflow_provider_videosdk.call_watch import judge, judge_hang_up

    try:
        before: dict[str, Any] | None = hook.get_call(call_id, budget=budget)
    except VideoSDKError as exc:
        log.warning("Could not read call %s before hanging it up: %s", call_id, exc)
        before = None
    if before is not None:
        look = judge(before, call_id, created_after=created_after, skew=hook.config.clock_skew)
        if look.outcome == "answered":
            log.warning("%s, %s: not hanging it up", look.message, moment)
            return before, ""
        if look.final:
            return None, f"; it is over (status '{look.status}'), so it was not hung up"
    try:
        ended: dict[str, Any] | None = hook.end_call(call_id, budget=budget)
    except VideoSDKError as exc:
        log.warning("Could not hang up call %s: %s", call_id, exc)
        try:
            ended = hook.get_call(call_id, budget=budget)
        except VideoSDKError:
            ended = None
        if judge_hang_up(ended, call_id).outcome != "answered":
            return None, "; hanging it up failed"
    met = judge_hang_up(ended, call_id)
    if met.outcome == "answered":
        log.warning("%s: it counts as answered", met.message)
        return ended, ""
    log.warning("Hung up call %s: %s (its status is now '%s')", call_id, why, met.status)
    return None, "; it was hung up"


def hang_up_on_kill(conn_id: str, call_id: str, *, created_after: float | None, log: Any) -> None:
    """
    What ``on_kill`` does with a call that may still ring: hang it up by the rule above, through a
    hook of its own (the killed ``execute`` may be inside a request on its hook), within
    :data:`KILL_HANG_UP_BUDGET` per request. It never raises, and stops waiting after :data:`KILL_HANG_UP_WAIT`.
    """

    def work() -> None:
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        hook = VideoSDKHook(conn_id)
        try:
            hang_up_unless_answered(
                hook,
                call_id,
                created_after=created_after,
                budget=KILL_HANG_UP_BUDGET,
                log=log,
                why="the task was killed",
                moment="before the task was killed",
            )
        except Exception as exc:  # on_kill must not raise: whatever went wrong is logged
            log.warning("Could not hang up call %s as the task was killed: %s", call_id, exc)
        finally:
            hook.close()

    log.info("The task was killed: hanging up call %s unless it was answered", call_id)
    worker = threading.Thread(target=work, name=f"videosdk-hang-up-{call_id}", daemon=True)
    worker.start()
    worker.join(KILL_HANG_UP_WAIT)
    if worker.is_alive():
        log.warning("Hanging up call %s did not finish in time; it may still ring", call_id)
