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

    assert time.monotonic() - started < 4  # interrupted at 1 s, not when the answer comes at 5 s
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


def test_an_interruption_during_the_tls_handshake_sent_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_videosdk._http.policy import SendWatch
    from airflow_provider_videosdk.testing import VideoSDKEmulator

    with VideoSDKEmulator(tls=True) as emulator:
        assert emulator.ca_file is not None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_file)
        monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", emulator.connection_json({"retry_backoff": 0.01}))
        emulator.add_fault(tls="stall_handshake")
        watch = SendWatch()

        with pytest.raises(AirflowTaskTimeout), task_timeout(1):
            VideoSDKHook().outbound_call(watch=watch, interrupt_is_outcome_unknown=False, **CALL)

        # The operator reads this to record "not placed", so that its next try dials.
        assert watch.may_have_arrived is False
        assert emulator.requests == [] and emulator.calls == []
