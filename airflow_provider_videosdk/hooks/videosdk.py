"""Hook for VideoSDK's REST API: connection settings, auth, and the calls the provider uses, sync and async."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import jwt

from airflow_provider_videosdk import __version__, conn_fields
from airflow_provider_videosdk.conn_fields import DEFAULT_BASE_URL, EXTRAS, ExtraField
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
from airflow_provider_videosdk.hooks.policy import ApiRequest, Exchange, Progress, shape_error
from airflow_provider_videosdk.hooks.transport import SyncTransport
from airflow_provider_videosdk.validation import (
    OutboundCall,
    clean_bool,
    clean_id,
    clean_int,
    clean_seconds,
    clean_text,
    mask_phone,
)
from airflow_provider_videosdk.version_compat import BaseHook, aget_connection, mask_secret

if TYPE_CHECKING:
    import requests

    from airflow_provider_videosdk.hooks.async_transport import AsyncTransport

TOKEN_PERMISSIONS = ["allow_join", "allow_mod"]
#: VideoSDK's clock and ours may disagree by this much when judging whether an answer is fresh.
CLOCK_SKEW = 30.0
SESSIONS_PER_PAGE = 50
MAX_SESSION_PAGES = 20
CALL_UNKNOWN = "the call may or may not have been placed (check the meeting before calling again)"


@dataclass(frozen=True)
class VideoSDKConfig:
    """Settings read from a ``videosdk`` connection (see :mod:`conn_fields`). Secrets are left out of ``repr``."""

    base_url: str
    api_key: str | None
    api_secret: str | None = field(repr=False)
    token: str | None = field(repr=False)
    timeout: float = EXTRAS["timeout"].default
    token_ttl: int = EXTRAS["token_ttl"].default
    retry_attempts: int = EXTRAS["retry_attempts"].default
    retry_max_wait: float = EXTRAS["retry_max_wait"].default
    retry_backoff: float = EXTRAS["retry_backoff"].default
    log_full_numbers: bool = False


def parse_extra(spec: ExtraField, value: Any) -> Any:
    """Check one connection extra against its description; raises naming the field."""
    if spec.type == "boolean":
        return clean_bool(spec.name, value)
    if spec.type == "integer":
        return clean_int(spec.name, value, minimum=int(spec.minimum or 0), maximum=int(spec.maximum or 2**31))
    if spec.type == "number":
        return clean_seconds(
            spec.name, value, maximum=spec.maximum or float("inf"), allow_zero=not spec.exclusive_minimum
        )
    return clean_text(f"{spec.name} (connection extra)", value, max_length=8192)


def read_config(conn: Any, conn_id: str, overrides: dict[str, Any] | None = None) -> VideoSDKConfig:
    """Read and check a connection's settings; ``overrides`` (e.g. an operator's) win over its extras."""
    extra = conn.extra_dejson
    values: dict[str, Any] = {}
    for spec in conn_fields.EXTRA_FIELDS:
        value = (overrides or {}).get(spec.name)
        if value is None:
            value = extra.get(spec.name, extra.get(f"extra__videosdk__{spec.name}"))
        if value not in ("", None):
            values[spec.name] = parse_extra(spec, value)
    token = values.pop("token", None)
    secret = conn.password or None
    for sensitive in (token, secret):
        if sensitive:
            mask_secret(sensitive)
    if token is None and not (conn.login and secret):
        raise VideoSDKInputError(
            f"Connection {conn_id!r} needs an API key (login) and API secret (password), "
            "or a pre-minted token in the 'token' extra"
        )
    allow_http = values.pop("allow_insecure_http", False)
    return VideoSDKConfig(
        base_url=_base_url(conn.host, conn.port, conn.schema, allow_http),
        api_key=conn.login or None,
        api_secret=secret,
        token=token,
        **values,
    )


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

    def send(self, request: ApiRequest, *, interrupt_is_outcome_unknown: bool = True) -> dict[str, Any]:
        """
        Send ``request`` under the retry policy and return its JSON object.

        :param interrupt_is_outcome_unknown: when an interruption (task timeout, termination)
            arrives while a non-idempotent request is in flight, raise
            :class:`VideoSDKOutcomeUnknownError` chained to it, so Airflow does not retry blindly.
            Set False where something else remembers the attempt (the task state store).
        """
        cfg = self.config
        transport = self._sync_transport()
        exchange = Exchange(request, cfg, self.log)
        while True:
            timeout = exchange.begin()
            progress = Progress()
            step: dict[str, Any] | float
            try:
                response = transport.send(request, cfg.base_url + request.path, self.get_token(), timeout, progress)
            except Exception as exc:
                step = exchange.failed(progress, exc)
            except BaseException as exc:
                exchange.interrupted(progress, exc, outcome_unknown=interrupt_is_outcome_unknown)
                raise
            else:
                step = exchange.answered(response)
            if isinstance(step, dict):
                return step
            time.sleep(step)

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Shorthand for :meth:`send` of an :class:`ApiRequest` (``json``, ``params``, ``idempotent``, ...)."""
        return self.send(ApiRequest(method, path, **kwargs))

    # -- API -------------------------------------------------------------------------------------

    def phone_for_log(self, number: str) -> str:
        """A phone number or SIP URI as it may appear in logs (masked unless the connection says not)."""
        return number if self.config.log_full_numbers else mask_phone(number)

    def outbound_call(
        self, call: OutboundCall | None = None, /, *, interrupt_is_outcome_unknown: bool = True, **fields: Any
    ) -> dict[str, Any]:
        """
        Dial a callee through a SIP trunk into a meeting (``POST /v2/sip/outbound-call``); never resent.

        Pass an :class:`OutboundCall`, or its fields as keywords (``to``, ``display_name``,
        ``meeting_id``, ``trunk_id``, ``from_number``, ``participant_id``), all checked before
        anything is sent. Returns VideoSDK's answer, which holds ``participantId``.
        """
        call = call or OutboundCall.build(**fields)
        # DEBUG: an INFO line costs more than the rest of the hook; callers log the outcome once per task.
        self.log.debug("Placing a SIP call to %s into meeting %s", self.phone_for_log(call.to), call.meeting_id)
        return self.send(outbound_call_request(call), interrupt_is_outcome_unknown=interrupt_is_outcome_unknown)

    def create_room(self, custom_room_id: Any = None) -> dict[str, Any]:
        """``POST /v2/rooms``; idempotent on ``custom_room_id``. Returns the room, with ``roomId``."""
        body = {}
        if custom_room_id is not None:
            body["customRoomId"] = clean_id("custom_room_id", custom_room_id)
        return self.request(
            "POST",
            "/v2/rooms",
            json=body,
            idempotent=custom_room_id is not None,
            require="roomId",
            unknown="the room may or may not have been created",
        )

    def validate_room(self, room_id: Any) -> bool:
        """True when the room exists (``GET /v2/rooms/validate/{roomId}``)."""
        room_id = quote(clean_id("room_id", room_id), safe="")
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
        lookup = ParticipantLookup(meeting_id, participant_id, joined_after)
        while not lookup.feed(self.send(lookup.request())):
            pass
        return lookup.found

    def async_client(self) -> AsyncVideoSDKClient:
        """An async client for the triggerer: ``async with hook.async_client() as client: ...``."""
        return AsyncVideoSDKClient(self)

    def test_connection(self) -> tuple[bool, str]:
        """Prove the key and secret with a read-only request; places no call."""
        try:
            self.validate_room("airflow-connection-test")
        except Exception as exc:
            return False, str(exc)
        return True, f"Connected to {self.config.base_url}; the credentials were accepted"


class AsyncVideoSDKClient:
    """
    The hook's API over the async transport: one connection pool per ``async with``, closed on exit
    and on cancellation. The policy, errors and answers are the sync hook's.
    """

    def __init__(self, hook: VideoSDKHook) -> None:
        self.hook = hook
        self._transport: AsyncTransport | None = None

    async def __aenter__(self) -> AsyncVideoSDKClient:
        from airflow_provider_videosdk.hooks.async_transport import AsyncTransport

        await self.hook.aconfig()
        self._transport = AsyncTransport(self.hook.default_headers())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._transport is not None:
            await self._transport.aclose()
            self._transport = None

    async def send(self, request: ApiRequest) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.send`; a cancellation propagates (the triggerer only reads)."""
        hook, cfg = self.hook, self.hook.config
        if self._transport is None:
            raise RuntimeError("use the client inside 'async with hook.async_client() as client'")
        exchange = Exchange(request, cfg, hook.log)
        while True:
            timeout = exchange.begin()
            progress = Progress()
            step: dict[str, Any] | float
            try:
                response = await self._transport.send(
                    request, cfg.base_url + request.path, hook.get_token(), timeout, progress
                )
            except Exception as exc:
                step = exchange.failed(progress, exc)
            except BaseException as exc:
                exchange.interrupted(progress, exc, outcome_unknown=True)
                raise
            else:
                step = exchange.answered(response)
            if isinstance(step, dict):
                return step
            await asyncio.sleep(step)

    async def outbound_call(self, call: OutboundCall) -> dict[str, Any]:
        """Async :meth:`VideoSDKHook.outbound_call`."""
        return await self.send(outbound_call_request(call))

    async def find_participant(
        self, meeting_id: Any, participant_id: Any, *, joined_after: float | None = None
    ) -> dict[str, Any] | None:
        """Async :meth:`VideoSDKHook.find_participant`."""
        lookup = ParticipantLookup(meeting_id, participant_id, joined_after)
        while not lookup.feed(await self.send(lookup.request())):
            pass
        return lookup.found


def outbound_call_request(call: OutboundCall) -> ApiRequest:
    """The API request that places ``call``: never resent once it may have left."""
    return ApiRequest("POST", "/v2/sip/outbound-call", json=call.body(), require="participantId", unknown=CALL_UNKNOWN)


class ParticipantLookup:
    """
    Page through a meeting's sessions looking for a participant that joined after a given time.

    The I/O is the caller's (sync or async): ``while not lookup.feed(send(lookup.request())): pass``.
    """

    def __init__(self, meeting_id: Any, participant_id: Any, joined_after: float | None) -> None:
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
        cutoff = (self.joined_after or 0.0) - CLOCK_SKEW
        return any(start is not None and parse_time(start, where) >= cutoff for start in starts)


def parse_time(value: Any, where: str) -> float:
    """An ISO-8601 timestamp from VideoSDK as Unix time (UTC when it names no zone)."""
    if not isinstance(value, str):
        raise shape_error(where, f"a timestamp is {type(value).__name__}, not a string")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise shape_error(where, f"{value[:40]!r} is not an ISO-8601 timestamp") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def _base_url(host: str | None, port: int | None, schema: str | None, allow_http: bool) -> str:
    """Build the API base URL from a full URL or a bare host (+ port, + schema as scheme)."""
    if not host:
        return DEFAULT_BASE_URL
    host = host.strip()
    if "://" not in host:
        host = f"{schema or 'https'}://{host}" + (f":{port}" if port else "")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VideoSDKInputError(f"host must be an http(s) URL such as {DEFAULT_BASE_URL} or a host name, got {host!r}")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise VideoSDKInputError(
            f"host {parts.hostname!r} uses plain http://, which would send the token in clear text; "
            "use https://, or set the connection extra allow_insecure_http=true if you must"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
