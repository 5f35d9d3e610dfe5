"""
An interruption (Airflow's task timeout) while a call is in flight, in-process, on every Airflow.

Airflow 2.11's ``dags test`` runs no task retries, so this is where the no-store behaviour is
proven: the interruption mid-call becomes an outcome-unknown error (never retried by Airflow),
while one before anything was sent stays an ordinary, retryable timeout.
"""

from __future__ import annotations

import signal
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.version_compat import AirflowFailException, AirflowTaskTimeout
from tests.helpers import CALL

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_videosdk.testing import VideoSDKEmulator


@contextmanager
def task_timeout(seconds: float) -> Iterator[None]:
    """What Airflow's execution_timeout does: SIGALRM raises AirflowTaskTimeout in the running code."""

    def fire(signum: int, frame: object) -> None:
        raise AirflowTaskTimeout(f"Timeout after {seconds}s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_timeout_while_the_call_is_in_flight_is_outcome_unknown_chained_to_it(
    videosdk_emulator: VideoSDKEmulator,
) -> None:
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", delay=5, process=True)
    started = time.monotonic()

    with pytest.raises(VideoSDKOutcomeUnknownError, match="interrupted while waiting for VideoSDK") as err:
        with task_timeout(1):
            VideoSDKHook().outbound_call(**CALL)

    assert time.monotonic() - started < 3
    assert isinstance(err.value.__cause__, AirflowTaskTimeout)
    assert isinstance(err.value, AirflowFailException)  # Airflow does not retry it
    assert len(videosdk_emulator.calls) == 1


def test_where_a_store_remembers_the_attempt_the_timeout_itself_propagates(
    videosdk_emulator: VideoSDKEmulator,
) -> None:
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", delay=5, process=True)

    with pytest.raises(AirflowTaskTimeout), task_timeout(1):
        VideoSDKHook().outbound_call(interrupt_is_outcome_unknown=False, **CALL)

    assert len(videosdk_emulator.calls) == 1


def test_a_timeout_before_anything_was_sent_stays_a_retryable_timeout(videosdk_emulator: VideoSDKEmulator) -> None:
    # 429 with Retry-After: the hook sleeps before resending, and the timeout fires during that sleep.
    videosdk_emulator.add_fault(path="/v2/sip/outbound-call", status=429, retry_after="5")

    with pytest.raises(AirflowTaskTimeout), task_timeout(1):
        VideoSDKHook().outbound_call(**CALL)

    assert videosdk_emulator.calls == []
