"""Operators that phone a person into a VideoSDK meeting: the outbound-call API and the newer call API."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.calls import (
    ATTEMPT_KEY,
    CALL_API_FIELDS,
    CALL_FIELDS,
    OutboundCall,
    SipCall,
    identified,
    with_attempt,
)
from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.operators._call import CallOperatorBase, describe

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk._http.policy import SendWatch
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.version_compat import Context


class SipOutboundCallOperator(CallOperatorBase):
    """
    Place an outbound SIP call and inject it into a VideoSDK meeting (``POST /v2/sip/outbound-call``).

    Returns the call's participant ID (XCom ``return_value``) and also pushes it under the key
    ``participant_id``.

    Exactly once across task retries (Airflow 3.3+): see "Exactly once" in docs/reliability.md. A retry
    whose earlier try may have sent the call looks the participant up in the meeting and fails with
    :class:`VideoSDKOutcomeUnknownError` if it is not there; it never dials twice. Without a store
    (Airflow < 3.3), an interruption while the call is in flight fails the task without Airflow
    retries instead.

    :param to: E.164 number (``+14155550100``) or SIP URI (``sip:+14155550100@sip.example.com``).
    :param display_name: the caller's name as shown in the meeting.
    :param meeting_id: the meeting (room) the call joins, e.g. ``create_room.output``.
    :param trunk_id: the SIP trunk (outbound gateway) to dial through.
    :param from_number: caller number, one of the trunk's numbers; default the trunk's first.
    :param participant_id: custom participant ID; one is generated when omitted on Airflow 3.3+
        (so an interrupted call can be found again), else VideoSDK generates it.
    :param skip_if_answered: participant IDs (or call IDs of :class:`SipCallOperator`) of earlier
        calls in an escalation (e.g. ``[call_primary.output]``): if any of them answered since the
        DAG run started, the task is skipped instead of phoning the next person; an earlier call
        still ringing is hung up.
    :param skip_if_answered_on_error: when that cannot be told (VideoSDK down): ``"call"``
        (default: phone anyway), ``"skip"`` or ``"fail"``.
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
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to, self.display_name, self.meeting_id = to, display_name, meeting_id
        self.trunk_id, self.from_number, self.participant_id = trunk_id, from_number, participant_id
        OutboundCall.check_constants(self.task_id, **{name: getattr(self, name) for name in CALL_FIELDS})

    def _checked_call(self) -> OutboundCall:
        return OutboundCall.from_fields_of(self)

    def _place(
        self, hook: VideoSDKHook, call: Any, watch: SendWatch | None, interrupt_is_outcome_unknown: bool
    ) -> dict:
        # The hook logs per call at DEBUG only (it may place hundreds); the task logs at INFO.
        self.log.info(
            "Phoning %s into meeting %s through trunk %s", hook.phone_for_log(call.to), call.meeting_id, call.trunk_id
        )
        answer = hook.outbound_call(call, interrupt_is_outcome_unknown=interrupt_is_outcome_unknown, watch=watch)
        self.log.info("VideoSDK accepted the call: participant %s", answer["participantId"])
        return {"participant_id": str(answer["participantId"])}

    def _find_placed(self, hook: VideoSDKHook, call: Any, record: dict[str, Any]) -> dict[str, Any] | None:
        participant_id = str(record.get("participant_id"))
        found = hook.find_participant(call.meeting_id, participant_id, joined_after=record.get("intended_at"))
        return None if found is None else {"participant_id": participant_id}

    def _finish(self, context: Context, result: dict[str, Any]) -> str:
        context["ti"].xcom_push(key="participant_id", value=result["participant_id"])
        return str(result["participant_id"])


class SipCallOperator(CallOperatorBase):
    """
    Place a call through VideoSDK's call API (``POST /v2/sip/call``), which tracks its status.

    Returns the call id (XCom ``return_value``) and pushes ``call_id``, ``participant_id`` and
    ``status``; wait on it with :class:`~airflow_provider_videosdk.sensors.sip.SipCallStatusSensor`.
    A participant id is generated when none is given, on every Airflow, so that a call whose POST
    had no clear answer can be found again: the hook looks it up for ``reconcile_timeout`` seconds
    (a connection extra) before reporting the outcome unknown, and a retry whose earlier try may
    have sent it (Airflow 3.3+) looks it up in the meeting's calls instead of dialling. It never
    dials twice.

    :param to: E.164 number or SIP URI to phone (``sipCallTo``).
    :param meeting_id: the meeting (room) the callee joins (``destinationRoomId``).
    :param gateway_id: the outbound gateway (``gatewayId``; the outbound-call API's trunk id is one).
    :param routing_rule_id: a routing rule (``routingRuleId``, for provisioned numbers) instead of
        ``gateway_id``: give exactly one of the two.
    :param from_number: caller number (``sipCallFrom``), one of the gateway's; default its first.
    :param display_name: the callee's name in the meeting (``participant.name``).
    :param participant_id: the callee's participant id (``participant.id``); generated when omitted.
    :param ringing_timeout: seconds to ring before the call ends as ``not-answered``.
    :param max_call_duration: seconds after which VideoSDK ends an answered call.
    :param metadata: a JSON object kept on the call (bounded by ``calls.MAX_USER_METADATA_BYTES``).
    :param skip_if_answered: call IDs (or participant IDs of :class:`SipOutboundCallOperator`) of
        earlier calls: if any was answered since the DAG run started, skip; one still ringing is
        hung up first.
    :param skip_if_answered_on_error: ``"call"`` (default), ``"skip"`` or ``"fail"`` when that
        cannot be told.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param redial_on_retry: dial on every try, even when an earlier try placed the call.
    :param retry_attempts: overrides the connection's ``retry_attempts``.
    :param retry_max_wait: overrides the connection's ``retry_max_wait``.
    """

    # skip_if_answered is templated so that an XComArg (``[call_primary.output]``) resolves.
    template_fields: Sequence[str] = (*CALL_API_FIELDS, "skip_if_answered")
    template_fields_renderers = {"metadata": "json"}
    ui_color = "#5568fe"

    def __init__(
        self,
        *,
        to: str,
        meeting_id: str,
        gateway_id: str | None = None,
        routing_rule_id: str | None = None,
        from_number: str | None = None,
        display_name: str | None = None,
        participant_id: str | None = None,
        ringing_timeout: float | None = None,
        max_call_duration: float | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (gateway_id is None) == (routing_rule_id is None):
            raise VideoSDKInputError(
                f"{self.task_id}: give exactly one of gateway_id or routing_rule_id, got "
                + ("both" if gateway_id is not None else "neither")
            )
        self.to, self.meeting_id, self.gateway_id, self.from_number = to, meeting_id, gateway_id, from_number
        self.routing_rule_id = routing_rule_id
        self.display_name, self.participant_id = display_name, participant_id
        self.ringing_timeout, self.max_call_duration, self.metadata = ringing_timeout, max_call_duration, metadata
        SipCall.check_constants(self.task_id, **{name: getattr(self, name) for name in CALL_API_FIELDS})

    def _checked_call(self) -> SipCall:
        return identified(SipCall.from_fields_of(self))  # on every Airflow: the call can then be found again

    def _place(
        self, hook: VideoSDKHook, call: Any, watch: SendWatch | None, interrupt_is_outcome_unknown: bool
    ) -> dict:
        self.log.info(
            "Phoning %s into meeting %s through %s (participant %s)",
            hook.phone_for_log(call.to),
            call.meeting_id,
            f"gateway {call.gateway_id}" if call.gateway_id else f"routing rule {call.routing_rule_id}",
            call.participant_id,
        )
        placed = hook.place_call(call, interrupt_is_outcome_unknown=interrupt_is_outcome_unknown, watch=watch)
        result = _call_result(placed, call)
        self._placed_call_id = result["call_id"]
        self.log.info("VideoSDK placed the call: %s", describe(result))
        return result

    def _for_this_attempt(self, call: Any) -> Any:
        return with_attempt(call)

    def _find_placed(self, hook: VideoSDKHook, call: Any, record: dict[str, Any]) -> dict[str, Any] | None:
        attempt, began = record.get("attempt"), record.get("intended_at")
        if not isinstance(attempt, str) or not isinstance(began, (int, float)):
            self.log.warning("The earlier try recorded no attempt token: its call cannot be told from another")
            return None
        metadata = {**(call.metadata or {}), ATTEMPT_KEY: attempt}
        sent = dataclasses.replace(call, participant_id=str(record.get("participant_id")), metadata=metadata)
        found = hook.find_placed_call(sent, float(began))
        return None if found is None else _call_result(found, sent)

    def _finish(self, context: Context, result: dict[str, Any]) -> str:
        ti = context["ti"]
        for key in ("call_id", "participant_id", "status"):
            ti.xcom_push(key=key, value=result.get(key))
        return str(result["call_id"])


def _call_result(placed: dict[str, Any], call: SipCall) -> dict[str, Any]:
    from airflow_provider_videosdk._http.call_api import participant_id_of

    return {
        "call_id": str(placed["id"]),
        "participant_id": participant_id_of(placed) or call.participant_id,
        "status": placed.get("status"),
    }
