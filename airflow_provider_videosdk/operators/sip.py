"""Operator that phones a person into a VideoSDK meeting through a SIP trunk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

try:
    from airflow.sdk import BaseOperator
except ImportError:  # Airflow 2
    from airflow.models import BaseOperator  # type: ignore[no-redef]

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

# Key in the task state store (Airflow 3.3+) that remembers a placed call across task retries.
PLACED_CALL_KEY = "videosdk_placed_call"


class SipOutboundCallOperator(BaseOperator):
    """
    Place an outbound SIP call and inject it into a VideoSDK meeting (``POST /v2/sip/outbound-call``).

    Returns the call's participant ID (XCom ``return_value``) and also pushes it under the key
    ``participant_id``.

    :param to: E.164 number (``+14155550100``) or SIP URI (``sip:+14155550100@sip.example.com``).
    :param display_name: the caller's name as shown in the meeting.
    :param meeting_id: the meeting (room) the call joins, e.g. ``create_room.output``.
    :param trunk_id: the SIP trunk (outbound gateway) to dial through.
    :param from_number: caller number, one of the trunk's numbers; default the trunk's first.
    :param participant_id: custom participant ID; VideoSDK generates one when omitted.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param redial_on_retry: on Airflow 3.3+, a retry of a task that already placed its call
        returns the earlier participant ID instead of dialling again; set True to dial on every try.
    :param retry_attempts: attempts for failures known not to have been processed (429, 503,
        connection refused); default from the connection.
    :param retry_max_wait: total seconds those retries may wait; default from the connection.
    """

    template_fields: Sequence[str] = (
        "to",
        "display_name",
        "meeting_id",
        "trunk_id",
        "from_number",
        "participant_id",
    )
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
        videosdk_conn_id: str = "videosdk_default",
        redial_on_retry: bool = False,
        retry_attempts: int | None = None,
        retry_max_wait: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.to = to
        self.display_name = display_name
        self.meeting_id = meeting_id
        self.trunk_id = trunk_id
        self.from_number = from_number
        self.participant_id = participant_id
        self.videosdk_conn_id = videosdk_conn_id
        self.redial_on_retry = redial_on_retry
        self.retry_attempts = retry_attempts
        self.retry_max_wait = retry_max_wait

    def execute(self, context: Context) -> str:
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook, build_outbound_call_body

        # Check every rendered value before looking anything up or sending anything.
        body = build_outbound_call_body(
            self.to, self.display_name, self.meeting_id, self.trunk_id, self.from_number, self.participant_id
        )
        ti = context["ti"]
        store: Any = context.get("task_state_store")
        participant_id = None if self.redial_on_retry else self._earlier_call(store, ti)
        if participant_id is None:
            if store is None and ti.try_number > 1 and not self.redial_on_retry:
                self.log.warning(
                    "Try %d: this Airflow has no task state store, so whether an earlier try placed "
                    "the call cannot be known; dialling.",
                    ti.try_number,
                )
            hook = VideoSDKHook(
                self.videosdk_conn_id, retry_attempts=self.retry_attempts, retry_max_wait=self.retry_max_wait
            )
            # The hook logs per call at DEBUG only (it may place hundreds); the task logs at INFO.
            self.log.info(
                "Phoning %s into meeting %s through trunk %s",
                hook.phone_for_log(body["to"]),
                body["meetingId"],
                body["trunkId"],
            )
            answer = hook.outbound_call(
                self.to, self.display_name, self.meeting_id, self.trunk_id, self.from_number, self.participant_id
            )
            participant_id = answer["participantId"]
            self.log.info("VideoSDK accepted the call: participant %s", participant_id)
            if store is not None:
                store.set(PLACED_CALL_KEY, {"participant_id": participant_id, "max_tries": ti.max_tries})
        ti.xcom_push(key="participant_id", value=participant_id)
        return participant_id

    def _earlier_call(self, store: Any, ti: Any) -> str | None:
        """The participant ID of a call an earlier try of this task instance placed, if any."""
        if store is None:
            return None
        placed = store.get(PLACED_CALL_KEY)
        # A manual clear raises max_tries: that is a new request for a call, not a retry.
        if isinstance(placed, dict) and placed.get("max_tries") == ti.max_tries and placed.get("participant_id"):
            self.log.info(
                "The call was already placed on an earlier try (participant %s); not dialling again. "
                "Set redial_on_retry=True to place a new call on every try.",
                placed["participant_id"],
            )
            return str(placed["participant_id"])
        return None
