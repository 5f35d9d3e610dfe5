"""Operator that phones a person into a VideoSDK meeting through a SIP trunk."""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.validation import CALL_FIELDS, OutboundCall, clean_id, run_started_at
from airflow_provider_videosdk.version_compat import AirflowSkipException, BaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.version_compat import Context

# Key in the task state store (Airflow 3.3+) that remembers a call across the tries of a task instance.
PLACED_CALL_KEY = "videosdk_placed_call"


class SipOutboundCallOperator(BaseOperator):
    """
    Place an outbound SIP call and inject it into a VideoSDK meeting (``POST /v2/sip/outbound-call``).

    Returns the call's participant ID (XCom ``return_value``) and also pushes it under the key
    ``participant_id``.

    Exactly once across task retries (Airflow 3.3+): before dialling, the try writes its intent
    (participant ID, try, ``max_tries``) to the task state store, and the result after. A retry
    that finds a result returns it; one that finds only an intent (the earlier try died mid-call)
    does not dial but looks the participant up in the meeting, and fails with
    :class:`VideoSDKOutcomeUnknownError` if it is not there. Without a store (Airflow < 3.3), an
    interruption while the call is in flight fails the task without Airflow retries instead.

    :param to: E.164 number (``+14155550100``) or SIP URI (``sip:+14155550100@sip.example.com``).
    :param display_name: the caller's name as shown in the meeting.
    :param meeting_id: the meeting (room) the call joins, e.g. ``create_room.output``.
    :param trunk_id: the SIP trunk (outbound gateway) to dial through.
    :param from_number: caller number, one of the trunk's numbers; default the trunk's first.
    :param participant_id: custom participant ID; one is generated when omitted on Airflow 3.3+
        (so an interrupted call can be found again), else VideoSDK generates it.
    :param skip_if_answered: participant IDs of earlier calls in an escalation (e.g.
        ``[call_primary.output]``): if any of them joined this meeting since the DAG run started,
        the task is skipped instead of phoning the next person.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param redial_on_retry: dial on every try, even when an earlier try placed the call.
    :param retry_attempts: overrides the connection's ``retry_attempts``.
    :param retry_max_wait: overrides the connection's ``retry_max_wait``.
    """

    template_fields: Sequence[str] = (*CALL_FIELDS, "skip_if_answered")
    ui_color = "#5568fe"

    def __init__(
        self,
        *,
        to: str,
        display_name: str,
        meeting_id: str,
        trunk_id: str,
        from_number: str | None = None,
        participant_id: str | None = None,
        skip_if_answered: Sequence[str] | None = None,
        videosdk_conn_id: str = "videosdk_default",
        redial_on_retry: bool = False,
        retry_attempts: int | None = None,
        retry_max_wait: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to, self.display_name, self.meeting_id = to, display_name, meeting_id
        self.trunk_id, self.from_number, self.participant_id = trunk_id, from_number, participant_id
        self.skip_if_answered = skip_if_answered
        self.videosdk_conn_id = videosdk_conn_id
        self.redial_on_retry = redial_on_retry
        self.retry_attempts = retry_attempts
        self.retry_max_wait = retry_max_wait

    def execute(self, context: Context) -> str:
        """Check the rendered call; skip it if an earlier callee answered, else dial (once) and return the ID."""
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        # Check every rendered value before looking anything up or sending anything.
        call = OutboundCall.from_fields_of(self)
        earlier = self._earlier_callees()
        hook = VideoSDKHook(
            self.videosdk_conn_id, retry_attempts=self.retry_attempts, retry_max_wait=self.retry_max_wait
        )
        try:
            self._skip_if_answered(hook, call, earlier, context)
            store: Any = None if self.redial_on_retry else context.get("task_state_store")
            if store is None and not self.redial_on_retry and context["ti"].try_number > 1:
                self.log.warning(
                    "Try %d: this Airflow has no task state store, so whether an earlier try placed the call "
                    "cannot be known; dialling (every failure that may have placed it fails without retries).",
                    context["ti"].try_number,
                )
            participant_id = self._dial(hook, call) if store is None else self._dial_once(hook, call, store, context)
        finally:
            hook.close()
        context["ti"].xcom_push(key="participant_id", value=participant_id)
        return participant_id

    def _earlier_callees(self) -> list[str]:
        value = self.skip_if_answered
        if value is None:
            return []
        if isinstance(value, str) or not all(isinstance(v, str) or v is None for v in value):
            raise VideoSDKInputError("skip_if_answered must be a list of participant IDs, e.g. [call_primary.output]")
        # An earlier call that was never placed (its task failed) has no ID: it cannot have answered.
        return [clean_id("skip_if_answered", v) for v in value if v is not None]

    def _skip_if_answered(self, hook: VideoSDKHook, call: OutboundCall, earlier: list[str], context: Context) -> None:
        if not earlier:
            return
        since = run_started_at(context)
        for participant_id in earlier:
            found = hook.find_participant(call.meeting_id, participant_id, joined_after=since)
            if found is not None:
                message = (
                    f"Participant {participant_id} already answered: it joined meeting {call.meeting_id} "
                    f"(session {found.get('sessionId')}); not phoning {hook.phone_for_log(call.to)}"
                )
                self.log.info("%s", message)
                raise AirflowSkipException(message)

    def _dial(self, hook: VideoSDKHook, call: OutboundCall, *, in_flight_is_unknown: bool = True) -> str:
        # The hook logs per call at DEBUG only (it may place hundreds); the task logs at INFO.
        self.log.info(
            "Phoning %s into meeting %s through trunk %s", hook.phone_for_log(call.to), call.meeting_id, call.trunk_id
        )
        answer = hook.outbound_call(call, interrupt_is_outcome_unknown=in_flight_is_unknown)
        self.log.info("VideoSDK accepted the call: participant %s", answer["participantId"])
        return str(answer["participantId"])

    def _dial_once(self, hook: VideoSDKHook, call: OutboundCall, store: Any, context: Context) -> str:
        """Dial unless an earlier try of this task instance did; the intent is written before the call."""
        ti = context["ti"]
        record = store.get(PLACED_CALL_KEY)
        # A manual clear raises max_tries: that is a new request for a call, not a retry.
        if isinstance(record, dict) and record.get("max_tries") == ti.max_tries:
            if record.get("state") == "placed":
                self.log.info(
                    "The call was already placed on an earlier try (participant %s); not dialling again. "
                    "Set redial_on_retry=True to place a new call on every try.",
                    record["participant_id"],
                )
                return str(record["participant_id"])
            if record.get("state") == "dialling":
                return self._recover(hook, call, record)
        participant_id = call.participant_id or f"airflow-{uuid.uuid4().hex[:16]}"
        intent = {
            "state": "dialling",
            "participant_id": participant_id,
            "try_number": ti.try_number,
            "max_tries": ti.max_tries,
            "intended_at": time.time(),
        }
        try:
            store.set(PLACED_CALL_KEY, intent)
        except Exception as exc:
            raise VideoSDKError(
                "Could not write the call's intent to the task state store, so the call was not placed: "
                f"without it a retry could phone twice ({type(exc).__name__})"
            ) from exc
        try:
            participant_id = self._dial(
                hook, dataclasses.replace(call, participant_id=participant_id), in_flight_is_unknown=False
            )
        except VideoSDKError as exc:
            if not isinstance(exc, VideoSDKOutcomeUnknownError):
                store.set(PLACED_CALL_KEY, {**intent, "state": "not_placed"})  # certainly not placed: a retry dials
            raise
        try:
            store.set(PLACED_CALL_KEY, {**intent, "state": "placed", "participant_id": participant_id})
        except Exception:
            self.log.warning("The call was placed but its result could not be stored; a retry will look it up")
        return participant_id

    def _recover(self, hook: VideoSDKHook, call: OutboundCall, record: dict[str, Any]) -> str:
        """An earlier try began this call and died before recording the result: find it, never redial."""
        participant_id = str(record.get("participant_id"))
        self.log.warning(
            "Try %s began this call (participant %s) but did not record the result; looking for it in meeting %s",
            record.get("try_number"),
            participant_id,
            call.meeting_id,
        )
        found = hook.find_participant(call.meeting_id, participant_id, joined_after=record.get("intended_at"))
        if found is not None:
            self.log.info("Participant %s is in the meeting: the earlier try placed the call", participant_id)
            return participant_id
        raise VideoSDKOutcomeUnknownError(
            f"An earlier try may have placed this call (participant {participant_id}) and was interrupted before "
            f"VideoSDK answered; the participant has not joined meeting {call.meeting_id}, so whether the phone "
            "rang cannot be told. Not dialling again; set redial_on_retry=True to dial on every try."
        )
