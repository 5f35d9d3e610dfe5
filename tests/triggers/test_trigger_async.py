"""
The trigger's native async path: one connection pool per run, no threads, bounded by its deadline,
and nothing left running once it is cancelled. Checked against the emulator without timing targets.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_videosdk.triggers.sip import SipCallAnsweredTrigger
from tests.helpers import first_event, place_call

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator

pytestmark = pytest.mark.matrix

CALLEE = "+14155550170"


def client_connections(port: int) -> int:
    """Established TCP connections from a client to ``port`` on this machine (from /proc/net/tcp)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port, state = int(fields[2].split(":")[1], 16), fields[3]
        count += remote_port == port and state == "01"
    return count


def client_threads() -> set[str]:
    """This process's threads, but for the in-process emulator's (one per connection it serves)."""
    return {t.name for t in threading.enumerate() if not t.name.startswith("videosdk-emulator")}


def test_a_run_polls_over_one_connection_pool_and_starts_no_thread(videosdk_emulator: VideoSDKEmulator) -> None:
    pid = place_call(CALLEE, "room-async")  # nobody answers
    connections_before = videosdk_emulator.connections
    sessions_before = len(videosdk_emulator.requests_to("/v2/sessions"))
    threads: list[set[str]] = []

    async def main() -> dict[str, Any]:
        trigger = SipCallAnsweredTrigger(
            meeting_id="room-async", participant_id=pid, end_time=time.time() + 3.5, poll_interval=1
        )
        task = asyncio.create_task(first_event(trigger))
        while not task.done():
            threads.append(client_threads())
            await asyncio.sleep(0.1)
        return await task

    baseline = client_threads()
    assert asyncio.run(main()) == {"status": "timeout"}

    polls = len(videosdk_emulator.requests_to("/v2/sessions")) - sessions_before
    assert polls >= 3
    assert videosdk_emulator.connections - connections_before == 1  # one TCP connection for every poll
    # No thread per request or while sleeping. Outside a triggerer (no supervisor comms), Airflow's
    # aget_connection reads the connection once per run through the event loop's default executor.
    extra = set().union(*threads) - baseline
    assert {name for name in extra if not name.startswith("ThreadPoolExecutor-")} == set()
    assert len(extra) <= 1


def test_a_look_up_in_flight_at_the_deadline_is_abandoned_and_the_timeout_fires_on_time(
    videosdk_emulator: VideoSDKEmulator,
) -> None:
    pid = place_call(CALLEE, "room-async")
    videosdk_emulator.add_fault(path="/v2/sessions", delay=10, process=True, times=10)
    trigger = SipCallAnsweredTrigger(meeting_id="room-async", participant_id=pid, end_time=time.time() + 1.5)

    started = time.monotonic()
    assert asyncio.run(first_event(trigger)) == {"status": "timeout"}
    assert time.monotonic() - started < 6  # at its 1.5 s deadline, not when the 10 s look-up answers


def test_a_cancelled_trigger_stops_all_work_and_closes_its_pool(videosdk_emulator: VideoSDKEmulator) -> None:
    pid = place_call(CALLEE, "room-async")
    videosdk_emulator.add_fault(path="/v2/sessions", delay=5, process=True, times=1000)  # a look-up in flight
    assert client_connections(videosdk_emulator.port) == 0

    async def main() -> None:
        trigger = SipCallAnsweredTrigger(
            meeting_id="room-async", participant_id=pid, end_time=time.time() + 60, poll_interval=1
        )
        task = asyncio.create_task(first_event(trigger))
        await asyncio.sleep(1.0)
        assert client_connections(videosdk_emulator.port) == 1
        task.cancel()  # triggerer shutdown, or the task was cleared
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    requests_at_cancel = len(videosdk_emulator.requests_to("/v2/sessions"))
    assert requests_at_cancel >= 1
    assert client_connections(videosdk_emulator.port) == 0  # the pool was closed
    time.sleep(2.5)
    assert len(videosdk_emulator.requests_to("/v2/sessions")) == requests_at_cancel
