"""Sensors that wait for an answer: a participant joining the meeting, or a call's status (the call API)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.exceptions import VideoSDKCallNotAnsweredError, VideoSDKError, VideoSDKInputError
from airflow_provider_videosdk.sensors._base import DEFERRAL_TIMEOUT_MARGIN, MAX_ANSWER_TIMEOUT, VideoSDKSensorBase
from airflow_provider_videosdk.validation import clean_id, clean_path_id, clean_seconds, clean_time, run_started_at
from airflow_provider_videosdk.version_compat import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    PokeReturnValue,
    conf,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk.call_watch import CallLook
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.version_compat import Context


class SipCallAnsweredSensor(VideoSDKSensorBase):
    """
    Succeed once the called participant has joined the meeting, i.e. answered, after the call was made.

    Reads ``GET /v2/sessions`` only; it never places a call. An answer counts only if the
    participant joined this meeting after ``answered_after`` (default: when the DAG run started;
    VideoSDK's clock may be up to the connection's ``clock_skew``, default 30 s, behind), so last week's
    session in a reused meeting, with a reused ``participant_id``, is not taken for today's answer.
    On ``timeout`` it fails with ``AirflowSensorTimeout`` (or is skipped with ``soft_fail``), so a
    downstream "call the next person" task with ``trigger_rule="one_failed"`` runs. Returns the
    participant as VideoSDK lists it, plus its ``sessionId`` (XCom ``return_value``).

    :param meeting_id: the meeting the call was injected into, e.g. ``create_room.output``.
    :param participant_id: the call's participant ID, e.g. ``call.output``.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param deferrable: poke once, then wait in the triggerer (:class:`SipCallAnsweredTrigger`);
        default Airflow's ``[operators] default_deferrable``.
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
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
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
            self._close_hook()
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


class SipCallStatusSensor(VideoSDKSensorBase):
    """
    Wait for a call placed through VideoSDK's call API (``SipCallOperator``) to be answered.

    Reads ``GET /v2/sip/call/{id}``. It **succeeds** as soon as the call's status or timelog shows
    ``answered`` and returns what it is (XCom ``return_value``): ``call_id``, ``status``,
    ``participant_id``, ``session_id`` and ``answered_at``, no phone number, name or metadata
    (``return_full_call`` returns the whole call object instead). It **fails at once**, without
    Airflow retries (:class:`~airflow_provider_videosdk.exceptions.VideoSDKCallNotAnsweredError`,
    naming the status), when the call reaches a final status without an answer: ``not-answered``,
    ``missed``, ``rejected``, ``failed``, ``abandoned``, or ``ended`` with no ``answered`` in its
    timelog; a downstream ``trigger_rule="one_failed"`` task then phones the next person at once.
    Statuses are compared case-insensitively; one it does not know is logged once and not final.

    On its own ``timeout`` (or ``answer_timeout``) it hangs the call up (``hang_up_on_timeout``),
    says so in the log, then fails with ``AirflowSensorTimeout`` (skipped with ``soft_fail``; note
    that Airflow's ``soft_fail`` skips instead of failing on any error, "not answered" included).
    A call created before the DAG run started (VideoSDK's clock may be up to
    the connection's ``clock_skew`` behind) never counts: the sensor fails naming it.

    :param call_id: the call to watch, e.g. ``call.output`` of a ``SipCallOperator``.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    :param deferrable: poke once, then wait in the triggerer (:class:`SipCallStatusTrigger`);
        default Airflow's ``[operators] default_deferrable``.
    :param answer_timeout: seconds to wait for an answer; when given it replaces ``timeout``. Templated.
    :param hang_up_on_timeout: end the call (``POST /v2/sip/call/end``) when the wait times out,
        so the phone stops ringing before the next person is phoned.
    :param return_full_call: return VideoSDK's whole call object, and carry it in the trigger's
        event. It holds personal data (the callee's and caller's numbers, the participant's name,
        the call's metadata), which then lands in XCom and the metadata DB.
    """

    template_fields: Sequence[str] = ("call_id", "answer_timeout")
    ui_color = "#5568fe"

    def __init__(
        self,
        *,
        call_id: str,
        videosdk_conn_id: str = "videosdk_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        answer_timeout: float | str | None = None,
        hang_up_on_timeout: bool = True,
        return_full_call: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.call_id = call_id
        self.return_full_call = return_full_call
        self.videosdk_conn_id = videosdk_conn_id
        self.deferrable = deferrable
        self.answer_timeout = answer_timeout
        self.hang_up_on_timeout = hang_up_on_timeout
        self._hook: VideoSDKHook | None = None
        self._since: float | None = None
        self._reported_unknown: set[str] = set()
        self._last_status: str | None = None
        self._deadline: float | None = None  # time.monotonic() when the sensor's timeout runs out

    def _apply_rendered_fields(self, context: Context) -> None:
        """Check the rendered fields before any request; let ``answer_timeout`` replace ``timeout``."""
        self.call_id = clean_path_id("call_id", self.call_id)
        if self.answer_timeout is not None:
            self.timeout = clean_seconds("answer_timeout", self.answer_timeout, maximum=MAX_ANSWER_TIMEOUT)
        self._since = run_started_at(context)

    def _judge(self, call: dict[str, Any]) -> CallLook:
        from airflow_provider_videosdk.call_watch import judge

        return judge(call, self.call_id, created_after=self._since, skew=self._get_hook().config.clock_skew)

    def _returned(self, call: dict[str, Any]) -> dict[str, Any]:
        """What the sensor returns for an answered call: its summary, or the whole call if asked."""
        from airflow_provider_videosdk.call_watch import call_summary

        return call if self.return_full_call else call_summary(call)

    def _decide(self, call: dict[str, Any]) -> dict[str, Any] | None:
        """What to return when answered; None while not final; raises on a final status without an answer."""
        look = self._judge(call)
        self._last_status = look.status
        if look.outcome == "answered":
            self.log.info("%s", look.message)
            return self._returned(call)
        if look.outcome == "unanswered":
            self.log.error("%s", look.message)
            raise VideoSDKCallNotAnsweredError(look.message, call_id=self.call_id, call_status=look.status)
        if look.outcome == "stale":
            self.log.error("%s", look.message)
            raise VideoSDKInputError(look.message)
        if look.outcome == "unknown":
            if look.status not in self._reported_unknown:
                self._reported_unknown.add(look.status)
                self.log.warning("%s", look.message)
        else:
            self.log.info("%s", look.message)
        return None

    def _look_up(self) -> dict[str, Any] | None:
        """One read of the call, given at most what is left of the sensor's timeout."""
        if self._deadline is None:
            return self._decide(self._get_hook().get_call(self.call_id))
        left = self._deadline - time.monotonic()
        try:
            call = self._get_hook().get_call(self.call_id, budget=max(left, 0.1))
        except VideoSDKError as exc:
            if self._deadline - time.monotonic() > 0.1:
                raise
            self.log.warning("Reading call %s did not finish before the sensor's timeout: %s", self.call_id, exc)
            return None  # the timeout has run out: Airflow's loop times out next
        return self._decide(call)

    def execute(self, context: Context) -> Any:
        """Poke until answered or final (or time out); with ``deferrable``, poke once then wait in the triggerer."""
        self._apply_rendered_fields(context)
        self._deadline = time.monotonic() + self.timeout
        try:
            if not self.deferrable:
                return self._poke_until_done(context)
            started = time.time()
            call = self._look_up()
            if call is not None:
                return call
        finally:
            self._close_hook()
        from airflow_provider_videosdk.triggers.sip import SipCallStatusTrigger

        self.log.info("Deferring: waiting up to %gs in the triggerer", self.timeout)
        self.defer(
            trigger=SipCallStatusTrigger(
                call_id=self.call_id,
                end_time=started + self.timeout,
                poll_interval=self.poke_interval,
                videosdk_conn_id=self.videosdk_conn_id,
                created_after=self._since,
                reported_unknown=sorted(self._reported_unknown),
                keep_call=self.return_full_call,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout + DEFERRAL_TIMEOUT_MARGIN),
        )

    def _poke_until_done(self, context: Context) -> Any:
        """
        Airflow's poke loop, with the timeout caught to hang up first. ``soft_fail`` is applied here
        as Airflow would (its own would turn the timeout into a skip before we could see it).
        """
        soft_fail, self.soft_fail = self.soft_fail, False
        try:
            return super().execute(context)
        except AirflowSensorTimeout:
            return self._timed_out(soft_fail)
        except AirflowFailException as exc:
            if soft_fail:
                raise AirflowSkipException(f"Skipping due to soft_fail: {exc}") from exc
            raise
        finally:
            self.soft_fail = soft_fail

    def poke(self, context: Context) -> PokeReturnValue:
        """One look-up: done when answered; raises on a final status without an answer."""
        call = self._look_up()
        return PokeReturnValue(is_done=call is not None, xcom_value=call)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: return the call, or fail at once / hang up and time out."""
        self._apply_rendered_fields(context)
        event = event or {}
        status = event.get("status")
        if status in ("answered", "unanswered", "stale") and isinstance(event.get("call"), dict):
            call = self._decide(event["call"])
            if call is not None:
                return call
        if status == "timeout":
            self._last_status = event.get("call_status")
            try:
                return self._timed_out(self.soft_fail)
            finally:
                self._close_hook()
        message = f"Waiting for call {self.call_id} failed: {event.get('message', event)}"
        self.log.error("%s", message)
        if event.get("input_error"):
            raise VideoSDKInputError(message)
        raise VideoSDKError(message)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """Also hang up when the deferral itself timed out (the triggerer was down past the deadline)."""
        error = str((next_kwargs or {}).get("error", ""))
        if next_method == "__fail__" and "timeout" in error.lower() and self.hang_up_on_timeout:
            self._apply_rendered_fields(context)
            try:
                answered, _ = self._hang_up()
            finally:
                self._close_hook()
            if answered is not None:
                return self._returned(answered)
        return super().resume_execution(next_method, next_kwargs, context)

    def _hang_up(self) -> tuple[dict[str, Any] | None, str]:
        """
        Hang the call up unless it is answered or over (:func:`~.hang_up.hang_up_unless_answered`),
        within ``HANG_UP_BUDGET`` per request. Returns the call if it was answered, and what to add
        to the timeout message.
        """
        from airflow_provider_videosdk.hang_up import hang_up_unless_answered
        from airflow_provider_videosdk.hooks.videosdk import HANG_UP_BUDGET

        return hang_up_unless_answered(
            self._get_hook(), self.call_id, created_after=self._since, budget=HANG_UP_BUDGET, log=self.log
        )

    def on_kill(self) -> None:
        """
        Killed while poking (marked failed, ``execution_timeout``): hang the call up unless it was
        answered, as on the sensor's own timeout (``hang_up_on_timeout``). Never raises, and takes a
        few seconds at most. A deferred sensor runs no code in a worker: when it is killed, Airflow
        cancels its trigger, which leaves the call to ring out its ``ringing_timeout``.
        """
        if self._deadline is None or not self.hang_up_on_timeout:
            return  # execute did not start (nothing to hang up), or the user keeps calls ringing
        from airflow_provider_videosdk.hang_up import hang_up_on_kill

        hang_up_on_kill(self.videosdk_conn_id, self.call_id, created_after=self._since, log=self.log)

    def _timed_out(self, soft_fail: bool) -> Any:
        """
        Hang up (if asked), then time out: ``AirflowSensorTimeout``, or a skip with ``soft_fail``.
        Returns the call instead when the hang-up found it answered.
        """
        message = (
            f"Call {self.call_id} was not answered within {self.timeout:g}s "
            f"(last status: '{self._last_status or 'unknown'}')"
        )
        if self.hang_up_on_timeout:
            answered, said = self._hang_up()
            if answered is not None:
                return self._returned(answered)
            message += said
        self.log.warning("%s", message)
        if soft_fail:
            raise AirflowSkipException(message)
        raise AirflowSensorTimeout(message)
