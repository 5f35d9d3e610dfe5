"""Hook for VideoSDK's REST API: auth, and the calls the provider uses, sync and async, under one policy."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jwt

from airflow_provider_videosdk import __version__, conn_fields
from airflow_provider_videosdk._http import call_api
from airflow_provider_videosdk._http.body import ACCEPT_ENCODING
from airflow_provider_videosdk._http.config import VideoSDKConfig, read_config
from airflow_provider_videosdk._http.outbound_api import CLOCK_SKEW, ParticipantLookup, outbound_call_request
from airflow_provider_videosdk._http.policy import ApiRequest, Exchange, SendWatch, within
from airflow_provider_videosdk._http.rooms import create_room_request
from airflow_provider_videosdk._http.transport import SyncTransport
from airflow_provider_videosdk.calls import OutboundCall, SipCall
from airflow_provider_videosdk.destinations import check_destination
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.validation import clean_id, clean_path_id, mask_phone
from airflow_provider_videosdk.version_compat import BaseHook, aget_connection, mask_secret

if TYPE_CHECKING:
    import requests

    from airflow_provider_videosdk.hooks.async_client import AsyncVideoSDKClient

__all__ = ["CLOCK_SKEW", "HANG_UP_BUDGET", "TOKEN_PERMISSIONS", "VideoSDKHook"]

TOKEN_PERMISSIONS = ["allow_join", "allow_mod"]
#: Seconds a hang-up (``POST /v2/sip/call/end``) may take, retries included, before the next step goes on.
HANG_UP_BUDGET = 5.0


class VideoSDKHook(BaseHook):
    """
    Talks to VideoSDK's v2 REST API with a short-lived HS256 JWT minted from the connection.

    Every request goes through one policy (:mod:`.policy`): failures before anything was sent,
    429 and 503-with-``Retry-After`` are retried within the retry budget; a call that may have
    been placed is never resent. Each request has a wall-clock deadline (the ``timeout`` extra).

    :param videosdk_conn_id: a connection of type ``videosdk``: login = API key,
        password = API secret, host = API base URL (default ``https://api.videosdk.live``).
    :param retry_attempts: overrides the connection's ``retry_attempts`` extra.
    :param retry_max_wait: overrides the connection's ``retry_max_wait`` extra.
    """

    conn_name_attr = "videosdk_conn_id"
    default_conn_name = "videosdk_default"
    conn_type = "videosdk"
    hook_name = "VideoSDK"

    def __init__(
        self,
        videosdk_conn_id: str = default_conn_name,
        *,
        retry_attempts: int | None = None,
        retry_max_wait: float | None = None,
    ) -> None:
        super().__init__()
        self.videosdk_conn_id = videosdk_conn_id
        self._overrides = {"retry_attempts": retry_attempts, "retry_max_wait": retry_max_wait}
        self._config: VideoSDKConfig | None = None
        self._transport: SyncTransport | None = None
        self._token: str | None = None
        self._token_refresh_at = 0.0
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(videosdk_conn_id={self.videosdk_conn_id!r})"

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extras' form widgets (Airflow 2.11; 3.2+ reads ``conn-fields`` from the provider info)."""
        return conn_fields.connection_form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Labels, placeholders and hidden fields of the standard connection fields."""
        return conn_fields.ui_field_behaviour()

    # -- configuration and auth ------------------------------------------------------------------

    @property
    def config(self) -> VideoSDKConfig:
        """The connection's settings, read and checked once per hook."""
        if self._config is None:
            self._config = read_config(
                self.get_connection(self.videosdk_conn_id), self.videosdk_conn_id, self._overrides
            )
        return self._config

    async def aconfig(self) -> VideoSDKConfig:
        """:attr:`config`, read without blocking an event loop (for the triggerer)."""
        if self._config is None:
            conn = await aget_connection(self.videosdk_conn_id)
            self._config = read_config(conn, self.videosdk_conn_id, self._overrides)
        return self._config

    def get_token(self) -> str:
        """Return a valid token: the connection's pre-minted one, or a cached self-minted JWT."""
        cfg = self.config
        if cfg.token:
            return cfg.token
        with self._token_lock:
            now = time.time()
            if self._token is None or now >= self._token_refresh_at:
                iat = int(now)
                claims = {
                    "apikey": cfg.api_key,
                    "permissions": TOKEN_PERMISSIONS,
                    "version": 2,
                    "roles": ["crawler"],
                    "iat": iat,
                    "exp": iat + cfg.token_ttl,
                }
                token = jwt.encode(claims, cfg.api_secret or "", algorithm="HS256")
                mask_secret(token)
                self._token = token
                # Re-mint a little before expiry so a token never dies in flight.
                self._token_refresh_at = iat + cfg.token_ttl - min(60.0, cfg.token_ttl * 0.1)
            return self._token

    @staticmethod
    def default_headers() -> dict[str, str]:
        """Headers of every request but ``Authorization``."""
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            # Offered by both transports alike (left to the libraries, each offers its own list).
            "Accept-Encoding": ACCEPT_ENCODING,
            "User-Agent": f"airflow-provider-videosdk/{__version__}",
        }

    # -- HTTP ------------------------------------------------------------------------------------

    def get_conn(self) -> requests.Session:
        """The hook's one ``requests.Session``; its TCP connections are kept alive and reused."""
        return self._sync_transport().session

    def _sync_transport(self) -> SyncTransport:
        if self._transport is None:
            self._transport = SyncTransport(self.default_headers())
        return self._transport

    def close(self) -> None:
        """Close the session and its connections; the hook opens a new one if used again."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def send(
        self,
        request: ApiRequest,
        *,
        interrupt_is_outcome_unknown: bool = True,
        watch: SendWatch | None = None,
        budget: float | None = None,
    ) -> dict[str, Any]:
        """
        Send ``request`` under the retry policy and return its JSON object.

        :param interrupt_is_outcome_unknown: when an interruption (task timeout, termination)
            arrives while a non-idempotent request is in flight, raise
            :class:`VideoSDKOutcomeUnknownError` chained to it, so Airflow does not retry blindly.
            Set False where something else remembers the attempt (the task state store).
        :param watch: told, before the first byte of any attempt leaves, that VideoSDK may now
            have the request, and when an answer proves it did not (see :class:`SendWatch`).
        :param budget: seconds the whole request, retries included, may take at most.
        """
        cfg = within(self.config, budget)
        transport = self._sync_transport()
        exchange = Exchange(request, cfg, self.log, watch=watch)
        while True:
            timeout, progress = exchange.begin()
            try:
                response = transport.send(request, cfg.base_url + request.path, self.get_token(), timeout, progress)
            except Exception as exc:
                step = exchange.failed(progress, exc)
            except BaseException as exc:
                exchange.interrupted(progress, exc, outcome_unknown=interrupt_is_outcome_unknown)
                raise
            else:
                step = exchange.answered(response)
            if step.answer is not None:
                return step.answer
            time.sleep(step.retry_in)

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Shorthand for :meth:`send` of an :class:`ApiRequest` (``json``, ``params``, ``idempotent``, ...)."""
        return self.send(ApiRequest(method, path, **kwargs))

    # -- API -------------------------------------------------------------------------------------

    def phone_for_log(self, number: str) -> str:
        """A phone number or SIP URI as it may appear in logs (masked unless the connection says not)."""
        return number if self.config.log_full_numbers else mask_phone(number)

    def check_destination(self, to: str) -> None:
        """Refuse ``to`` unless the connection's allow-list (``allowed_destinations``) lets it be called."""
        check_destination("to", to, self.config.allowed_destinations, shown=self.phone_for_log(to))

    def outbound_call(
        self,
        call: OutboundCall | None = None,
        /,
        *,
        interrupt_is_outcome_unknown: bool = True,
        watch: SendWatch | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """
        Dial a callee through a SIP trunk into a meeting (``POST /v2/sip/outbound-call``); never resent.

        Pass an :class:`OutboundCall`, or its fields as keywords (``to``, ``display_name``,
        ``meeting_id``, ``trunk_id``, ``from_number``, ``participant_id``), all checked before
        anything is sent. Returns VideoSDK's answer, which holds ``participantId``.
        """
        call = call or OutboundCall.build(**fields)
        self.check_destination(call.to)
        # DEBUG: an INFO line costs more than the rest of the hook; callers log the outcome once per task.
        self.log.debug("Placing a SIP call to %s into meeting %s", self.phone_for_log(call.to), call.meeting_id)
        return self.send(
            outbound_call_request(call), interrupt_is_outcome_unknown=interrupt_is_outcome_unknown, watch=watch
        )

    # -- the call API (/v2/sip/call) ---------------------------------------------------------------

    def place_call(
        self,
        call: SipCall | None = None,
        /,
        *,
        interrupt_is_outcome_unknown: bool = True,
        watch: SendWatch | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """
        Place a call (``POST /v2/sip/call``) and return the call object (``id``, ``status``, ...); never resent.

        Pass a :class:`~airflow_provider_videosdk.calls.SipCall` or its fields as keywords, all
        checked before anything is sent. A participant id is generated when none is given, so that
        when the POST's outcome is unknown (5xx without ``Retry-After``, a dropped or cut answer, a
        read timeout) the call can be looked up (:meth:`find_call`) for up to the connection's
        ``reconcile_timeout`` seconds before :class:`VideoSDKOutcomeUnknownError` is raised.
        """
        call = call or SipCall.build(**fields)
        self.check_destination(call.to)
        placement = call_api.Placement(call)
        self.log.debug("Placing a call to %s into meeting %s", self.phone_for_log(call.to), call.meeting_id)
        try:
            answer = self.send(
                placement.request, interrupt_is_outcome_unknown=interrupt_is_outcome_unknown, watch=watch
            )
            return placement.answered(answer)
        except VideoSDKOutcomeUnknownError as exc:
            if not placement.reconcilable(exc):
                raise
            placement.looking_up(exc, self.config, self.log)
            found = self.find_placed_call(placement.call, placement.began)
            return placement.settle(exc, found, self.config, self.log)

    def find_placed_call(self, call: SipCall, began: float, *, window: float | None = None) -> dict[str, Any] | None:
        """
        The call one attempt placed (``call`` carries its token) in its meeting's calls, looked up
        for at most ``window`` seconds in all (default the connection's ``reconcile_timeout``): the
        window is absolute across pages and look-ups. ``began`` is when its POST began (Unix time);
        calls older than that, less the connection's ``clock_skew``, are not it. None when it did not
        appear in time.
        """
        reconciliation = call_api.Reconciliation(call, began, self.config, self.log, window)
        while (look_up := reconciliation.next_request()) is not None:
            request, budget = look_up
            try:
                reconciliation.feed(self.send(request, budget=budget))
            except VideoSDKError as exc:
                reconciliation.failed(exc)
            if reconciliation.found is not None:
                return reconciliation.found
            time.sleep(reconciliation.pause())
        return None

    def get_call(self, call_id: Any, *, budget: float | None = None) -> dict[str, Any]:
        """
        The call ``call_id`` (``GET /v2/sip/call/{id}``), with its ``status`` and ``timelog``.

        :param budget: seconds the read, retries included, may take at most.
        """
        request = call_api.get_call_request(call_id)
        return call_api.call_from_answer(self.send(request, budget=budget), request.where)

    def list_calls(
        self, room_id: Any = None, *, search: Any = None, since: float | None = None, budget: float | None = None
    ) -> list[dict[str, Any]]:
        """
        Every call that matches, from all pages (``GET /v2/sip/call``), newest first as VideoSDK lists them.

        :param room_id: only calls into this meeting (room).
        :param search: VideoSDK's free-text filter (to, from, room id).
        :param since: Unix time; only calls created since then.
        """
        listing = call_api.CallListing(room_id, search=search, since=since)
        while not listing.feed(self.send(listing.request(), budget=budget)):
            pass
        return listing.calls

    def find_call(
        self, meeting_id: Any, participant_id: Any, *, since: float | None = None, budget: float | None = None
    ) -> dict[str, Any] | None:
        """
        The newest call into ``meeting_id`` for ``participant_id`` created since ``since`` (less
        :data:`CLOCK_SKEW`), or None.
        """
        participant_id = clean_id("participant_id", participant_id)
        start = None if since is None else since - self.config.clock_skew
        calls = self.list_calls(meeting_id, since=start, budget=budget)
        return call_api.match_call(calls, participant_id, room_id=meeting_id)

    def end_call(self, call_id: Any, *, budget: float | None = None) -> dict[str, Any]:
        """
        Hang the call up (``POST /v2/sip/call/end``) and return the call; retried, as ending twice is harmless.

        :param budget: seconds the hang-up, retries included, may take at most.
        """
        request = call_api.end_call_request(call_id)
        return call_api.call_from_answer(self.send(request, budget=budget), request.where)

    def create_room(self, custom_room_id: Any = None) -> dict[str, Any]:
        """``POST /v2/rooms``; idempotent on ``custom_room_id``. Returns the room, with ``roomId``."""
        return self.send(create_room_request(custom_room_id))

    def validate_room(self, room_id: Any) -> bool:
        """True when the room exists (``GET /v2/rooms/validate/{roomId}``)."""
        room_id = quote(clean_path_id("room_id", room_id), safe="")
        try:
            self.request("GET", f"/v2/rooms/validate/{room_id}")
        except VideoSDKError as exc:
            if exc.status in (400, 404):
                return False
            raise
        return True

    def find_participant(
        self, meeting_id: Any, participant_id: Any, *, joined_after: float | None = None
    ) -> dict[str, Any] | None:
        """
        The participant ``participant_id`` if it joined meeting ``meeting_id`` after ``joined_after``.

        ``joined_after`` is a Unix time; a join up to :data:`CLOCK_SKEW` seconds earlier by
        VideoSDK's clock still counts. Reads at most :data:`MAX_SESSION_PAGES` pages of sessions
        and raises, rather than answer "not found", when there are more.
        """
        lookup = ParticipantLookup(meeting_id, participant_id, joined_after, self.config.clock_skew)
        while not lookup.feed(self.send(lookup.request())):
            pass
        return lookup.found

    def async_client(self) -> AsyncVideoSDKClient:
        """An async client for the triggerer: ``async with hook.async_client() as client: ...``."""
        from airflow_provider_videosdk.hooks.async_client import AsyncVideoSDKClient

        return AsyncVideoSDKClient(self)

    def test_connection(self) -> tuple[bool, str]:
        """Prove the key and secret with a read-only request; places no call."""
        try:
            self.validate_room("airflow-connection-test")
        except Exception as exc:
            return False, str(exc)
        return True, f"Connected to {self.config.base_url}; the credentials were accepted"
