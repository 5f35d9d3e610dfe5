"""
What both call operators share (:class:`CallOperatorBase`): ``skip_if_answered``, and exactly once across retries.

The operators themselves are in :mod:`airflow_provider_videosdk.operators.sip`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.calls import (
    SipCall,
    attempt_of,
    identified,
)
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.validation import clean_id, run_started_at
from airflow_provider_videosdk.version_compat import AirflowSkipException, BaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk._http.policy import SendWatch
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.version_compat import Context

# Key in the task state store (Airflow 3.3+) that remembers a call across the tries of a task instance.
PLACED_CALL_KEY = "videosdk_placed_call"
#: What ``skip_if_answered`` does when it cannot tell whether an earlier callee answered.
SKIP_ON_ERROR_CHOICES = ("call", "skip", "fail")
# The intent's states. "intended": written before anything is sent; nothing left yet, so a retry may
# dial. "sending": the first byte of the POST is about to leave; a retry must look the call up, never
# dial. "not_placed": the try ended and VideoSDK certainly placed nothing. "placed": the result is stored.
# ("dialling", which 0.1.0 wrote before the POST, means what "sending" means.)
INTENDED, SENDING, NOT_PLACED, PLACED = "intended", "sending", "not_placed", "placed"
MAY_HAVE_SENT = (SENDING, "dialling")


class CallOperatorBase(BaseOperator):
    """
    What both call operators share: ``skip_if_answered``, and exactly once across retries.

    Exactly once (Airflow 3.3+, the task state store): before anything can fail, the connection is
    read and the token minted; then the try writes its intent (``intended``), marks it ``sending``
    right before the first byte of the POST leaves, and stores the result after. A retry that finds
    a result returns it; one that finds ``sending`` looks the call up and never dials; one that
    finds ``intended`` or ``not_placed`` dials (nothing had left). Whatever ends a try, if no byte of
    it could have reached VideoSDK, it records ``not_placed``.

    Killed (marked failed, ``execution_timeout``) after VideoSDK placed its call but before the task
    ended, a :class:`SipCallOperator` hangs the call up unless it was answered (``on_kill``). A call
    whose POST was still in flight has no id yet and is left to the retry's look-up; the outbound-call
    API has no hang-up, so :class:`SipOutboundCallOperator` has nothing to end.
    """

    #: The call this try placed (call API only), for ``on_kill``.
    _placed_call_id: str | None = None

    def __init__(
        self,
        *,
        skip_if_answered: Sequence[str] | None = None,
        skip_if_answered_on_error: str = "call",
        videosdk_conn_id: str = "videosdk_default",
        redial_on_retry: bool = False,
        retry_attempts: int | None = None,
        retry_max_wait: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if skip_if_answered_on_error not in SKIP_ON_ERROR_CHOICES:
            raise VideoSDKInputError(
                f"skip_if_answered_on_error must be one of {', '.join(SKIP_ON_ERROR_CHOICES)}, "
                f"got {skip_if_answered_on_error!r}"
            )
        self.skip_if_answered = skip_if_answered
        # The tasks behind skip_if_answered's XComArgs: one that failed before VideoSDK answered has no
        # call id, but pushed its participant id before the POST.
        self._skip_sources = xcom_sources(skip_if_answered)
        self.skip_if_answered_on_error = skip_if_answered_on_error
        self.videosdk_conn_id = videosdk_conn_id
        self.redial_on_retry = redial_on_retry
        self.retry_attempts = retry_attempts
        self.retry_max_wait = retry_max_wait

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """
        Render, then register the callee with Airflow's secrets masker: the rendered-fields store and
        the task log then show ``***`` for the full number (it is personal data); the provider's own
        log lines show it masked (``+****0100``).
        """
        super().render_template_fields(context, jinja_env)
        to = getattr(self, "to", None)
        if isinstance(to, str) and to.strip():
            from airflow_provider_videosdk.version_compat import mask_secret

            mask_secret(to.strip())

    # -- what each operator defines --------------------------------------------------------------

    def _checked_call(self) -> Any:
        """The rendered call, checked (raises naming the first bad field)."""
        raise NotImplementedError

    def _place(
        self, hook: VideoSDKHook, call: Any, watch: SendWatch | None, interrupt_is_outcome_unknown: bool
    ) -> dict:
        """Place the call; returns the result to store and push (JSON-serialisable)."""
        raise NotImplementedError

    def _find_placed(self, hook: VideoSDKHook, call: Any, record: dict[str, Any]) -> dict[str, Any] | None:
        """The result of a call an earlier try began (intent ``sending``), if it can be found."""
        raise NotImplementedError

    def _finish(self, context: Context, result: dict[str, Any]) -> str:
        """Push the result's parts to XCom and return the ``return_value``."""
        raise NotImplementedError

    def on_kill(self) -> None:
        """Hang up the call this try placed, unless it was answered; never raises, takes a few seconds at most."""
        if self._placed_call_id is None:
            return
        from airflow_provider_videosdk.hang_up import hang_up_on_kill

        hang_up_on_kill(self.videosdk_conn_id, self._placed_call_id, created_after=None, log=self.log)

    def _for_this_attempt(self, call: Any) -> Any:
        """``call`` as this attempt sends it (the call API's carries a token unique to the attempt)."""
        return call

    @staticmethod
    def _announce(context: Context, participant_id: str | None) -> None:
        """
        Push the participant id before the POST, so that a later ``skip_if_answered`` can look the
        call up even if this task fails with its outcome unknown.
        """
        if participant_id:
            context["ti"].xcom_push(key="participant_id", value=participant_id)

    # -- the shared flow -----------------------------------------------------------------------------

    def execute(self, context: Context) -> str:
        """Check the rendered call; skip it if an earlier callee answered, else dial (once) and return its id."""
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        self._placed_call_id = None

        # Check every rendered value before looking anything up or sending anything.
        call = self._checked_call()
        earlier = self._earlier_calls(context)
        hook = VideoSDKHook(
            self.videosdk_conn_id, retry_attempts=self.retry_attempts, retry_max_wait=self.retry_max_wait
        )
        try:
            # Everything that can fail before dialling fails here, before any intent is written.
            hook.get_token()
            hook.check_destination(call.to)
            self._skip_if_answered(hook, call, earlier, context)
            store: Any = None if self.redial_on_retry else context.get("task_state_store")
            if store is None and not self.redial_on_retry and context["ti"].try_number > 1:
                self.log.warning(
                    "Try %d: this Airflow has no task state store, so whether an earlier try placed the call "
                    "cannot be known; dialling (every failure that may have placed it fails without retries).",
                    context["ti"].try_number,
                )
            if store is None:
                call = self._for_this_attempt(call)
                self._announce(context, call.participant_id)
                result = self._place(hook, call, None, True)
            else:
                result = self._place_once(hook, call, store, context)
        finally:
            hook.close()
        answer = self._finish(context, result)
        self._placed_call_id = None  # the call is handed on: killing this task no longer ends it
        return answer

    def _place_once(self, hook: VideoSDKHook, call: Any, store: Any, context: Context) -> dict[str, Any]:
        """Dial unless an earlier try of this task instance may have; the intent is written before the call."""
        from airflow_provider_videosdk._http.policy import SendWatch

        ti = context["ti"]
        record = store.get(PLACED_CALL_KEY)
        # A manual clear raises max_tries: that is a new request for a call, not a retry.
        if isinstance(record, dict) and record.get("max_tries") == ti.max_tries:
            state = record.get("state")
            if state == PLACED:
                self.log.info(
                    "The call was already placed on an earlier try (%s); not dialling again. "
                    "Set redial_on_retry=True to place a new call on every try.",
                    describe(stored_result(record)),
                )
                return stored_result(record)
            if state in MAY_HAVE_SENT:
                self._announce(context, record.get("participant_id"))
                return self._recover(hook, call, record)
            if state in (INTENDED, NOT_PLACED):
                self.log.info("Try %s sent nothing to VideoSDK; dialling", record.get("try_number"))
        call = self._for_this_attempt(identified(call))
        intent = {
            "state": INTENDED,
            "participant_id": call.participant_id,
            "attempt": attempt_of(call) if isinstance(call, SipCall) else None,
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
        self._announce(context, call.participant_id)

        def record_progress(may_have_arrived: bool) -> None:
            store.set(PLACED_CALL_KEY, {**intent, "state": SENDING if may_have_arrived else INTENDED})

        watch = SendWatch(on_change=record_progress)
        try:
            result = self._place(hook, call, watch, False)
        except BaseException:
            if not watch.may_have_arrived:  # nothing VideoSDK could have acted on: the next try dials
                try:
                    store.set(PLACED_CALL_KEY, {**intent, "state": NOT_PLACED})
                except Exception as exc:
                    self.log.warning("Could not record that the call was not placed (%s)", type(exc).__name__)
            raise
        try:
            store.set(PLACED_CALL_KEY, {**intent, "state": PLACED, "result": result})
        except Exception:
            self.log.warning("The call was placed but its result could not be stored; a retry will look it up")
        return result

    def _recover(self, hook: VideoSDKHook, call: Any, record: dict[str, Any]) -> dict[str, Any]:
        """An earlier try's POST may have reached VideoSDK and it died before recording the result: find it."""
        participant_id = str(record.get("participant_id"))
        self.log.warning(
            "Try %s began this call (participant %s) and may have sent it, but did not record the result; "
            "looking for it in meeting %s",
            record.get("try_number"),
            participant_id,
            call.meeting_id,
        )
        found = self._find_placed(hook, call, record)
        if found is not None:
            self.log.info("Found it: the earlier try placed the call (%s); not dialling again", describe(found))
            return found
        raise VideoSDKOutcomeUnknownError(
            f"An earlier try may have placed this call (participant {participant_id}) and was interrupted before "
            f"VideoSDK answered; it cannot be found in meeting {call.meeting_id}, so whether the phone rang cannot "
            "be told. Not dialling again; set redial_on_retry=True to dial on every try."
        )

    # -- skip_if_answered ------------------------------------------------------------------------

    def _earlier_calls(self, context: Context) -> list[str]:
        value = self.skip_if_answered
        if value is None:
            return []
        if isinstance(value, str) or not all(isinstance(v, str) or v is None for v in value):
            raise VideoSDKInputError(
                "skip_if_answered must be a list of call or participant IDs, e.g. [call_primary.output]"
            )
        earlier = []
        for index, item in enumerate(value):
            source = self._skip_sources[index] if index < len(self._skip_sources) else None
            if item is None and source is not None:
                # Its task has no call id: it failed, perhaps after the POST left ("outcome unknown").
                item = context["ti"].xcom_pull(task_ids=source, key="participant_id")
                if item is not None:
                    self.log.info("Task %s returned no call id; looking its call up by participant %s", source, item)
            # An earlier call that was never attempted has no ID at all: it cannot have answered.
            if item is not None:
                earlier.append(clean_id("skip_if_answered", item))
        return earlier

    def _skip_if_answered(self, hook: VideoSDKHook, call: Any, earlier: list[str], context: Context) -> None:
        """Skip if an earlier call was answered; hang up earlier calls still ringing."""
        since = run_started_at(context)
        for earlier_id in earlier:
            try:
                answered = self._answered(hook, call, earlier_id, since)
            except VideoSDKInputError:
                raise
            except VideoSDKError as exc:
                self._cannot_tell(hook, call, earlier_id, exc)
                continue
            if answered is not None:
                message = f"{answered}; not phoning {hook.phone_for_log(call.to)}"
                self.log.info("%s", message)
                raise AirflowSkipException(message)

    def _answered(self, hook: VideoSDKHook, call: Any, earlier_id: str, since: float | None) -> str | None:
        """Why ``earlier_id`` (a call id, else a participant id) counts as answered, or None."""
        from airflow_provider_videosdk.call_watch import judge

        earlier_call: dict[str, Any] | None
        try:
            earlier_call = hook.get_call(earlier_id)
        except VideoSDKError as exc:
            if exc.status not in (400, 404):
                raise
            # Not a call id: a participant id, of the outbound-call API or of a call whose task had no answer.
            earlier_call = hook.find_call(call.meeting_id, earlier_id, since=since)
        if earlier_call is not None:
            call_id = str(earlier_call["id"])
            # The status sensor's reading of a call: the same freshness rule and status table.
            look = judge(earlier_call, call_id, created_after=since, skew=hook.config.clock_skew)
            if look.outcome == "stale":
                self.log.info("%s", look.message)
            elif look.outcome == "answered":
                return f"Call {call_id} was already answered (status {look.status})"
            elif look.outcome in ("pending", "unknown"):
                return self._hang_up_earlier(hook, call, call_id, look.status)
            return None
        found = hook.find_participant(call.meeting_id, earlier_id, joined_after=since)
        if found is None:
            return None
        return (
            f"Participant {earlier_id} already answered: it joined meeting {call.meeting_id} "
            f"(session {found.get('sessionId')})"
        )

    def _hang_up_earlier(self, hook: VideoSDKHook, call: Any, call_id: str, status: str) -> str | None:
        """
        Hang up an earlier call still ringing, within :data:`HANG_UP_BUDGET`, and read what the hang-up
        met: why it counts as answered (it was picked up as it was hung up), or None.
        """
        from airflow_provider_videosdk.call_watch import judge_hang_up
        from airflow_provider_videosdk.hooks.videosdk import HANG_UP_BUDGET

        self.log.info("Call %s is still %s: hanging it up before phoning the next person", call_id, status)
        deadline = time.monotonic() + HANG_UP_BUDGET
        ended: dict[str, Any] | None = None
        try:
            ended = hook.end_call(call_id, budget=HANG_UP_BUDGET)
        except VideoSDKError as exc:
            self.log.warning(
                "Could not hang call %s up within %gs (%s); phoning %s anyway",
                call_id,
                HANG_UP_BUDGET,
                exc,
                hook.phone_for_log(call.to),
            )
            if (left := deadline - time.monotonic()) > 0.5:
                try:
                    ended = hook.get_call(call_id, budget=left)
                except VideoSDKError:
                    ended = None
        look = judge_hang_up(ended, call_id)
        if look.outcome == "answered":
            self.log.warning("%s", look.message)
            return look.message
        return None

    def _cannot_tell(self, hook: VideoSDKHook, call: Any, earlier_id: str, exc: VideoSDKError) -> None:
        choice = self.skip_if_answered_on_error
        reason = f"Could not tell whether {earlier_id} answered ({exc})"
        if choice == "fail":
            raise VideoSDKError(f"{reason}; skip_if_answered_on_error='fail'") from exc
        if choice == "skip":
            self.log.warning("%s; skipping this call (skip_if_answered_on_error='skip')", reason)
            raise AirflowSkipException(f"{reason}; skipped (skip_if_answered_on_error='skip')")
        self.log.warning(
            "%s; phoning %s anyway (skip_if_answered_on_error='call': an extra call costs a minute, "
            "a skipped one leaves the incident unattended)",
            reason,
            hook.phone_for_log(call.to),
        )


def xcom_sources(value: Any) -> list[str | None]:
    """For each item of ``skip_if_answered``: the task id behind it when it is a task's ``return_value`` XComArg."""
    if value is None or isinstance(value, str) or not isinstance(value, (list, tuple)):
        return []
    sources: list[str | None] = []
    for item in value:
        operator = getattr(item, "operator", None)
        is_return_value = getattr(item, "key", None) == "return_value"
        sources.append(getattr(operator, "task_id", None) if is_return_value else None)
    return sources


def stored_result(record: dict[str, Any]) -> dict[str, Any]:
    """A stored ``placed`` record's result (0.1.0 kept only the participant id)."""
    result = record.get("result")
    return dict(result) if isinstance(result, dict) else {"participant_id": str(record["participant_id"])}


def describe(result: dict[str, Any]) -> str:
    """A placed call in words: its call id and participant, or the participant alone."""
    if "call_id" in result:
        return f"call {result['call_id']}, participant {result.get('participant_id')}"
    return f"participant {result.get('participant_id')}"
