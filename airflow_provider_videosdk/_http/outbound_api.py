"""
VideoSDK's outbound-call API (``POST /v2/sip/outbound-call``) and the meeting sessions that show
whether its callee joined, as requests and answers, free of I/O (shared by the sync hook and the
async client).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk import conn_fields
from airflow_provider_videosdk._http.call_api import parse_when
from airflow_provider_videosdk._http.errors import shape_error
from airflow_provider_videosdk._http.policy import ApiRequest
from airflow_provider_videosdk.exceptions import VideoSDKError
from airflow_provider_videosdk.validation import clean_id

if TYPE_CHECKING:
    from airflow_provider_videosdk.calls import OutboundCall

#: VideoSDK's clock and ours may disagree by this much when judging whether an answer is fresh (by
#: default: the connection's ``clock_skew`` extra sets it per connection).
CLOCK_SKEW: float = conn_fields.EXTRAS["clock_skew"].default
SESSIONS_PER_PAGE = 50
MAX_SESSION_PAGES = 20
CALL_UNKNOWN = "the call may or may not have been placed (check the meeting before calling again)"


def outbound_call_request(call: OutboundCall) -> ApiRequest:
    """The API request that places ``call``: never resent once it may have left."""
    return ApiRequest("POST", "/v2/sip/outbound-call", json=call.body(), require="participantId", unknown=CALL_UNKNOWN)


class ParticipantLookup:
    """
    Page through a meeting's sessions looking for a participant that joined after a given time.

    The I/O is the caller's (sync or async): ``while not lookup.feed(send(lookup.request())): pass``.
    """

    def __init__(
        self, meeting_id: Any, participant_id: Any, joined_after: float | None, skew: float = CLOCK_SKEW
    ) -> None:
        self.skew = skew
        self.meeting_id = clean_id("meeting_id", meeting_id)
        self.participant_id = clean_id("participant_id", participant_id)
        self.joined_after = joined_after
        self.page = 1
        self.found: dict[str, Any] | None = None

    def request(self) -> ApiRequest:
        """The request for the current page."""
        params = {"roomId": self.meeting_id, "page": self.page, "perPage": SESSIONS_PER_PAGE}
        return ApiRequest("GET", "/v2/sessions", params=params)

    def feed(self, answer: dict[str, Any]) -> bool:
        """Take one page's answer; True when the look-up is over (found, or no page left)."""
        where = "GET /v2/sessions"
        sessions = answer.get("data", [])
        if not isinstance(sessions, list):
            raise shape_error(where, f"'data' is {type(sessions).__name__}, not a list")
        for session in sessions:
            self.found = self._match(session, where)
            if self.found is not None:
                return True
        page_info = answer.get("pageInfo") or {}
        last_page = page_info.get("lastPage", 1) if isinstance(page_info, dict) else None
        if isinstance(last_page, bool) or not isinstance(last_page, int):
            raise shape_error(where, f"'pageInfo.lastPage' is {last_page!r}, not a page number")
        if self.page >= last_page:
            return True
        if self.page >= MAX_SESSION_PAGES:
            raise VideoSDKError(
                f"{where}: meeting {self.meeting_id} has {last_page} pages of sessions; read the first "
                f"{MAX_SESSION_PAGES} ({MAX_SESSION_PAGES * SESSIONS_PER_PAGE} sessions) without finding participant "
                f"{self.participant_id}, so whether it answered cannot be told. Use a fresh meeting per incident."
            )
        self.page += 1
        return False

    def _match(self, session: Any, where: str) -> dict[str, Any] | None:
        if not isinstance(session, dict):
            raise shape_error(where, f"a session is {type(session).__name__}, not an object")
        participants = session.get("participants") or []
        if not isinstance(participants, list):
            raise shape_error(where, f"'participants' is {type(participants).__name__}, not a list")
        for participant in participants:
            if not isinstance(participant, dict):
                raise shape_error(where, f"a participant is {type(participant).__name__}, not an object")
            if participant.get("participantId") != self.participant_id:
                continue
            if self.joined_after is None or self._joined_since(participant, session, where):
                return {**participant, "sessionId": session.get("id")}
        return None

    def _joined_since(self, participant: dict[str, Any], session: dict[str, Any], where: str) -> bool:
        timelog = participant.get("timelog") or []
        if not isinstance(timelog, list) or not all(isinstance(t, dict) for t in timelog):
            raise shape_error(where, "'timelog' is not a list of objects")
        starts = [t.get("start") for t in timelog if t.get("start") is not None] or [session.get("start")]
        cutoff = (self.joined_after or 0.0) - self.skew
        return any(start is not None and parse_time(start, where) >= cutoff for start in starts)


def parse_time(value: Any, where: str) -> float:
    """An ISO-8601 timestamp from VideoSDK as Unix time (UTC when it names no zone)."""
    if not isinstance(value, str):
        raise shape_error(where, f"a timestamp is {type(value).__name__}, not a string")
    when = parse_when(value)
    if when is None:
        raise shape_error(where, f"{value[:40]!r} is not an ISO-8601 timestamp")
    return when
