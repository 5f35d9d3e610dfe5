"""
The incident notifier: a failure opens one incident (one escalation run) however many tasks fail.

It renders the incident key and creates the escalation DAG's run through Airflow's public REST API,
with a run id made from the key and a time bucket. The run id is the lock: the first failure creates
the run and opens the incident; every other failure of the same incident gets 409 and has joined it
(logged; nobody is phoned). The failure that opened it phones the first level itself at once, with
participant ids and attempt tokens derived from the run id (``keys.first_call_ids``): the run's
first-level calls find these calls and adopt them instead of dialling, so the first ring does not
wait for the scheduler. When Airflow's API cannot be reached or refuses, the notifier phones the
first level all the same and logs why: a lost incident is worse than a second call.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_videosdk.incidents.keys import DEFAULT_BUCKET_SECONDS
from airflow_provider_videosdk.incidents.policy import EscalationPolicy
from airflow_provider_videosdk.validation import clean_id, clean_int, clean_text
from airflow_provider_videosdk.version_compat import BaseNotifier, notifier_init_args

if TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping, Sequence

    from airflow_provider_videosdk.calls import SipCall
    from airflow_provider_videosdk.incidents.api import ApiSettings
    from airflow_provider_videosdk.version_compat import Context

#: The default key: the failing DAG's id (a deadline's context has ``dag_run`` but no ``dag``).
DEFAULT_KEY = "{{ dag.dag_id if dag is defined and dag else dag_run.dag_id }}"
MAX_KEY_LENGTH = 200
_T = TypeVar("_T")


class IncidentNotifier(BaseNotifier):
    """
    Open an incident from a failure: for task and DAG ``on_failure_callback``, Airflow 3 deadline
    alerts (``async_notify``, in the triggerer) and Airflow 2 SLA-miss callbacks::

        on_failure_callback=IncidentNotifier(policy=policy, escalation_dag_id="db_incident")

    In a deadline alert, give the policy as data (Airflow keeps a callback's kwargs as JSON)::

        AsyncCallback(IncidentNotifier, kwargs={"policy": policy.to_dict(), "escalation_dag_id": "db_incident"})

    :param policy: the escalation policy (its first level is phoned directly when Airflow's API fails),
        or its :meth:`~EscalationPolicy.to_dict` data.
    :param escalation_dag_id: the DAG made by ``escalation_dag(policy, ...)``.
    :param incident_key: templated; failures with the same key within one time bucket are one incident.
        Default: the failing DAG's id.
    :param bucket_seconds: the time bucket (default an hour): a failure in a later bucket opens a new incident.
    :param airflow_conn_id: the ``airflow_api`` connection (Airflow's API address and a user).
    """

    template_fields: Sequence[str] = ("incident_key",)

    def __init__(
        self,
        *,
        policy: EscalationPolicy | Mapping[str, Any],
        escalation_dag_id: str,
        incident_key: str = DEFAULT_KEY,
        bucket_seconds: int = DEFAULT_BUCKET_SECONDS,
        airflow_conn_id: str = "airflow_api_default",
        context: Context | None = None,
    ) -> None:
        super().__init__(*notifier_init_args(context))
        self.policy = policy if isinstance(policy, EscalationPolicy) else EscalationPolicy.from_dict(policy)
        self.escalation_dag_id = clean_id("escalation_dag_id", escalation_dag_id)
        self.incident_key = incident_key
        self.bucket_seconds = clean_int("bucket_seconds", bucket_seconds, minimum=60, maximum=7 * 24 * 3600)
        self.airflow_conn_id = clean_id("airflow_conn_id", airflow_conn_id)

    def __call__(self, *args: Any) -> None:
        # Airflow renders the template fields in place: render a copy, so the template stays for the next failure.
        BaseNotifier.__call__(copy.copy(self), *args)

    # -- the two entry points ----------------------------------------------------------------------

    def notify(self, context: Context) -> None:
        """Open the incident (task callbacks on the worker, DAG callbacks in the DAG processor)."""
        from airflow_provider_videosdk.incidents.api import AirflowApiHook

        key, now = self._key(), time.time()
        try:
            settings = AirflowApiHook(self.airflow_conn_id).settings()
        except Exception as exc:  # a missing or bad connection: the incident must not be lost for it
            opened: bool | str = self._unusable(exc)
        else:
            try:
                opened = _run_sync(self._open(settings, key, now, context))
            except Exception as exc:
                opened = _failure(exc)
        if opened is not False:
            self._phone_first_level(key, now, None if opened is True else opened)
        if opened is True:  # checked after the phones ring: it must not delay the first call
            _run_sync(self._check_unpaused(settings))

    async def async_notify(self, context: Context) -> None:
        """Open the incident from the triggerer (deadline alerts): natively async."""
        from airflow_provider_videosdk.incidents.api import ApiSettings
        from airflow_provider_videosdk.version_compat import aget_connection

        key, now = self._key(), time.time()
        try:
            settings = ApiSettings.from_connection(await aget_connection(self.airflow_conn_id))
        except Exception as exc:
            opened: bool | str = self._unusable(exc)
        else:
            try:
                opened = await self._open(settings, key, now, context)
            except Exception as exc:
                opened = _failure(exc)
        if opened is not False:
            await self._aphone_first_level(key, now, None if opened is True else opened)
        if opened is True:
            await self._check_unpaused(settings)

    def _unusable(self, exc: Exception) -> str:
        return f"the {self.airflow_conn_id} connection cannot be used: {_failure(exc)}"

    # -- opening ------------------------------------------------------------------------------------

    def _key(self) -> str:
        return clean_text("incident_key", self.incident_key, max_length=MAX_KEY_LENGTH)

    async def _open(self, settings: ApiSettings, key: str, now: float, context: Context) -> bool | str:
        """
        Create the escalation's run: True when this failure opened the incident (it then phones the
        first level), False when it joined one open already, else why it could not be opened.
        """
        from airflow_provider_videosdk.incidents.api import AirflowApi
        from airflow_provider_videosdk.incidents.keys import FIRST_LEVEL_KEY, incident_run_id

        run_id = incident_run_id(key, now, self.bucket_seconds)
        # Whoever sends this conf phones the first level itself; the run's first-level calls adopt those calls.
        conf = {"incident_key": key, "opened_at": now, "source": _source(context), FIRST_LEVEL_KEY: now}
        async with AirflowApi(settings) as api:
            created = await api.create_run(self.escalation_dag_id, run_id, conf)
            if not created:
                self.log.info(
                    "Incident %s is open already (run %s of %s): joined it; phoning no one",
                    key,
                    run_id,
                    self.escalation_dag_id,
                )
                return False
            self.log.info("Opened incident %s: run %s of %s", key, run_id, self.escalation_dag_id)
        return True

    async def _check_unpaused(self, settings: ApiSettings) -> None:
        """After the first level was phoned: say so if the escalation DAG is paused (its run stays queued)."""
        from airflow_provider_videosdk.incidents.api import AirflowApi

        try:
            async with AirflowApi(settings) as api:
                paused = (await api.dag(self.escalation_dag_id)).get("is_paused")
        except Exception as exc:
            self.log.warning("Could not tell whether %s is paused: %s", self.escalation_dag_id, _failure(exc))
            return
        if paused:
            self.log.error(
                "The escalation DAG %s is paused: its run stays queued, and nobody beyond the first level "
                "is phoned, until it is unpaused",
                self.escalation_dag_id,
            )

    # -- the first level: phoned here, at once; the run adopts these calls ------------------------

    def _calls(self, key: str, now: float) -> tuple[str, list[SipCall]]:
        """The incident's meeting (its custom id) and the first level's calls, identified by the run id."""
        from dataclasses import replace

        from airflow_provider_videosdk.calls import ATTEMPT_KEY, SipCall
        from airflow_provider_videosdk.incidents.keys import first_call_ids, incident_run_id

        run_id = incident_run_id(key, now, self.bucket_seconds)  # also the meeting's custom id
        level = self.policy.levels[0]
        calls = []
        for index, callee in enumerate(level.callees):
            participant_id, attempt = first_call_ids(run_id, index)
            call = SipCall.build(
                to=callee,
                meeting_id=run_id,  # replaced by the room's id once created
                from_number=self.policy.from_number,
                display_name="On-call (incident)",
                participant_id=participant_id,
                ringing_timeout=level.ring_seconds,
                metadata={"incident_key": key[:200]},
                **self.policy.route,
            )
            # The token the run's first-level task looks for (checked fields refuse it from users).
            calls.append(replace(call, metadata={**(call.metadata or {}), ATTEMPT_KEY: attempt}))
        return run_id, calls

    def _phone_first_level(self, key: str, now: float, why: str | None) -> None:
        from dataclasses import replace

        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
        from airflow_provider_videosdk.incidents.keys import FIRST_CALL_BUDGET

        self._say_why(key, why)
        custom_room, calls = self._calls(key, now)
        hook = VideoSDKHook(self.policy.videosdk_conn_id, retry_max_wait=FIRST_CALL_BUDGET)
        try:
            room_id = hook.create_room(custom_room)["roomId"]
            for call in calls:
                if not self._in_time(key, now, why):
                    return
                try:
                    placed = hook.place_call(replace(call, meeting_id=room_id))
                except Exception as exc:  # the others still ring; the run adopts this call or dials it
                    self._not_placed(hook.phone_for_log(call.to), exc)
                else:
                    self.log.info("Phoned %s: call %s", hook.phone_for_log(call.to), placed.get("id"))
        finally:
            hook.close()

    async def _aphone_first_level(self, key: str, now: float, why: str | None) -> None:
        from dataclasses import replace

        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
        from airflow_provider_videosdk.incidents.keys import FIRST_CALL_BUDGET

        self._say_why(key, why)
        custom_room, calls = self._calls(key, now)
        hook = VideoSDKHook(self.policy.videosdk_conn_id, retry_max_wait=FIRST_CALL_BUDGET)
        async with hook.async_client() as client:
            room = await client.create_room(custom_room)
            for call in calls:
                if not self._in_time(key, now, why):
                    return
                try:
                    placed = await client.place_call(replace(call, meeting_id=str(room["roomId"])))
                except Exception as exc:
                    self._not_placed(hook.phone_for_log(call.to), exc)
                else:
                    self.log.info("Phoned %s: call %s", hook.phone_for_log(call.to), placed.get("id"))

    def _not_placed(self, callee: str, exc: Exception) -> None:
        self.log.error(
            "Phoning %s failed (%s): the escalation run adopts the call if it was placed, else dials it",
            callee,
            _failure(exc),
        )

    def _say_why(self, key: str, why: str | None) -> None:
        if why is None:
            self.log.info("Incident %s: phoning the first level now; the escalation run goes on from these calls", key)
        else:
            self.log.error(
                "Could not open incident %s through Airflow (%s): phoning the first level directly", key, why
            )

    def _in_time(self, key: str, now: float, why: str | None) -> bool:
        """
        Whether a first-level POST may still begin: always when no run may exist (a lost incident is
        worse), else only within ``FIRST_CALL_SEND_BY`` of opening; after that the run's own
        first-level task, which stops waiting for these calls, dials.
        """
        from airflow_provider_videosdk.incidents.keys import FIRST_CALL_SEND_BY

        if why is not None or time.time() <= now + FIRST_CALL_SEND_BY:
            return True
        self.log.warning(
            "Incident %s: %g s passed since it was opened; the escalation run phones the rest of the first level",
            key,
            FIRST_CALL_SEND_BY,
        )
        return False


#: The notifier under the conventional ``send_…`` name: ``on_failure_callback=send_videosdk_incident(...)``.
send_videosdk_incident = IncidentNotifier


def _failure(exc: BaseException) -> str:
    """An exception in a sentence (its text holds no credentials: they are never in a URL or message here)."""
    from airflow_provider_videosdk.incidents.api import AirflowApiError

    if isinstance(exc, AirflowApiError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _source(context: Context) -> dict[str, Any]:
    """What failed, for the escalation run's conf."""
    dag_run, ti = context.get("dag_run"), context.get("ti")
    dag = context.get("dag")
    return {
        "dag_id": getattr(dag, "dag_id", None) or _field(dag_run, "dag_id"),
        "run_id": _field(dag_run, "run_id") or _field(dag_run, "dag_run_id"),
        "task_id": getattr(ti, "task_id", None),
    }


def _field(value: Any, name: str) -> Any:
    """``value.name``, or ``value[name]`` for a dict (a deadline alert's context holds the run as a dict)."""
    return value.get(name) if isinstance(value, dict) else getattr(value, name, None)


def _run_sync(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` to completion from sync code, also where an event loop is running already."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[_T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coro))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, name="incident-notifier")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
