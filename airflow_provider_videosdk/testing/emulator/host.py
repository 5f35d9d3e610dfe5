"""
What the request handlers may use of the emulator: one interface, so that they need not import its core.

:class:`~airflow_provider_videosdk.testing.emulator.core.VideoSDKEmulator` is the one implementation;
the HTTP handler, the API routes and the control routes are written against this protocol.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable

    from airflow_provider_videosdk.testing.emulator.faults import Fault
    from airflow_provider_videosdk.testing.emulator.state import RecordedRequest, State


class Emulator(Protocol):
    """The emulator as its handlers see it: settings, the shared state under its lock, and the routes."""

    api_key: str
    api_secret: str
    control_token: str
    answer_after: float | None
    trunks: dict[str, list[str]]
    gzip_over: int | None
    #: Guards :attr:`state`; the handlers run on the server's threads.
    lock: threading.Lock
    state: State

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Calls placed through the outbound-call API."""

    @property
    def sip_calls(self) -> list[dict[str, Any]]:
        """Calls placed through ``POST /v2/sip/call``, oldest first."""

    @property
    def placed_calls(self) -> list[dict[str, Any]]:
        """Every call placed, through either API, oldest first, in one shape."""

    @property
    def call_ends(self) -> list[dict[str, Any]]:
        """Every ``POST /v2/sip/call/end`` received."""

    @property
    def tokens(self) -> set[str]:
        """Every token presented to the API."""

    def add_fault(self, **kwargs: Any) -> None:
        """Queue a fault."""

    def add_session(
        self,
        meeting_id: str,
        participants: Iterable[tuple[str, float]] = (),
        *,
        start: float | None = None,
        end: float | None = None,
    ) -> dict[str, Any]:
        """Record a meeting session."""

    def set_answer(self, to: str, after: float | None) -> None:
        """Set when a callee answers."""

    def set_callee(self, to: str, behaviour: str | None, after: float | None = None) -> None:
        """Script a callee."""

    def set_call_api(self, **options: Any) -> None:
        """Set how the call API behaves."""

    def reset(self) -> None:
        """Forget every request, call and fault."""

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The queued fault for this request, if any (consumed)."""

    def take(self, wanted: Callable[[Fault], bool]) -> Fault | None:
        """The first queued fault ``wanted`` accepts, if any (consumed)."""

    def record(self, request: RecordedRequest) -> None:
        """Record a request and the token it carried."""

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        """Route a request to its API: the status and the JSON answer."""
