"""
The calls the provider places, checked once, and what each status of the call API means.

:class:`OutboundCall` is the body of the outbound-call API's ``POST /v2/sip/outbound-call``.

:class:`SipCall` is the body of ``POST /v2/sip/call``; each field's wire name, bounds and meaning are
written once, on the field, and the operator's template fields, the JSON body and the table of docs/operators.md
are derived from them. :data:`STATUSES` is the one table of call statuses: the sensor, the trigger,
``skip_if_answered`` and docs/operators.md all read it.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.validation import (
    MAX_DISPLAY_NAME_LENGTH,
    check_constants,
    clean_callee,
    clean_e164,
    clean_id,
    clean_seconds,
    clean_text,
    rendered_nothing,
)

#: Bounds of the numbers and the metadata a call takes (the provider's, checked before sending).
MAX_RINGING_TIMEOUT = 300
MAX_CALL_DURATION = 24 * 3600
#: The most ``metadata`` the provider sends, in UTF-8 bytes of compact JSON (its attempt token included).
MAX_METADATA_BYTES = 4096
#: The metadata key of the token unique to one attempt at placing a call: how the call is recognised again.
ATTEMPT_KEY = "airflowAttempt"
_ATTEMPT_HEX = 32
#: What the attempt token takes of :data:`MAX_METADATA_BYTES`: ``,"airflowAttempt":"<32 hex digits>"``.
ATTEMPT_BYTES = len(f',"{ATTEMPT_KEY}":""') + _ATTEMPT_HEX
#: The most ``metadata`` a DAG author may give: the rest is the attempt token's.
MAX_USER_METADATA_BYTES = MAX_METADATA_BYTES - ATTEMPT_BYTES


@dataclass(frozen=True)
class OutboundCall:
    """
    The fields of one outbound SIP call (the outbound-call API's ``POST /v2/sip/outbound-call`` body), checked.

    Build it with :meth:`build`, which checks every field; operators and notifiers derive their
    ``template_fields`` from :data:`CALL_FIELDS`.
    """

    to: str
    display_name: str
    meeting_id: str
    trunk_id: str
    from_number: str | None = None
    participant_id: str | None = None

    @classmethod
    def build(
        cls,
        to: Any,
        display_name: Any,
        meeting_id: Any,
        trunk_id: Any,
        from_number: Any = None,
        participant_id: Any = None,
    ) -> OutboundCall:
        """Check every field (raising :class:`VideoSDKInputError` naming the first bad one) and build the call."""
        return cls(
            to=clean_callee("to", to),
            display_name=_display_name("display_name", display_name),
            meeting_id=clean_id("meeting_id", meeting_id),
            trunk_id=clean_id("trunk_id", trunk_id),
            from_number=None if from_number is None else clean_e164("from_number", from_number),
            participant_id=None if participant_id is None else clean_id("participant_id", participant_id),
        )

    @classmethod
    def check_constants(cls, owner: str, **values: Any) -> None:
        """Check, when the DAG is parsed, the values that are not templates (see :func:`check_constants`)."""
        check_constants(owner, values, _OUTBOUND_CLEAN)

    @classmethod
    def from_fields_of(cls, owner: Any) -> OutboundCall:
        """:meth:`build` from the same-named attributes of ``owner`` (an operator's rendered template fields)."""
        return cls.build(**{f.name: getattr(owner, f.name) for f in fields(cls)})

    def body(self) -> dict[str, str]:
        """The outbound-call API's camelCase JSON body; a field that is None is left out."""
        return _given(
            {
                "to": self.to,
                "displayName": self.display_name,
                "meetingId": self.meeting_id,
                "trunkId": self.trunk_id,
                "from": self.from_number,
                "participantId": self.participant_id,
            }
        )


def _display_name(field: str, value: Any) -> str:
    return clean_text(field, value, max_length=MAX_DISPLAY_NAME_LENGTH)


# Each field's check, as OutboundCall.build applies it.
_OUTBOUND_CLEAN = {
    "to": clean_callee,
    "display_name": _display_name,
    "meeting_id": clean_id,
    "trunk_id": clean_id,
    "from_number": clean_e164,
    "participant_id": clean_id,
}

#: The call's fields, in order: the operator's and notifier's template fields.
CALL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(OutboundCall))


_Call = TypeVar("_Call", "SipCall", OutboundCall)


def identified(call: _Call) -> _Call:
    """
    ``call`` with a participant id, so that it can be found again: its own, else a new one
    (``airflow-`` and 16 hex digits).
    """
    if call.participant_id:
        return call
    return dataclasses.replace(call, participant_id=f"airflow-{uuid.uuid4().hex[:16]}")


def with_attempt(call: SipCall) -> SipCall:
    """
    ``call`` with a token unique to this attempt in its metadata (:data:`ATTEMPT_KEY`), kept if it has one.

    A call found in VideoSDK's lists is adopted only when it carries this token: a participant id
    (a DAG author's may be shared by mapped tasks or reused across runs) is never enough.
    """
    if attempt_of(call) is not None:
        return call
    token = uuid.uuid4().hex[:_ATTEMPT_HEX]
    return dataclasses.replace(call, metadata={**(call.metadata or {}), ATTEMPT_KEY: token})


def attempt_of(call: SipCall | dict[str, Any]) -> str | None:
    """The attempt token of a :class:`SipCall`, or of a call object as VideoSDK answers it; None if it has none."""
    metadata = call.get("metadata") if isinstance(call, dict) else call.metadata
    token = metadata.get(ATTEMPT_KEY) if isinstance(metadata, dict) else None
    return token if isinstance(token, str) and token else None


def metadata_size(value: dict[str, Any]) -> int:
    """``value``'s size as sent: UTF-8 bytes of compact JSON, non-ASCII characters not escaped."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode())


def _meta(wire: str, doc: str, *, required: bool = False) -> dict[str, Any]:
    """A :class:`SipCall` field's facts: its JSON name in the body, its meaning, and whether it is required."""
    return {"wire": wire, "doc": doc, "required": required}


def clean_metadata(name: str, value: Any) -> dict[str, Any]:
    """A JSON object (string keys) of at most :data:`MAX_USER_METADATA_BYTES` UTF-8 bytes of compact JSON."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise VideoSDKInputError(f"{name} must be a JSON object (a dict with string keys), got {type(value).__name__}")
    if ATTEMPT_KEY in value:
        raise VideoSDKInputError(f"{name} must not set {ATTEMPT_KEY!r}: the provider sets it to recognise the call")
    try:
        size = metadata_size(value)
    except (TypeError, ValueError) as exc:
        raise VideoSDKInputError(f"{name} must be JSON-serialisable (strings, numbers, lists, dicts): {exc}") from None
    if size > MAX_USER_METADATA_BYTES:
        raise VideoSDKInputError(
            f"{name} must be at most {MAX_USER_METADATA_BYTES} bytes as compact UTF-8 JSON "
            f"({MAX_METADATA_BYTES} less the provider's {ATTEMPT_BYTES}-byte attempt token), got {size}"
        )
    return value


@dataclass(frozen=True)
class SipCall:
    """
    One call through VideoSDK's call API (``POST /v2/sip/call``), checked.

    Build it with :meth:`build`, which checks every field and raises :class:`VideoSDKInputError`
    naming the first bad one; ``None`` leaves an optional field out of the body.
    """

    to: str = field(metadata=_meta("sipCallTo", "E.164 number or SIP URI to phone", required=True))
    meeting_id: str = field(metadata=_meta("destinationRoomId", "the meeting (room) the callee joins", required=True))
    gateway_id: str | None = field(
        default=None,
        metadata=_meta("gatewayId", "the outbound gateway (the outbound-call API's trunk id); or `routing_rule_id`"),
    )
    routing_rule_id: str | None = field(
        default=None,
        metadata=_meta("routingRuleId", "a routing rule for provisioned numbers, instead of `gateway_id`"),
    )
    from_number: str | None = field(
        default=None, metadata=_meta("sipCallFrom", "caller number, one of the gateway's; default its first")
    )
    display_name: str | None = field(
        default=None, metadata=_meta("participant.name", "the callee's name in the meeting")
    )
    participant_id: str | None = field(
        default=None, metadata=_meta("participant.id", "the callee's participant id; generated when omitted")
    )
    ringing_timeout: int | None = field(
        default=None,
        metadata=_meta(
            "ringingTimeout",
            f"whole seconds to ring before `not-answered`, 1 to {MAX_RINGING_TIMEOUT}; a fraction is refused",
        ),
    )
    max_call_duration: int | None = field(
        default=None,
        metadata=_meta(
            "maxCallDuration",
            f"whole seconds after which VideoSDK ends an answered call, 1 to {MAX_CALL_DURATION}; "
            "a fraction is refused",
        ),
    )
    metadata: dict[str, Any] | None = field(
        default=None,
        metadata=_meta(
            "metadata", f"a JSON object kept on the call, at most {MAX_USER_METADATA_BYTES} bytes as compact UTF-8 JSON"
        ),
    )

    @classmethod
    def build(cls, **values: Any) -> SipCall:
        """Check every field and build the call; unknown names are refused."""
        unknown = set(values) - set(CALL_API_FIELDS)
        if unknown:
            raise VideoSDKInputError(f"unknown call field(s): {', '.join(sorted(unknown))}")
        for name in CALL_API_FIELDS:
            if values.get(name) is None and _FIELDS[name].metadata["required"]:
                raise rendered_nothing(name, None)
        route = [name for name in ROUTE_FIELDS if values.get(name) is not None]
        if len(route) != 1:
            raise VideoSDKInputError(
                f"give exactly one of {' or '.join(ROUTE_FIELDS)}, got "
                + (" and ".join(route) if route else "neither")
                + ": the call dials through one gateway or one routing rule"
            )
        return cls(**{name: _CLEAN[name](name, value) for name, value in values.items() if value is not None})

    @classmethod
    def check_constants(cls, owner: str, **values: Any) -> None:
        """Check, when the DAG is parsed, the values that are not templates (see :func:`check_constants`)."""
        check_constants(owner, values, _CLEAN)

    @classmethod
    def from_fields_of(cls, owner: Any) -> SipCall:
        """:meth:`build` from the same-named attributes of ``owner`` (an operator's rendered template fields)."""
        return cls.build(**{name: getattr(owner, name) for name in CALL_API_FIELDS})

    def body(self) -> dict[str, Any]:
        """The JSON body of ``POST /v2/sip/call``; a field that is None is left out."""
        participant = _given({"name": self.display_name, "id": self.participant_id})
        return _given(
            {
                "sipCallTo": self.to,
                "destinationRoomId": self.meeting_id,
                "gatewayId": self.gateway_id,
                "routingRuleId": self.routing_rule_id,
                "sipCallFrom": self.from_number,
                "participant": participant or None,
                "ringingTimeout": self.ringing_timeout,
                "maxCallDuration": self.max_call_duration,
                "metadata": self.metadata,
            }
        )


def _given(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without the keys whose value is None (optional fields not given)."""
    return {key: value for key, value in body.items() if value is not None}


def _clean_number(maximum: int) -> Any:
    def clean(name: str, value: Any) -> int:
        seconds = clean_seconds(name, value, maximum=maximum)
        if not seconds.is_integer():
            raise VideoSDKInputError(
                f"{name} must be a whole number of seconds from 1 to {maximum}, got {value!r} "
                "(the provider sends whole seconds and does not round)"
            )
        return int(seconds)

    return clean


_CLEAN: dict[str, Any] = {
    "to": clean_callee,
    "meeting_id": clean_id,
    "gateway_id": clean_id,
    "routing_rule_id": clean_id,
    "from_number": clean_e164,
    "display_name": lambda name, value: clean_text(name, value, max_length=MAX_DISPLAY_NAME_LENGTH),
    "participant_id": clean_id,
    "ringing_timeout": _clean_number(MAX_RINGING_TIMEOUT),
    "max_call_duration": _clean_number(MAX_CALL_DURATION),
    "metadata": clean_metadata,
}
_FIELDS = {f.name: f for f in fields(SipCall)}
#: The call's fields, in order: :class:`~airflow_provider_videosdk.operators.sip.SipCallOperator`'s template fields.
CALL_API_FIELDS: tuple[str, ...] = tuple(_FIELDS)
#: What a call is routed through: exactly one of them.
ROUTE_FIELDS = ("gateway_id", "routing_rule_id")


def call_fields_table() -> str:
    """The table of :class:`SipCall`'s fields in docs/operators.md (a test checks the page holds exactly this)."""
    rows = ["| operator argument | body field | required | meaning |", "|---|---|---|---|"]
    for f in fields(SipCall):
        required = "yes" if f.metadata["required"] else "exactly one of two" if f.name in ROUTE_FIELDS else "no"
        rows.append(f"| `{f.name}` | `{f.metadata['wire']}` | {required} | {f.metadata['doc']} |")
    return "\n".join(rows)


# -- statuses ---------------------------------------------------------------------------------------

#: What a call's status means: ``answered``; ``unanswered`` (final, nobody answered: call the next
#: person); ``ended`` (final: answered if the timelog shows ``answered``, else unanswered);
#: ``pending`` (not final yet). Names as VideoSDK's server SDK spells them; compared case-insensitively.
STATUSES: dict[str, tuple[str, str]] = {
    "initiated": ("pending", "VideoSDK is setting the call up"),
    "ringing": ("pending", "the callee's phone is ringing"),
    "answered": ("answered", "the callee picked up (a voicemail pickup reports this too)"),
    "ended": ("ended", "the call is over: answered if its timelog shows `answered`, else not"),
    "not-answered": ("unanswered", "it rang until `ringing_timeout` and nobody picked up"),
    "missed": ("unanswered", "the callee missed the call"),
    "rejected": ("unanswered", "the callee declined the call"),
    "failed": ("unanswered", "the call could not be set up (bad number, gateway error)"),
    "abandoned": ("unanswered", "the call was given up before it was answered"),
    "incoming": ("pending", "an inbound call (not placed by this provider)"),
    "verified": ("pending", "an inbound call was verified"),
    **{
        s: ("pending", "a transfer or room switch in progress or done")
        for s in (
            "transfer-initiated",
            "transfer-accepted",
            "transferring",
            "transfer-ringing",
            "transferred",
            "transfer-failed",
            "switch-room-initiated",
            "switch-room-completed",
            "switch-room-failed",
        )
    },
}
#: What a hang-up (the sensor's on timeout, ``skip_if_answered``'s) that meets an answer means.
HANG_UP_MET_ANSWER = (
    "the callee picked up before the hang-up took effect (the status read right before, or what the end "
    'answered, shows `answered`): it counts as answered, logged as "answered as it was hung up"; '
    "`skip_if_answered` skips"
)
#: What the status sensor does for each kind of status.
SENSOR_EFFECT = {
    "answered": "succeeds, returning the call's id, status and session",
    "unanswered": "fails at once, without Airflow retries (the next call runs)",
    "ended": "succeeds if the timelog shows `answered`, else fails at once",
    "pending": "keeps waiting",
}


def call_id_of(call: dict[str, Any]) -> str | None:
    """A call object's id: ``id``, or ``callId`` as some lists spell it."""
    value = call.get("id", call.get("callId"))
    return value if isinstance(value, str) and value else None


def status_of(call: dict[str, Any]) -> str:
    """The call's status, lower case (empty when absent)."""
    status = call.get("status")
    return status.strip().lower() if isinstance(status, str) else ""


def timelog_statuses(call: dict[str, Any]) -> list[str]:
    """The statuses the call's timelog records, lower case, in order (entries of any shape are tolerated)."""
    timelog = call.get("timelog")
    if not isinstance(timelog, list):
        return []
    return [e["status"].strip().lower() for e in timelog if isinstance(e, dict) and isinstance(e.get("status"), str)]


def outcome_of(call: dict[str, Any]) -> str:
    """
    ``answered``, ``unanswered`` or ``pending`` for a call object, by :data:`STATUSES`; ``unknown``
    for a status not in the table (callers log it and treat it as not final).
    """
    status = status_of(call)
    if status == "answered" or "answered" in timelog_statuses(call):
        return "answered"
    kind = STATUSES.get(status, ("unknown", ""))[0]
    return "unanswered" if kind == "ended" else kind


def status_table() -> str:
    """The status table of docs/operators.md (a test checks the page holds exactly this)."""
    rows = ["| status | meaning | the status sensor |", "|---|---|---|"]
    for status, (kind, meaning) in STATUSES.items():
        rows.append(f"| `{status}` | {meaning} | {SENSOR_EFFECT[kind]} |")
    rows.append(f"| any other | a status this provider does not know: logged once | {SENSOR_EFFECT['pending']} |")
    rows.append(f"| hung up, and it met an answer | {HANG_UP_MET_ANSWER} | {SENSOR_EFFECT['answered']} |")
    return "\n".join(rows)
