"""DAGs for exactly-once across task retries, and for the secret-leak check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum

from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS

if AIRFLOW_V_3_0_PLUS:
    from airflow.sdk import DAG, task
else:
    from airflow import DAG
    from airflow.decorators import task

from airflow_provider_videosdk.operators.sip import SipOutboundCallOperator

START = pendulum.datetime(2026, 1, 1, tz="UTC")
CALL = {"to": "+14155550120", "display_name": "On-call", "meeting_id": "war-room-3", "trunk_id": "trunk_demo"}


class CallThenFailOnFirstTry(SipOutboundCallOperator):
    """Places its call, then a later step of the same task fails on the first try."""

    def execute(self, context: Any) -> str:
        participant_id = super().execute(context)
        print(f"TRY {context['ti'].try_number} GOT {participant_id}")
        if context["ti"].try_number == 1:
            raise RuntimeError("a later step failed after the call was placed")
        return participant_id


for dag_id, redial in (("videosdk_retry_after_call", False), ("videosdk_retry_redial", True)):
    with DAG(dag_id, schedule=None, start_date=START):
        CallThenFailOnFirstTry(
            task_id="call", retries=1, retry_delay=timedelta(seconds=0), redial_on_retry=redial, **CALL
        )


# A plain call that Airflow may retry: a fault that may have placed the call must not be retried.
with DAG("videosdk_call_with_retries", schedule=None, start_date=START):
    SipOutboundCallOperator(task_id="call", retries=1, retry_delay=timedelta(seconds=0), **CALL)

# Airflow's task timeout fires while VideoSDK is still answering (the test delays the answer).
with DAG("videosdk_timeout_mid_call", schedule=None, start_date=START):
    SipOutboundCallOperator(
        task_id="call", retries=1, retry_delay=timedelta(seconds=0), execution_timeout=timedelta(seconds=3), **CALL
    )


class _StoreThatCannotWrite:
    """The task state store with a backend that fails every write (reads still work)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.get(key, default)

    def set(self, key: str, value: Any, **kwargs: Any) -> None:
        raise OSError("state store backend unavailable")


class CallWithBrokenStore(SipOutboundCallOperator):
    """A call whose task state store cannot write: the intent cannot be recorded."""

    def execute(self, context: Any) -> str:
        context["task_state_store"] = _StoreThatCannotWrite(context["task_state_store"])
        return super().execute(context)


with DAG("videosdk_store_write_fails", schedule=None, start_date=START):
    CallWithBrokenStore(task_id="call", retries=1, retry_delay=timedelta(seconds=0), **CALL)


with DAG("videosdk_leak_success", schedule=None, start_date=START):
    call = SipOutboundCallOperator(task_id="call", **CALL)

    @task
    def log_token() -> None:
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
        from airflow_provider_videosdk.version_compat import redact

        hook = VideoSDKHook()
        # What a worker's log pipeline would write for a careless log line: both values redacted.
        print("LEAK-PROBE", redact(f"token={hook.get_token()} secret={hook.config.api_secret}"))

    call >> log_token()


with DAG("videosdk_leak_failures", schedule=None, start_date=START):
    # Each task meets a different failure, in this order; the test injects the 502.
    (
        SipOutboundCallOperator(task_id="ambiguous_502", **CALL)
        >> SipOutboundCallOperator(
            task_id="wrong_secret_401", videosdk_conn_id="videosdk_wrong_secret", trigger_rule="all_done", **CALL
        )
        >> SipOutboundCallOperator(
            task_id="unknown_trunk_404", trigger_rule="all_done", **{**CALL, "trunk_id": "no_such_trunk"}
        )
    )


# Issue 15: a try that sent nothing must never stop the next try from dialling.

# Airflow's task timeout fires while the hook waits out a 429's Retry-After: nothing was placed.
with DAG("videosdk_timeout_in_backoff", schedule=None, start_date=START):
    SipOutboundCallOperator(
        task_id="call", retries=1, retry_delay=timedelta(seconds=0), execution_timeout=timedelta(seconds=3), **CALL
    )


class ConnectionUnreadableOnFirstTry(SipOutboundCallOperator):
    """On try 1 the connection cannot be read (a secrets backend that is down); try 2 reads it."""

    def execute(self, context: Any) -> str:
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        if context["ti"].try_number > 1:
            return super().execute(context)

        def unreadable(conn_id: str) -> Any:
            raise RuntimeError("secrets backend unavailable")

        readable = VideoSDKHook.__dict__.get("get_connection")
        VideoSDKHook.get_connection = staticmethod(unreadable)  # type: ignore[method-assign]
        try:
            return super().execute(context)
        finally:  # dags test may run try 2 in this same process
            if readable is None:
                del VideoSDKHook.get_connection
            else:
                VideoSDKHook.get_connection = readable  # type: ignore[method-assign]


with DAG("videosdk_connection_unreadable_once", schedule=None, start_date=START):
    ConnectionUnreadableOnFirstTry(task_id="call", retries=1, retry_delay=timedelta(seconds=0), **CALL)


# skip_if_answered when VideoSDK cannot be asked whether the primary answered.
for _choice in ("call", "skip", "fail"):
    with DAG(f"videosdk_skip_lookup_fails_{_choice}", schedule=None, start_date=START):
        SipOutboundCallOperator(
            task_id="call_secondary",
            skip_if_answered=["airflow-primary-participant"],
            skip_if_answered_on_error=_choice,
            **CALL,
        )
