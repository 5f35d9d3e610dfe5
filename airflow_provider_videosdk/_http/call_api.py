"""
VideoSDK's call API (``/v2/sip/call``) as requests and answers, free of I/O.

The sync hook and the async client send what is built here through the same policy, so both
place, read, list and end calls identically. Placing a call is never resent once a byte of it may
have left; reading and ending a call may be retried.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_videosdk._http.errors import shape_error
from airflow_provider_videosdk._http.policy import ApiRequest
from airflow_provider_videosdk.calls import attempt_of, call_id_of, identified, with_attempt
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.validation import clean_path_id, clean_text

if TYPE_CHECKING:
    from airflow_provider_videosdk._http.config import VideoSDKConfig
    from airflow_provider_videosdk.calls import SipCall

CALL_PATH = "/v2/sip/call"
CALLS_PER_PAGE = 50
#: More pages than this, and a look-up gives up rather than answer "not found".
MAX_CALL_PAGES = 20
#: Seconds between look-ups while reconciling a call whose POST had no clear answer.
RECONCILE_INTERVAL = 1.0
PLACE_UNKNOWN = "the call may or may not have been placed"


def place_call_request(call: SipCall) -> ApiRequest:
    """``POST /v2/sip/call``: never resent once it may have left."""
    return ApiRequest("POST", CALL_PATH, json=call.body(), unknown=PLACE_UNKNOWN)


def placed_call_of(answer: dict[str, Any], where: str) -> dict[str, Any]:
    """
    The call a 2xx to ``POST /v2/sip/call`` answered with. An answer that does not identify the call
    (no ``data``, no id) proves nothing either way: outcome unknown, to be reconciled, never retried.
    """
    try:
        return call_from_answer(answer, where)
    except VideoSDKError as exc:
        raise VideoSDKOutcomeUnknownError(
            f"{exc}. {PLACE_UNKNOWN[:1].upper()}{PLACE_UNKNOWN[1:]}; not resent, to avoid doing it twice",
            status=exc.status,
            request_id=exc.request_id,
        ) from None


def get_call_request(call_id: Any) -> ApiRequest:
    """``GET /v2/sip/call/{id}``."""
    return ApiRequest("GET", f"{CALL_PATH}/{quote(clean_path_id('call_id', call_id), safe='')}")


def end_call_request(call_id: Any) -> ApiRequest:
    """``POST /v2/sip/call/end``: hanging up twice does no harm, so it may be retried."""
    body = {"callId": clean_path_id("call_id", call_id)}
    return ApiRequest(
        "POST", f"{CALL_PATH}/end", json=body, idempotent=True, unknown="the call may or may not have been ended"
    )


def call_from_answer(answer: dict[str, Any], where: str) -> dict[str, Any]:
    """The call object of a ``{data: call}`` answer (or a bare call), with ``id`` set even if it said ``callId``."""
    call = answer.get("data", answer)
    if not isinstance(call, dict):
        raise shape_error(where, f"'data' is {type(call).__name__}, not a call object")
    return normalize_call(call, where)


def normalize_call(call: Any, where: str) -> dict[str, Any]:
    """A call object with its id under ``id``; raises if it has none."""
    if not isinstance(call, dict):
        raise shape_error(where, f"a call is {type(call).__name__}, not an object")
    call_id = call_id_of(call)
    if call_id is None:
        raise shape_error(where, "a call has no 'id' (nor 'callId')")
    return call if call.get("id") == call_id else {**call, "id": call_id}


def participant_id_of(call: dict[str, Any]) -> str | None:
    """The participant id a call object carries (``participant.id``, or ``participantId``)."""
    participant = call.get("participant")
    value = participant.get("id") if isinstance(participant, dict) else call.get("participantId")
    return value if isinstance(value, str) and value else None


def call_created_at(call: dict[str, Any]) -> float | None:
    """When the call was created, as Unix time (``createdAt``, ``start`` or its first timelog entry), if told."""
    candidates = [call.get("createdAt"), call.get("start")]
    timelog = call.get("timelog")
    if isinstance(timelog, list) and timelog and isinstance(timelog[0], dict):
        candidates += [timelog[0].get("timestamp"), timelog[0].get("time")]
    for value in candidates:
        when = parse_when(value)
        if when is not None:
            return when
    return None


def parse_when(value: Any) -> float | None:
    """An ISO-8601 string (UTC when it names no zone) or epoch milliseconds as Unix time; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value / 1000.0
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
    return None


class CallListing:
    """
    Page through ``GET /v2/sip/call``: every page, in any of the formats VideoSDK uses.

    Pages come as ``{data, pageInfo: {lastPage}}``, ``{data, pagination: {totalPages}}`` or a bare
    list. The I/O is the caller's: ``while not listing.feed(send(listing.request())): pass``.
    """

    def __init__(self, room_id: Any = None, *, search: Any = None, since: float | None = None) -> None:
        self.params: dict[str, Any] = {"perPage": CALLS_PER_PAGE}
        if room_id is not None:
            self.params["roomId"] = clean_path_id("room_id", room_id)
        if search is not None:
            self.params["search"] = clean_text("search", search)
        if since is not None:
            self.params["startDate"] = int(since * 1000)
        self.since = since
        self.page = 1
        self.calls: list[dict[str, Any]] = []

    def request(self) -> ApiRequest:
        """The request for the current page."""
        return ApiRequest("GET", CALL_PATH, params={**self.params, "page": self.page}, allow_list=True)

    def feed(self, answer: Any) -> bool:
        """Take one page; True when every page has been read."""
        where = f"GET {CALL_PATH}"
        items, last_page = _page(answer, where)
        for item in items:
            call = normalize_call(item, where)
            created = call_created_at(call)
            # The filter is also applied here: an API that ignores startDate must not hand back old calls.
            if self.since is None or created is None or created >= self.since:
                self.calls.append(call)
        if self.page >= last_page:
            return True
        if self.page >= MAX_CALL_PAGES:
            raise VideoSDKError(
                f"{where}: {last_page} pages of calls match; read the first {MAX_CALL_PAGES} "
                f"({MAX_CALL_PAGES * CALLS_PER_PAGE} calls) and stopped. Narrow the look-up (a room, a start time)."
            )
        self.page += 1
        return False


def _page(answer: Any, where: str) -> tuple[list[Any], int]:
    """A page's items and the number of the last page."""
    if isinstance(answer, list):  # a bare list: the only page
        return answer, 1
    items = answer.get("data", [])
    if not isinstance(items, list):
        raise shape_error(where, f"'data' is {type(items).__name__}, not a list")
    for key, last in (("pageInfo", "lastPage"), ("pagination", "totalPages")):
        info = answer.get(key)
        if isinstance(info, dict):
            value = info.get(last, 1)
            if isinstance(value, bool) or not isinstance(value, int):
                raise shape_error(where, f"'{key}.{last}' is {value!r}, not a page number")
            return items, max(value, 1)
    return items, 1


def match_call(
    calls: list[dict[str, Any]], participant_id: str, *, room_id: str | None = None
) -> dict[str, Any] | None:
    """The newest call for ``participant_id`` (into ``room_id``, when given) among ``calls``, if any."""
    matching = [
        c for c in calls if participant_id_of(c) == participant_id and (room_id is None or c.get("roomId") == room_id)
    ]
    return max(matching, key=lambda c: call_created_at(c) or 0.0) if matching else None


def is_ours(found: dict[str, Any], call: SipCall, not_before: float) -> bool:
    """
    True when ``found`` (a call object from a list) is the call this attempt placed: it carries the
    attempt's token, is in the same room, to the same number, for the same participant, and was
    created no earlier than ``not_before`` (when the POST began, less the clock-skew allowance).
    """
    token = attempt_of(call)
    created = call_created_at(found)
    return (
        token is not None
        and attempt_of(found) == token
        and found.get("roomId") == call.meeting_id
        and found.get("to") == call.to
        and participant_id_of(found) == call.participant_id
        and created is not None
        and created >= not_before
    )


class CallSearch:
    """
    Look for the call one attempt placed (:func:`is_ours`) page by page, stopping at the first page that holds it.

    The page cap (:data:`MAX_CALL_PAGES`) counts only when nothing matched: a call found on a page
    already read is found. The I/O is the caller's: ``while not search.feed(send(search.request())): pass``.
    """

    def __init__(self, call: SipCall, not_before: float) -> None:
        self.call = call
        self.not_before = not_before
        self.listing = CallListing(call.meeting_id, since=not_before)
        self.found: dict[str, Any] | None = None

    def request(self) -> ApiRequest:
        """The request for the current page."""
        return self.listing.request()

    def feed(self, answer: Any) -> bool:
        """Take one page; True when the search is over (found, or no page left)."""
        where = f"GET {CALL_PATH}"
        items, last_page = _page(answer, where)
        for item in items:
            found = normalize_call(item, where)
            if is_ours(found, self.call, self.not_before):
                self.found = found
                return True
        page = self.listing.page
        if page >= last_page:
            return True
        if page >= MAX_CALL_PAGES:
            raise VideoSDKError(
                f"{where}: {last_page} pages of calls since the POST began; read the first {MAX_CALL_PAGES} "
                f"({MAX_CALL_PAGES * CALLS_PER_PAGE} calls) without finding the call, so whether it was placed "
                "cannot be told. Use a fresh meeting per incident."
            )
        self.listing.page += 1
        return False


class Placement:
    """
    Placing one call: the request, how to read its answer, and what to say when its outcome is unknown.

    The I/O is the caller's (sync or async): send :attr:`request`; on success :meth:`answered`; on
    :class:`VideoSDKOutcomeUnknownError`, unless not :meth:`reconcilable`, look the call up
    (:class:`Reconciliation`) and :meth:`settle` with what was found.
    """

    def __init__(self, call: SipCall) -> None:
        self.call = with_attempt(identified(call))
        #: When the POST began (Unix time): calls older than this (less the clock skew) are not it.
        self.began = time.time()
        self.request = place_call_request(self.call)

    def answered(self, answer: dict[str, Any]) -> dict[str, Any]:
        """The placed call, from the POST's answer."""
        return placed_call_of(answer, self.request.where)

    @staticmethod
    def reconcilable(error: VideoSDKOutcomeUnknownError) -> bool:
        """
        False when an interruption (task timeout, termination) caused the error: the task must stop
        now, and a later try (or the intent store) takes over.
        """
        cause = error.__cause__
        return cause is None or isinstance(cause, Exception)

    def looking_up(self, error: VideoSDKOutcomeUnknownError, config: VideoSDKConfig, log: Any) -> None:
        """Say that the call is being looked up, for how long."""
        if config.reconcile_timeout > 0:
            log.warning("%s. Looking the call up for up to %gs before giving up.", error, config.reconcile_timeout)

    def settle(
        self,
        error: VideoSDKOutcomeUnknownError,
        found: dict[str, Any] | None,
        config: VideoSDKConfig,
        log: Any,
    ) -> dict[str, Any]:
        """The call the look-up found; raises ``error``, with what was looked for, when it found none."""
        call, window = self.call, config.reconcile_timeout
        if found is None:
            looked = f"; no call for participant {call.participant_id} appeared in meeting {call.meeting_id}'s calls"
            looked += f" within {window:g}s" if window > 0 else " (reconcile_timeout is 0: not looked up)"
            raise VideoSDKOutcomeUnknownError(
                f"{error}{looked}", status=error.status, api_message=error.api_message, request_id=error.request_id
            ) from None
        log.warning(
            "VideoSDK did place the call: found call %s (participant %s, status %s) in meeting %s; not dialling again",
            found["id"],
            call.participant_id,
            found.get("status"),
            call.meeting_id,
        )
        return found


class Reconciliation:
    """
    Look for the call one attempt placed for at most ``reconcile_timeout`` seconds in all: the window
    is absolute across pages and look-ups, and a failed look-up is tried again after a pause.

    The I/O is the caller's (sync or async)::

        while (look_up := reconciliation.next_request()) is not None:
            request, budget = look_up
            try:
                reconciliation.feed(send(request, budget=budget))
            except VideoSDKError as exc:
                reconciliation.failed(exc)
            if reconciliation.found is not None:
                return reconciliation.found
            sleep(reconciliation.pause())
        return None
    """

    def __init__(
        self, call: SipCall, began: float, config: VideoSDKConfig, log: Any, window: float | None = None
    ) -> None:
        self.call = call
        self.not_before = began - config.clock_skew
        self.deadline = time.monotonic() + (config.reconcile_timeout if window is None else window)
        self.log = log
        self.search: CallSearch | None = None
        self.found: dict[str, Any] | None = None

    def next_request(self) -> tuple[ApiRequest, float] | None:
        """The next page to read and the seconds left for it; None when the window is over."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return None
        if self.search is None:
            self.search = CallSearch(self.call, self.not_before)
        return self.search.request(), left

    def feed(self, answer: Any) -> None:
        """Take one page; a search that read its last page without the call starts again after a pause."""
        if self.search is not None and self.search.feed(answer):
            self.found = self.search.found
            self.search = None

    def failed(self, error: VideoSDKError) -> None:
        """A look-up failed: say so and start again after a pause."""
        self.log.warning("Looking the call up failed (%s); trying again", error)
        self.search = None

    def pause(self) -> float:
        """Seconds to wait before the next request: none between pages, a while between look-ups."""
        if self.search is not None:
            return 0.0
        return max(0.0, min(RECONCILE_INTERVAL, self.deadline - time.monotonic()))
