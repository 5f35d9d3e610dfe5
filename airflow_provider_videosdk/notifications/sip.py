"""Notifier that phones someone into a VideoSDK meeting when a task or DAG needs attention."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.calls import CALL_FIELDS, OutboundCall
from airflow_provider_videosdk.version_compat import BaseNotifier, notifier_init_args

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
    from airflow_provider_videosdk.version_compat import Context


class SipCallNotifier(BaseNotifier):
    """
    Place a SIP call into a VideoSDK meeting, for ``on_failure_callback``, ``on_retry_callback``,
    SLA-miss callbacks (Airflow 2) or deadline alerts (Airflow 3).

    The call goes through :meth:`VideoSDKHook.outbound_call`, which checks every field first.
    Fields are templated with the callback's context::

        on_failure_callback=SipCallNotifier(
            to="+14155550100",
            display_name="{{ dag.dag_id }}.{{ ti.task_id }} failed",
            meeting_id="incident-room",
            trunk_id="trunk_demo",
        )

    One instance may serve many tasks: each call renders a copy, so the templates stay.
    It phones **once per failed task**: in ``default_args``, 50 tasks failing in an outage place 50
    calls to the same person, and nothing escalates behind them. For an on-call rotation use
    :class:`~airflow_provider_videosdk.incidents.IncidentNotifier` (one incident however many tasks
    fail, escalated level by level; see docs/incidents.md).

    The fields that are not templates are checked when the DAG is parsed: a bad constant ``to`` is
    a DAG import error, not a page that never goes out.
    On Airflow 3 it also works in the triggerer (``async_notify``), e.g. for a deadline alert::

        DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=timedelta(minutes=30),
            callback=AsyncCallback(
                SipCallNotifier,
                kwargs={"to": ..., "display_name": "{{ dag_run.dag_id }} is late", ...},
            ),
        )

    (a deadline's context holds ``dag_run`` and ``deadline`` only, not ``dag`` or ``ti``).

    :param to: E.164 number or SIP URI to phone.
    :param display_name: the caller's name as shown in the meeting.
    :param meeting_id: the meeting the call joins.
    :param trunk_id: the SIP trunk to dial through.
    :param from_number: caller number, one of the trunk's numbers; default the trunk's first.
    :param participant_id: custom participant ID; VideoSDK generates one when omitted.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    """

    template_fields: Sequence[str] = CALL_FIELDS

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
        context: Context | None = None,
    ) -> None:
        super().__init__(*notifier_init_args(context))
        self.to, self.display_name, self.meeting_id = to, display_name, meeting_id
        self.trunk_id, self.from_number, self.participant_id = trunk_id, from_number, participant_id
        self.videosdk_conn_id = videosdk_conn_id
        OutboundCall.check_constants(type(self).__name__, **{name: getattr(self, name) for name in CALL_FIELDS})

    def __call__(self, *args: Any) -> None:
        # Airflow renders the template fields in place; render a copy so that the templates
        # survive for the next task this same instance is attached to.
        BaseNotifier.__call__(copy.copy(self), *args)

    def _rendered_call(self) -> OutboundCall:
        """The rendered fields, checked (on every Airflow: before 3.3 an empty rendering keeps the raw template)."""
        return OutboundCall.from_fields_of(self)

    def _log_placed(self, hook: VideoSDKHook, call: OutboundCall, answer: dict[str, Any]) -> None:
        self.log.info(
            "Phoned %s into meeting %s: participant %s",
            hook.phone_for_log(call.to),
            call.meeting_id,
            answer["participantId"],
        )

    def notify(self, context: Context) -> None:
        """Place the call (sync: task callbacks on the worker, DAG processor)."""
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        call = self._rendered_call()
        hook = VideoSDKHook(self.videosdk_conn_id)
        try:
            self._log_placed(hook, call, hook.outbound_call(call))
        finally:
            hook.close()

    async def async_notify(self, context: Context) -> None:
        """Place the call from the triggerer, natively async: no thread, the event loop never blocks."""
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        call = self._rendered_call()
        hook = VideoSDKHook(self.videosdk_conn_id)
        async with hook.async_client() as client:
            self._log_placed(hook, call, await client.outbound_call(call))


#: The notifier under the name the slack and pagerduty providers' convention gives it
#: (``send_slack_notification = SlackNotifier``): ``on_failure_callback=send_videosdk_notification(...)``.
send_videosdk_notification = SipCallNotifier
