"""Sensor that waits until a phoned participant has answered (joined the VideoSDK meeting)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

try:
    from airflow.sdk import BaseSensorOperator, PokeReturnValue
    from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException
except ImportError:  # Airflow 2
    from airflow.exceptions import AirflowSensorTimeout, AirflowSkipException  # type: ignore[no-redef]
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue  # type: ignore[no-redef]

from airflow_provider_videosdk.validation import clean_seconds, clean_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

# The sensor's own deadline travels in the trigger; this margin only backs it up, should the
# triggerer be down when it passes.
DEFERRAL_TIMEOUT_MARGIN = 60.0
MAX_ANSWER_TIMEOUT = 7 * 24 * 3600.0


class SipCallAnsweredSensor(BaseSensorOperator):
    """
    Succeed once the called participant has joined a session of the meeting, i.e. answered.

    Reads ``GET /v2/sessions`` only; it never places a call. On ``timeout`` it fails with
    ``AirflowSensorTimeout`` (or is skipped with ``soft_fail``), so a downstream "call the next
    person" task with ``trigger_rule="one_failed"`` runs. Returns the participant as VideoSDK
    lists it, plus its ``sessionId`` (XCom ``return_value``).

    :param meeting_id: the meeting the call was injected into, e.g. ``create_room.output``.
    :param participant_id: the call's participant ID, e.g. ``call.output``.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param deferrable: poke once, then wait in the triggerer (:class:`SipCallAnsweredTrigger`).
    :param answer_timeout: seconds to wait for the answer; when given it replaces ``timeout``.
        Templated, so it can come from params: ``answer_timeout="{{ params.answer_timeout }}"``.
    """

    template_fields: Sequence[str] = ("meeting_id", "participant_id", "answer_timeout")
    ui_color = "#5568fe"

    def __init__(
        self,
        *,
        meeting_id: str,
        participant_id: str,
        videosdk_conn_id: str = "videosdk_default",
        deferrable: bool = False,
        answer_timeout: float | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.meeting_id = meeting_id
        self.participant_id = participant_id
        self.videosdk_conn_id = videosdk_conn_id
        self.deferrable = deferrable
        self.answer_timeout = answer_timeout
        self._hook: VideoSDKHook | None = None

    def _check_inputs(self) -> None:
        """Check the rendered fields before any request; apply ``answer_timeout``."""
        self.meeting_id = clean_text("meeting_id", self.meeting_id)
        self.participant_id = clean_text("participant_id", self.participant_id)
        if self.answer_timeout is not None:
            self.timeout = clean_seconds("answer_timeout", self.answer_timeout, maximum=MAX_ANSWER_TIMEOUT)

    def _get_hook(self) -> VideoSDKHook:
        if self._hook is None:
            from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

            self._hook = VideoSDKHook(self.videosdk_conn_id)
        return self._hook

    def _look_up(self) -> dict[str, Any] | None:
        participant = self._get_hook().find_participant(self.meeting_id, self.participant_id)
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
        self._check_inputs()
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
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + DEFERRAL_TIMEOUT_MARGIN),
        )

    def poke(self, context: Context) -> PokeReturnValue:
        participant = self._look_up()
        return PokeReturnValue(is_done=participant is not None, xcom_value=participant)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: return the participant, or time out / fail."""
        from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError

        self._check_inputs()
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
        if event.get("input_error"):
            raise VideoSDKInputError(message)
        raise VideoSDKError(message)
