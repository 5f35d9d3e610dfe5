"""Triggers that wait in the triggerer: for a called participant to join the meeting, for a call's final status."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.version_compat import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

# Never poll VideoSDK more often than this, whatever the sensor's poke_interval.
MIN_POLL_INTERVAL = 1.0
# When the deadline comes before the next poll, look one last time this long before it.
FINAL_LOOK_LEAD = 0.5


class _PollingTrigger(BaseTrigger):
    """A trigger that looks something up every ``poll_interval`` seconds until the absolute ``end_time``."""

    end_time: float
    poll_interval: float

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until done or the deadline; yields exactly one event."""
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        raise NotImplementedError

    def _next_wait(self, remaining: float, elapsed: float = 0.0) -> float:
        """
        Seconds until the next look-up, which started ``elapsed`` seconds ago: polls keep their cadence
        (one per interval, however long each took), and one last look comes just before the deadline.
        """
        wait = max(max(self.poll_interval, MIN_POLL_INTERVAL) - elapsed, 0.0)
        if wait < remaining:
            return wait
        if remaining > FINAL_LOOK_LEAD:
            return remaining - FINAL_LOOK_LEAD
        return max(0.0, remaining)  # that was the last look: wait out the deadline


class SipCallAnsweredTrigger(_PollingTrigger):
    """
    Poll the meeting's sessions until participant ``participant_id`` has joined meeting ``meeting_id``.

    Natively async: one ``httpx`` connection pool per run, no thread per request or while
    sleeping, closed when the run ends or is cancelled (triggerer shutdown, task cleared). It only
    reads (``GET /v2/sessions``), so the triggerer may restart it any number of times without side
    effects. Its deadline is the absolute ``end_time``: a look-up still in flight then is
    abandoned and the timeout event fires on time, and a restart does not lengthen the wait.

    Fires one event: ``{"status": "answered", "participant": {...}}``, ``{"status": "timeout"}``
    once ``end_time`` has passed, or ``{"status": "error", "message": ..., "input_error": bool}``
    when VideoSDK cannot be asked (after the hook's retries).

    :param meeting_id: the meeting (room) the call was injected into.
    :param participant_id: the participant ID of the call.
    :param end_time: Unix time (seconds) after which it stops waiting.
    :param poll_interval: seconds between look-ups (at least ``MIN_POLL_INTERVAL``).
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param joined_after: Unix time; only joins after it count (see the sensor).
    """

    def __init__(
        self,
        *,
        meeting_id: str,
        participant_id: str,
        end_time: float,
        poll_interval: float = 5.0,
        videosdk_conn_id: str = "videosdk_default",
        joined_after: float | None = None,
    ) -> None:
        super().__init__()
        self.meeting_id = meeting_id
        self.participant_id = participant_id
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.videosdk_conn_id = videosdk_conn_id
        self.joined_after = joined_after

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and keyword arguments, to rebuild the trigger in the triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "meeting_id": self.meeting_id,
                "participant_id": self.participant_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "videosdk_conn_id": self.videosdk_conn_id,
                "joined_after": self.joined_after,
            },
        )

    async def _wait(self) -> dict[str, Any]:
        from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        self.log.info(
            "Waiting until %.0fs from now for participant %s to join meeting %s",
            max(0.0, self.end_time - time.time()),
            self.participant_id,
            self.meeting_id,
        )
        try:
            async with VideoSDKHook(self.videosdk_conn_id).async_client() as client:
                while (remaining := self.end_time - time.time()) > 0:
                    started = time.monotonic()
                    look_up = client.find_participant(
                        self.meeting_id, self.participant_id, joined_after=self.joined_after
                    )
                    try:
                        participant = await asyncio.wait_for(look_up, remaining)
                    except asyncio.TimeoutError:
                        break  # the deadline passed during the look-up: abandoned
                    if participant is not None:
                        self.log.info("Participant %s joined meeting %s", self.participant_id, self.meeting_id)
                        return {"status": "answered", "participant": participant}
                    elapsed = time.monotonic() - started
                    await asyncio.sleep(self._next_wait(self.end_time - time.time(), elapsed))
        except (VideoSDKError, VideoSDKInputError) as exc:
            return {"status": "error", "message": str(exc), "input_error": isinstance(exc, VideoSDKInputError)}
        return {"status": "timeout"}


class SipCallStatusTrigger(_PollingTrigger):
    """
    Poll a call (``GET /v2/sip/call/{id}``) until it is answered or reaches a final status.

    Natively async like :class:`SipCallAnsweredTrigger`: one ``httpx`` pool per run, no threads,
    polls at a fixed cadence with one last look before the absolute ``end_time``, and a look-up
    still in flight at the deadline is abandoned so the timeout fires on time. It only reads, so
    the triggerer may restart it freely; hanging up on timeout is the sensor's, in the worker.

    Fires one event, ``status`` being what :func:`~airflow_provider_videosdk.call_watch.judge`
    made of the call: ``answered``, ``unanswered`` or ``stale``, with ``call`` (the call object
    without personal data, see :func:`~airflow_provider_videosdk.call_watch.impersonal`, unless
    ``keep_call``), ``call_status`` and ``message``; ``timeout`` with the last ``call_status`` seen; or ``error``
    with ``message`` and ``input_error`` when VideoSDK cannot be asked (after the hook's retries).

    :param call_id: the call to watch (``SipCallOperator``'s output).
    :param end_time: Unix time (seconds) after which it stops waiting.
    :param poll_interval: seconds between look-ups (at least ``MIN_POLL_INTERVAL``).
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param created_after: Unix time (the DAG run's start); an older call never counts.
    :param reported_unknown: unknown statuses already logged (by the sensor's first poke): not logged again.
    :param keep_call: put the whole call object in the event (stored in the metadata DB): personal data.
    """

    def __init__(
        self,
        *,
        call_id: str,
        end_time: float,
        poll_interval: float = 5.0,
        videosdk_conn_id: str = "videosdk_default",
        created_after: float | None = None,
        reported_unknown: list[str] | None = None,
        keep_call: bool = False,
    ) -> None:
        super().__init__()
        self.call_id = call_id
        self.keep_call = keep_call
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.videosdk_conn_id = videosdk_conn_id
        self.created_after = created_after
        self.reported_unknown = list(reported_unknown or [])

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Class path and keyword arguments, to rebuild the trigger in the triggerer."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "call_id": self.call_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "videosdk_conn_id": self.videosdk_conn_id,
                "created_after": self.created_after,
                "reported_unknown": self.reported_unknown,
                "keep_call": self.keep_call,
            },
        )

    async def _wait(self) -> dict[str, Any]:
        from airflow_provider_videosdk.call_watch import impersonal, judge
        from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        self.log.info(
            "Waiting until %.0fs from now for call %s to be answered or end",
            max(0.0, self.end_time - time.time()),
            self.call_id,
        )
        reported = set(self.reported_unknown)
        last_status: str | None = None
        try:
            async with VideoSDKHook(self.videosdk_conn_id).async_client() as client:
                while (remaining := self.end_time - time.time()) > 0:
                    started = time.monotonic()
                    try:
                        call = await asyncio.wait_for(client.get_call(self.call_id), remaining)
                    except asyncio.TimeoutError:
                        break  # the deadline passed during the look-up: abandoned
                    skew = client.hook.config.clock_skew
                    look = judge(call, self.call_id, created_after=self.created_after, skew=skew)
                    last_status = look.status
                    if look.final:
                        self.log.info("%s", look.message)
                        return {
                            "status": look.outcome,
                            "call": call if self.keep_call else impersonal(call),
                            "call_status": look.status,
                            "message": look.message,
                        }
                    if look.outcome == "unknown" and look.status not in reported:
                        reported.add(look.status)
                        self.log.warning("%s", look.message)
                    elapsed = time.monotonic() - started
                    await asyncio.sleep(self._next_wait(self.end_time - time.time(), elapsed))
        except (VideoSDKError, VideoSDKInputError) as exc:
            return {"status": "error", "message": str(exc), "input_error": isinstance(exc, VideoSDKInputError)}
        return {"status": "timeout", "call_status": last_status}
