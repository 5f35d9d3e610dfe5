"""Hook for VideoSDK's REST API: auth, HTTP, retry policy and the calls the provider uses."""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import jwt
import requests
import tenacity
from urllib3.exceptions import NewConnectionError

from airflow_provider_videosdk import __version__
from airflow_provider_videosdk.exceptions import (
    VideoSDKError,
    VideoSDKInputError,
    VideoSDKOutcomeUnknownError,
)
from airflow_provider_videosdk.validation import (
    MAX_DISPLAY_NAME_LENGTH,
    clean_bool,
    clean_callee,
    clean_e164,
    clean_int,
    clean_seconds,
    clean_text,
    mask_phone,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

try:
    from airflow.sdk import BaseHook
    from airflow.sdk.log import mask_secret
except ImportError:  # Airflow 2
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef,attr-defined]

DEFAULT_BASE_URL = "https://api.videosdk.live"
DEFAULT_TIMEOUT = 30.0
DEFAULT_TOKEN_TTL = 3600
MAX_TOKEN_TTL = 86400
DEFAULT_RETRY_ATTEMPTS = 5
DEFAULT_RETRY_MAX_WAIT = 60.0
DEFAULT_RETRY_BACKOFF = 1.0
TOKEN_PERMISSIONS = ["allow_join", "allow_mod"]
RETRY_AFTER_STATUSES = frozenset({429, 503})
REQUEST_ID_HEADERS = ("x-request-id", "x-amzn-requestid", "request-id", "x-correlation-id")


@dataclass(frozen=True)
class VideoSDKConfig:
    """Settings read from a ``videosdk`` connection. Secrets are left out of ``repr``."""

    base_url: str
    api_key: str | None
    api_secret: str | None = field(repr=False)
    token: str | None = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    token_ttl: int = DEFAULT_TOKEN_TTL
    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    retry_max_wait: float = DEFAULT_RETRY_MAX_WAIT
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    log_full_numbers: bool = False


class _Retryable(Exception):
    """Internal marker: the request was certainly not processed, so it may be sent again."""

    def __init__(self, error: VideoSDKError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class VideoSDKHook(BaseHook):
    """
    Talks to VideoSDK's v2 REST API with a short-lived HS256 JWT minted from the connection.

    :param videosdk_conn_id: a connection of type ``videosdk``: login = API key,
        password = API secret, host = API base URL (default ``https://api.videosdk.live``).
    :param retry_attempts: attempts for failures known not to have been processed
        (overrides the connection's ``retry_attempts`` extra).
    :param retry_max_wait: total seconds the retries may wait (overrides ``retry_max_wait``).
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
        self._retry_attempts = retry_attempts
        self._retry_max_wait = retry_max_wait
        self._config: VideoSDKConfig | None = None
        self._session: requests.Session | None = None
        self._token: str | None = None
        self._token_refresh_at = 0.0
        self._token_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(videosdk_conn_id={self.videosdk_conn_id!r})"

    # -- UI form (Airflow 2.11; Airflow 3.2+ reads conn-fields from the provider info) --------

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, IntegerField, PasswordField, StringField

        return {
            "token": PasswordField(lazy_gettext("Pre-minted token"), widget=BS3PasswordFieldWidget()),
            "timeout": StringField(lazy_gettext("Timeout (seconds)"), widget=BS3TextFieldWidget()),
            "token_ttl": IntegerField(lazy_gettext("Token lifetime (seconds)"), widget=BS3TextFieldWidget()),
            "retry_attempts": IntegerField(lazy_gettext("Retry attempts"), widget=BS3TextFieldWidget()),
            "retry_max_wait": StringField(lazy_gettext("Retry wait budget (s)"), widget=BS3TextFieldWidget()),
            "allow_insecure_http": BooleanField(lazy_gettext("Allow http:// to a non-loopback host")),
        }

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["port", "schema", "extra"],
            "relabeling": {"login": "API key", "password": "API secret", "host": "API base URL"},
            "placeholders": {"host": DEFAULT_BASE_URL},
        }

    # -- configuration -------------------------------------------------------------------------

    @property
    def config(self) -> VideoSDKConfig:
        """The connection's settings, read and checked once per hook."""
        if self._config is None:
            self._config = self._read_config()
        return self._config

    def _read_config(self) -> VideoSDKConfig:
        conn = self.get_connection(self.videosdk_conn_id)
        extra = conn.extra_dejson

        def extra_field(name: str) -> Any:
            value = extra.get(name, extra.get(f"extra__videosdk__{name}"))
            return None if value in ("", None) else value

        token = extra_field("token")
        if token is not None:
            token = clean_text("token (connection extra)", token, max_length=8192)
            mask_secret(token)
        secret = conn.password or None
        if secret:
            mask_secret(secret)
        if token is None and not (conn.login and secret):
            raise VideoSDKInputError(
                f"Connection {self.videosdk_conn_id!r} needs an API key (login) and API secret (password), "
                "or a pre-minted token in the 'token' extra"
            )

        allow_http = clean_bool("allow_insecure_http", extra_field("allow_insecure_http") or False)

        def pick(override: Any, name: str, default: Any) -> Any:
            if override is not None:
                return override
            value = extra_field(name)
            return default if value is None else value

        return VideoSDKConfig(
            base_url=self._base_url(conn.host, conn.port, conn.schema, allow_http),
            api_key=conn.login or None,
            api_secret=secret,
            token=token,
            timeout=clean_seconds("timeout", pick(None, "timeout", DEFAULT_TIMEOUT), maximum=600),
            token_ttl=clean_int(
                "token_ttl", pick(None, "token_ttl", DEFAULT_TOKEN_TTL), minimum=60, maximum=MAX_TOKEN_TTL
            ),
            retry_attempts=clean_int(
                "retry_attempts",
                pick(self._retry_attempts, "retry_attempts", DEFAULT_RETRY_ATTEMPTS),
                minimum=1,
                maximum=20,
            ),
            retry_max_wait=clean_seconds(
                "retry_max_wait",
                pick(self._retry_max_wait, "retry_max_wait", DEFAULT_RETRY_MAX_WAIT),
                maximum=3600,
                allow_zero=True,
            ),
            retry_backoff=clean_seconds(
                "retry_backoff", pick(None, "retry_backoff", DEFAULT_RETRY_BACKOFF), maximum=60
            ),
            log_full_numbers=clean_bool("log_full_numbers", extra_field("log_full_numbers") or False),
        )

    @staticmethod
    def _base_url(host: str | None, port: int | None, schema: str | None, allow_http: bool) -> str:
        """Build the API base URL from a full URL or a bare host (+ port, + schema as scheme)."""
        if not host:
            return DEFAULT_BASE_URL
        host = host.strip()
        if "://" not in host:
            host = f"{schema or 'https'}://{host}" + (f":{port}" if port else "")
        parts = urlsplit(host)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise VideoSDKInputError(
                f"host must be an http(s) URL such as {DEFAULT_BASE_URL} or a host name, got {host!r}"
            )
        if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
            raise VideoSDKInputError(
                f"host {parts.hostname!r} uses plain http://, which would send the token in clear text; "
                "use https://, or set the connection extra allow_insecure_http=true if you must"
            )
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    # -- auth ----------------------------------------------------------------------------------

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

    # -- HTTP ----------------------------------------------------------------------------------

    def get_conn(self) -> requests.Session:
        """The hook's one ``requests.Session``; its TCP connections are kept alive and reused."""
        if self._session is None:
            session = requests.Session()
            session.headers.update(
                {
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "User-Agent": f"airflow-provider-videosdk/{__version__}",
                }
            )
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        idempotent: bool | None = None,
        require: str | None = None,
        outcome_unknown: str = "the request may or may not have been processed",
    ) -> dict[str, Any]:
        """
        Send one API request and return its JSON object, applying the retry policy.

        ``require`` names a key the answer must hold as a non-empty string (e.g. ``participantId``);
        a 2xx without it is treated like an answer that is not JSON.

        429/503 and failures before the request left are retried for every request; 5xx and
        network errors after sending only for idempotent ones (default: GET). For the others
        they raise :class:`VideoSDKOutcomeUnknownError` with ``outcome_unknown`` in its message.
        """
        cfg = self.config
        if idempotent is None:
            idempotent = method.upper() == "GET"
        attempts = 1
        started = time.monotonic()
        try:
            # Most requests succeed at once: only a retryable failure pays for the retry machinery.
            return self._send_once(method, path, json, params, idempotent, require, outcome_unknown)
        except _Retryable as exc:
            first_failure: _Retryable | None = exc

        def send() -> dict[str, Any]:
            nonlocal attempts, first_failure
            if first_failure is not None:  # tenacity's attempt 1 is the one made above
                failure, first_failure = first_failure, None
                raise failure
            attempts += 1
            return self._send_once(method, path, json, params, idempotent, require, outcome_unknown)

        budget_left = max(0.0, cfg.retry_max_wait - (time.monotonic() - started))
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(cfg.retry_attempts) | tenacity.stop_before_delay(budget_left),
            wait=_RetryAfterOrBackoff(cfg.retry_backoff),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(send)
        except _Retryable as exc:
            err = exc.error
            waited = ""
            if attempts < cfg.retry_attempts:
                waited = f"; the next wait would pass the {cfg.retry_max_wait:g}s retry budget"
                if exc.retry_after is not None:
                    waited += f" (Retry-After: {exc.retry_after:g}s)"
            raise type(err)(
                f"{err} (gave up after {attempts} attempt{'s' if attempts != 1 else ''}{waited})",
                status=err.status,
                api_message=err.api_message,
                request_id=err.request_id,
            ) from None

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        sleep = state.next_action.sleep if state.next_action else 0.0
        self.log.warning("Retrying in %.2fs (attempt %d failed: %s)", sleep, state.attempt_number, exc)

    def _send_once(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        params: dict[str, Any] | None,
        idempotent: bool,
        require: str | None,
        outcome_unknown: str,
    ) -> dict[str, Any]:
        cfg = self.config
        url = cfg.base_url + path
        where = f"{method} {path}"
        headers = {"Authorization": self.get_token()}
        try:
            response = self.get_conn().request(
                method, url, json=body, params=params, headers=headers, timeout=cfg.timeout
            )
        except (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise _Retryable(
                VideoSDKError(f"{where}: could not connect to {cfg.base_url}: {type(exc).__name__}")
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _never_sent(exc):
                raise _Retryable(
                    VideoSDKError(f"{where}: could not connect to {cfg.base_url}: {_reason(exc)}")
                ) from None
            self._raise_after_send(
                where, f"the connection failed after sending: {_reason(exc)}", idempotent, outcome_unknown
            )
        except requests.exceptions.Timeout:
            self._raise_after_send(where, f"no answer within {cfg.timeout:g}s", idempotent, outcome_unknown)

        status = response.status_code
        request_id = next((response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None)
        try:
            data = response.json()
        except ValueError:
            data = None
        if status >= 400:
            api_message = _api_message(data, response.text)
            text = f"{where}: VideoSDK answered {status}: {api_message}" + _request_id_note(request_id)
            if status in (401, 403):
                text += "; check the connection's API key and secret (or token) and the token's permissions"
            err = VideoSDKError(text, status=status, api_message=api_message, request_id=request_id)
            if status in RETRY_AFTER_STATUSES:
                raise _Retryable(err, _retry_after(response.headers.get("Retry-After")))
            if status >= 500:
                if idempotent:
                    raise _Retryable(err)
                raise _outcome_unknown(err, outcome_unknown)
            raise err
        if not isinstance(data, dict):
            problem = "a body that is not a JSON object"
        elif require and not (isinstance(data.get(require), str) and data[require]):
            problem = f"no {require}"
        else:
            return data
        text = f"{where}: VideoSDK answered {status} with {problem}" + _request_id_note(request_id)
        err = VideoSDKError(text, status=status, request_id=request_id)
        if idempotent:
            raise err
        raise _outcome_unknown(err, outcome_unknown)

    @staticmethod
    def _raise_after_send(where: str, reason: str, idempotent: bool, outcome_unknown: str) -> NoReturn:
        err = VideoSDKError(f"{where}: {reason}")
        if idempotent:
            raise _Retryable(err)
        raise _outcome_unknown(err, outcome_unknown)

    # -- API -----------------------------------------------------------------------------------

    def phone_for_log(self, number: str) -> str:
        """A phone number or SIP URI as it may appear in logs (masked unless the connection says not)."""
        return number if self.config.log_full_numbers else mask_phone(number)

    def outbound_call(
        self,
        to: Any,
        display_name: Any,
        meeting_id: Any,
        trunk_id: Any,
        from_number: Any = None,
        participant_id: Any = None,
    ) -> dict[str, Any]:
        """
        Dial ``to`` through SIP trunk ``trunk_id`` and inject the call into meeting ``meeting_id``.

        Every argument is checked before anything is sent. Returns VideoSDK's answer, which
        holds ``participantId``.
        """
        body = build_outbound_call_body(to, display_name, meeting_id, trunk_id, from_number, participant_id)
        # DEBUG: an INFO line costs more than the rest of the hook; the operator logs the outcome once per task.
        self.log.debug(
            "Placing a SIP call to %s into meeting %s through trunk %s",
            self.phone_for_log(body["to"]),
            body["meetingId"],
            body["trunkId"],
        )
        answer = self.request(
            "POST",
            "/v2/sip/outbound-call",
            json=body,
            require="participantId",
            outcome_unknown="the call may or may not have been placed (check the meeting before calling again)",
        )
        self.log.debug("VideoSDK accepted the call: participant %s", answer["participantId"])
        return answer

    def create_room(self, custom_room_id: Any = None) -> dict[str, Any]:
        """``POST /v2/rooms``; idempotent on ``custom_room_id``. Returns the room, with ``roomId``."""
        body = {}
        if custom_room_id is not None:
            body["customRoomId"] = clean_text("custom_room_id", custom_room_id)
        return self.request(
            "POST",
            "/v2/rooms",
            json=body,
            idempotent=custom_room_id is not None,
            require="roomId",
            outcome_unknown="the room may or may not have been created",
        )

    def validate_room(self, room_id: Any) -> bool:
        """True when the room exists (``GET /v2/rooms/validate/{roomId}``)."""
        room_id = clean_text("room_id", room_id)
        try:
            self.request("GET", f"/v2/rooms/validate/{room_id}")
        except VideoSDKError as exc:
            if exc.status in (400, 404):
                return False
            raise
        return True

    def iter_sessions(self, meeting_id: Any, *, per_page: int = 50, max_pages: int = 20) -> Iterator[dict[str, Any]]:
        """Yield the meeting's sessions (``GET /v2/sessions?roomId=``), newest pages first."""
        meeting_id = clean_text("meeting_id", meeting_id)
        for page in range(1, max_pages + 1):
            answer = self.request(
                "GET", "/v2/sessions", params={"roomId": meeting_id, "page": page, "perPage": per_page}
            )
            yield from answer.get("data") or []
            info = answer.get("pageInfo") or {}
            if page >= int(info.get("lastPage") or 1):
                return

    def find_participant(self, meeting_id: Any, participant_id: Any) -> dict[str, Any] | None:
        """The participant ``participant_id`` if it has joined a session of the meeting, else None."""
        participant_id = clean_text("participant_id", participant_id)
        for session in self.iter_sessions(meeting_id):
            for participant in session.get("participants") or []:
                if participant.get("participantId") == participant_id:
                    return {**participant, "sessionId": session.get("id")}
        return None

    async def afind_participant(self, meeting_id: Any, participant_id: Any) -> dict[str, Any] | None:
        """Async :meth:`find_participant`: runs it in a worker thread so the event loop never blocks."""
        return await asyncio.to_thread(self.find_participant, meeting_id, participant_id)

    def test_connection(self) -> tuple[bool, str]:
        """Prove the key and secret with a read-only request; places no call."""
        try:
            self.validate_room("airflow-connection-test")
        except Exception as exc:
            return False, str(exc)
        return True, f"Connected to {self.config.base_url}; the credentials were accepted"


def build_outbound_call_body(
    to: Any,
    display_name: Any,
    meeting_id: Any,
    trunk_id: Any,
    from_number: Any = None,
    participant_id: Any = None,
) -> dict[str, str]:
    """The seed's camelCase body, every field checked; optional ones left out when not given."""
    body = {
        "to": clean_callee("to", to),
        "displayName": clean_text("display_name", display_name, max_length=MAX_DISPLAY_NAME_LENGTH),
        "meetingId": clean_text("meeting_id", meeting_id),
        "trunkId": clean_text("trunk_id", trunk_id),
    }
    if from_number is not None:
        body["from"] = clean_e164("from_number", from_number)
    if participant_id is not None:
        body["participantId"] = clean_text("participant_id", participant_id)
    return body


def _outcome_unknown(err: VideoSDKError, outcome_unknown: str) -> VideoSDKOutcomeUnknownError:
    """The one error for a request VideoSDK may or may not have carried out: never resent."""
    return VideoSDKOutcomeUnknownError(
        f"{err}. {outcome_unknown.capitalize()}; not resent, to avoid doing it twice",
        status=err.status,
        api_message=err.api_message,
        request_id=err.request_id,
    )


def _request_id_note(request_id: str | None) -> str:
    return f" (request id {request_id})" if request_id else ""


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _never_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never established (refused, DNS failure): nothing was sent."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _reason(exc: Exception) -> str:
    """The innermost cause's class name, e.g. ``RemoteDisconnected`` or ``ConnectionRefusedError``."""
    inner: Any = exc.args[0] if exc.args else exc
    inner = getattr(inner, "reason", None) or inner
    if isinstance(inner, Exception) and inner.args and isinstance(inner.args[-1], Exception):
        inner = inner.args[-1]
    return type(inner).__name__


def _api_message(data: Any, text: str) -> str:
    if isinstance(data, dict):
        for key in ("message", "error", "msg", "statusMessage"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value:
                return value
    snippet = " ".join(text.split())[:200]
    return snippet or "(empty body)"


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _RetryAfterOrBackoff(tenacity.wait.wait_base):
    """Wait what ``Retry-After`` asked for, else exponential backoff with jitter."""

    def __init__(self, initial: float) -> None:
        self._backoff = tenacity.wait_exponential_jitter(initial=initial, max=initial * 16, jitter=initial)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return self._backoff(retry_state)
