"""
The escalation DAG's own tasks: the gate before each level, a level's first answer, and the summary.

The calls themselves are :class:`~airflow_provider_videosdk.operators.sip.SipCallOperator` and
:class:`~airflow_provider_videosdk.sensors.sip.SipCallStatusSensor`; these tasks decide, through
``incidents.decide``, what their results mean. Hooks are built in ``execute()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.exceptions import VideoSDKError
from airflow_provider_videosdk.incidents import decide
from airflow_provider_videosdk.operators.sip import SipCallOperator, _call_result
from airflow_provider_videosdk.version_compat import AirflowFailException, AirflowSkipException, BaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk._http.policy import SendWatch
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.incidents.policy import EscalationPolicy, Step
    from airflow_provider_videosdk.version_compat import Context

UI_COLOR = "#f4a261"


def incident_key(context: Context) -> str:
    """The incident's key, as the notifier passed it in the run's conf (else the run id)."""
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    return str(conf.get("incident_key") or context["run_id"])


class _EscalationTask(BaseOperator):
    """What the escalation's own tasks share: the policy and the step they belong to."""

    ui_color = UI_COLOR

    def __init__(self, *, policy: EscalationPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    def _hook(self) -> VideoSDKHook:
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        return VideoSDKHook(self.policy.videosdk_conn_id)

    def _acknowledged(self, context: Context, steps: Sequence[Step]) -> tuple[Step, Any] | None:
        """The first of ``steps`` whose acknowledgement task has a result, with that result."""
        ti = context["ti"]
        for step in steps:
            result = ti.xcom_pull(task_ids=decide.ack_task_id(self.policy, step))
            if result is not None:
                return step, result
        return None


class EscalationGateOperator(_EscalationTask):
    """
    Runs before a level (``trigger_rule="all_done"``): skipped, and the level with it, once an
    earlier level acknowledged the incident; otherwise the level is phoned.
    """

    def __init__(self, *, step: Step, earlier: Sequence[Step], **kwargs: Any) -> None:
        super().__init__(trigger_rule="all_done", **kwargs)
        self.step, self.earlier = step, list(earlier)

    def execute(self, context: Context) -> None:
        """Skip when acknowledged already, else let the level's calls run."""
        found = self._acknowledged(context, self.earlier)
        if found is not None:
            raise AirflowSkipException(
                f"Incident {incident_key(context)} was acknowledged at {found[0].group_id}: "
                f"not phoning {self.step.group_id}"
            )
        self.log.info("Incident %s: nobody has acknowledged yet; phoning %s", incident_key(context), self.step.group_id)


class FirstAnswerOperator(_EscalationTask):
    """
    Runs as soon as one of a level's calls was answered (``trigger_rule="one_success"``): finds the
    first to answer and hangs up the level's other calls still ringing. Returns
    ``{"callee": index, "call_id": id}``, which acknowledges the incident with ``ack="answer"``.
    """

    def __init__(self, *, step: Step, **kwargs: Any) -> None:
        super().__init__(trigger_rule="one_success", **kwargs)
        self.step = step

    def execute(self, context: Context) -> dict[str, Any]:
        """Read the level's calls, name the winner, hang up the rest."""
        # Pulled here, not passed as XComArgs: those would make the calls upstream, and "one_success"
        # would then run this as soon as a call was placed instead of answered.
        call_ids = [
            context["ti"].xcom_pull(task_ids=decide.call_task_id(self.step, i))
            for i in range(len(self.step.level.callees))
        ]
        hook = self._hook()
        try:
            calls = [self._get(hook, call_id) for call_id in call_ids]
            winner, ringing = decide.first_answer(calls)
            if winner is None:
                raise VideoSDKError(f"None of {self.step.group_id}'s calls shows an answer: escalating")
            for index in ringing:
                self._hang_up(hook, str(call_ids[index]), index, winner)
            callee = hook.phone_for_log(self.step.level.callees[winner])
        finally:
            hook.close()
        self.log.info("%s answered first (call %s)", callee, call_ids[winner])
        return {"callee": winner, "call_id": str(call_ids[winner])}

    def _get(self, hook: VideoSDKHook, call_id: Any) -> dict[str, Any] | None:
        if call_id is None:
            return None
        try:
            return hook.get_call(call_id)
        except VideoSDKError as exc:
            self.log.warning("Could not read call %s: %s", call_id, exc)
            return None

    def _hang_up(self, hook: VideoSDKHook, call_id: str, index: int, winner: int) -> None:
        callee, first = (hook.phone_for_log(self.step.level.callees[i]) for i in (index, winner))
        try:
            hook.end_call(call_id)
            self.log.info("Hung up %s (call %s): %s answered first", callee, call_id, first)
        except VideoSDKError as exc:
            self.log.warning("Could not hang up %s (call %s): %s", callee, call_id, exc)


class IncidentSummaryOperator(_EscalationTask):
    """
    The last task (``trigger_rule="all_done"``): logs who was phoned when, each call's final status
    and who acknowledged; hangs up any call still ringing; fails the run with "nobody acknowledged
    incident <key>" when nobody did.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trigger_rule="all_done", **kwargs)

    def execute(self, context: Context) -> dict[str, Any]:
        """Summarise the escalation; fail it if nobody acknowledged."""
        key, ti = incident_key(context), context["ti"]
        steps = list(self.policy.steps())
        hook = self._hook()
        rows: list[decide.CallRow] = []
        try:
            found = self._acknowledged(context, steps)
            for step in steps:
                callees = [hook.phone_for_log(c) for c in step.level.callees]
                for index, callee in enumerate(callees):
                    call_id = ti.xcom_pull(task_ids=decide.call_task_id(step, index))
                    rows.append(self._row(hook, step, callee, call_id))
            acked_by = None
            if found is not None:
                step, result = found
                acked_by = decide.acknowledger(
                    self.policy.ack, step, result, [hook.phone_for_log(c) for c in step.level.callees]
                )
        finally:
            hook.close()
        text = decide.summary_text(key, rows, acked_by)
        for line in text.splitlines():
            self.log.info("%s", line)
        if acked_by is None:
            raise AirflowFailException(f"nobody acknowledged incident {key}")
        return {"incident_key": key, "acknowledged_by": acked_by, "calls": sum(1 for r in rows if r.call_id)}

    def _row(self, hook: VideoSDKHook, step: Step, callee: str, call_id: Any) -> decide.CallRow:
        from airflow_provider_videosdk._http.call_api import call_created_at

        if call_id is None:
            return decide.CallRow(step.group_id, callee, None, None, "not phoned")
        try:
            call = hook.get_call(call_id)
            if decide.final_status(call) in ("initiated", "ringing"):
                call = hook.end_call(call_id)  # nothing may ring once the escalation is over
                self.log.info("Hung up call %s: still ringing as the escalation ended", call_id)
        except VideoSDKError as exc:
            self.log.warning("Could not read call %s: %s", call_id, exc)
            return decide.CallRow(step.group_id, callee, str(call_id), None, "unknown")
        return decide.CallRow(step.group_id, callee, str(call_id), call_created_at(call), decide.final_status(call))


class FirstLevelCallOperator(SipCallOperator):
    """
    A first-level call of the escalation: when the notifier that opened the incident phoned it
    already (the run's conf holds ``keys.FIRST_LEVEL_KEY``), adopt that call, found by the
    participant id and attempt token derived from the run id; dial only when it does not appear
    within ``keys.first_call_wait`` (the notifier stopped before placing it). Otherwise (a run
    started by hand) it dials as :class:`SipCallOperator` does.

    :param callee_index: the callee's place in the level (0-based), as the notifier numbers them.
    """

    def __init__(self, *, callee_index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.callee_index = callee_index
        self._phoned_from: float | None = None
        self._run_id = ""

    def execute(self, context: Context) -> str:
        """Note whether the notifier phoned this level, then place (or adopt) the call once."""
        from airflow_provider_videosdk.incidents.keys import FIRST_LEVEL_KEY

        conf = getattr(context.get("dag_run"), "conf", None) or {}
        since = conf.get(FIRST_LEVEL_KEY)
        self._phoned_from = float(since) if isinstance(since, (int, float)) else None
        self._run_id = str(context["run_id"])
        return super().execute(context)

    def _place(
        self, hook: VideoSDKHook, call: Any, watch: SendWatch | None, interrupt_is_outcome_unknown: bool
    ) -> dict:
        if self._phoned_from is not None:
            adopted = self._adopt(hook, call, self._phoned_from)
            if adopted is not None:
                return adopted
        return super()._place(hook, call, watch, interrupt_is_outcome_unknown)

    def _adopt(self, hook: VideoSDKHook, call: Any, opened_at: float) -> dict[str, Any] | None:
        """The notifier's call to this callee, looked up until ``first_call_wait``; None if it never appeared."""
        import dataclasses
        import time

        from airflow_provider_videosdk.calls import ATTEMPT_KEY
        from airflow_provider_videosdk.incidents.keys import first_call_ids, first_call_wait

        participant_id, attempt = first_call_ids(self._run_id, self.callee_index)
        sent = dataclasses.replace(
            call, participant_id=participant_id, metadata={**(call.metadata or {}), ATTEMPT_KEY: attempt}
        )
        cfg = hook.config
        until = first_call_wait(opened_at, cfg.timeout, cfg.clock_skew)
        # At least one whole look, however late this task runs: dialling a call that was placed phones twice.
        found = hook.find_placed_call(sent, opened_at, window=max(until - time.time(), cfg.timeout))
        if found is not None:
            result: dict[str, Any] = _call_result(found, sent)
            self.log.info(
                "The notifier that opened the incident placed this call already (call %s): adopting it",
                result["call_id"],
            )
            return result
        self.log.warning(
            "The notifier's call (participant %s) did not appear by %.0f s after the incident opened: dialling",
            participant_id,
            until - opened_at,
        )
        return None
