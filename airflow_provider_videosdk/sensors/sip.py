"""Sensor that waits until a phoned participant has answered (joined the VideoSDK meeting)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
from airflow_provider_videosdk.validation import clean_id, clean_seconds, clean_time, run_started_at
from airflow_provider_videosdk.version_compat import (
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.version_compat import Context

# The sensor's own deadline travels in the trigger; this margin only backs it up, should the
# triggerer be down when it passes.
DEFERRAL_TIMEOUT_MARGIN = 60.0
MAX_ANSWER_TIMEOUT = 7 * 24 * 3600.0


class SipCallAnsweredSensor(BaseSensorOperator):
    """
    Succeed once the called participant has joined the meeting, i.e. answered, after the call was made.

    Reads ``GET /v2/sessions`` only; it never places a call. An answer counts only if the
    participant joined this meeting after ``answered_after`` (default: when the DAG run started;
    VideoSDK's clock may be up to ``hooks.videosdk.CLOCK_SKEW`` = 30 s behind), so last week's
    session in a reused meeting, with a reused ``participant_id``, is not taken for today's answer.
    On ``timeout`` it fails with ``AirflowSensorTimeout`` (or is skipped with ``soft_fail``), so a
    downstream "call the next person" task with ``trigger_rule="one_failed"`` runs. Returns the
    participant as VideoSDK lists it, plus its ``sessionId`` (XCom ``return_value``).

    :param meeting_id: the meeting the call was injected into, e.g. ``create_room.output``.
    :param participant_id: the call's participant ID, e.g. ``call.output``.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param deferrable: poke once, then wait in the triggerer (:class:`SipCallAnsweredTrigger`).
    :param answer_timeout: seconds to wait for the answer; when given it replaces ``timeout``.
        Templated, so it can come from params: ``answer_timeout="{{ params.answer_timeout }}"``.
    :param answered_after: only joins after this time count (ISO-8601, Unix seconds or a
        datetime; templated); default: the start of the DAG run.
    """

    template_fields: Sequence[str] = ("meeting_id", "participant_id", "answer_timeout", "answered_after")
    ui_color = "#5568fe"

    def __init__(
        self,
        *,
        meeting_id: str,
        participant_id: str,
        videosdk_conn_id: str = "videosdk_default",
        deferrable: bool = False,
        answer_timeout: float | str | None = None,
        answered_after: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.meeting_id = meeting_id
        self.participant_id = participant_id
        self.videosdk_conn_id = videosdk_conn_id
        self.deferrable = deferrable
        self.answer_timeout = answer_timeout
        self.answered_after = answered_after
        self._hook: VideoSDKHook | None = None
        self._since: float | None = None

    def _apply_rendered_fields(self, context: Context) -> None:
        """Check the rendered fields before any request; let ``answer_timeout`` replace ``timeout``."""
        self.meeting_id = clean_id("meeting_id", self.meeting_id)
        self.participant_id = clean_id("participant_id", self.participant_id)
        if self.answer_timeout is not None:
            self.timeout = clean_seconds("answer_timeout", self.answer_timeout, maximum=MAX_ANSWER_TIMEOUT)
        self._since = (
            run_started_at(context)
            if self.answered_after is None
            else clean_time("answered_after", self.answered_after)
        )

    def _get_hook(self) -> VideoSDKHook:
        if self._hook is None:
            from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

            self._hook = VideoSDKHook(self.videosdk_conn_id)
        return self._hook

    def _look_up(self) -> dict[str, Any] | None:
        participant = self._get_hook().find_participant(self.meeting_id, self.participant_id, joined_after=self._since)
        if participant is None:
            self.log.info("Participant %s has not joined meeting %s yet", self.participant_id, self.meeting_id)
        else:
            self.log.info(
                "Participant %s answered: it joined session %s of meeting %s",
                self.participant_id,
                participant.get("sessionId"),
                self.meeting_id,
            )
        return participant

    def execute(self, context: Context) -> Any:
        """Poke until answered (or time out); with ``deferrable``, poke once then wait in the triggerer."""
        self._apply_rendered_fields(context)
        try:
            if not self.deferrable:
                return super().execute(context)
            started = time.time()
            participant = self._look_up()
            if participant is not None:
                return participant
        finally:
            if self._hook is not None:
                self._hook.close()
        from airflow_provider_videosdk.triggers.sip import SipCallAnsweredTrigger

        self.log.info("Deferring: waiting up to %gs in the triggerer", self.timeout)
        self.defer(
            trigger=SipCallAnsweredTrigger(
                meeting_id=self.meeting_id,
                participant_id=self.participant_id,
                end_time=started + self.timeout,
                poll_interval=self.poke_interval,
                videosdk_conn_id=self.videosdk_conn_id,
                joined_after=self._since,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + DEFERRAL_TIMEOUT_MARGIN),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        """One look-up: done when the participant joined after ``answered_after``."""
        participant = self._look_up()
        return PokeReturnValue(is_done=participant is not None, xcom_value=participant)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: return the participant, or time out / fail."""
        self._apply_rendered_fields(context)
        event = event or {}
        status = event.get("status")
        if status == "answered":
            return event.get("participant")
        if status == "timeout":
            message = (
                f"Participant {self.participant_id} did not join meeting {self.meeting_id} "
                f"within {self.timeout:g}s: the call was not answered"
            )
            self.log.warning("%s", message)
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        message = f"Waiting for participant {self.participant_id} failed: {event.get('message', event)}"
        self.log.error("%s", message)
        if event.get("input_error"):
            raise VideoSDKInputError(message)
        raise VideoSDKError(message)
