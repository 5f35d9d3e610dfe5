"""
The request policy, shared by the sync (``requests``) and async (``httpx``) transports.

A transport only moves bytes: it sends one request, returns the answer's status, headers and
body, and records in a :class:`Progress` whether any byte of the request may have left. Every
decision is made here, once, for both:

- the *phase* a failure happened in (:func:`failure_phase`): before any byte left, the request
  was never sent and may be retried; after that its outcome is unknown and a request that is not
  idempotent (placing a call) is never resent;
- what each answer means (retry, error, or the JSON object asked for), ``Retry-After``, backoff,
  the wall-clock budget of the whole call, and every error message.
"""

from __future__ import annotations

import enum
import random
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_videosdk._http.body import BodyTooLarge, UndecodableBody
from airflow_provider_videosdk._http.errors import (
    AUTH_HINT,
    PROXY_HINT,
    REQUEST_ID_HEADERS,
    api_message,
    describe,
    json_or_none,
    parse_retry_after,
    plain_http_answered,
    rid,
)
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKOutcomeUnknownError
from airflow_provider_videosdk.validation import excerpt

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from airflow_provider_videosdk._http.config import VideoSDKConfig


class Phase(enum.Enum):
    """How far a failed request got."""

    NOT_SENT = "before any byte of the request left"
    SENT = "after the request started to leave"


@dataclass
class SendWatch:
    """
    Across every attempt of one request: whether VideoSDK may have received it, told as it changes.

    ``may_have_arrived`` turns True just before the first byte of an attempt leaves, and back to
    False when VideoSDK's answer proves that attempt was not processed (429, 503 with
    ``Retry-After``, a 4xx). ``on_change`` is called with the new value *before* it takes effect:
    before the byte leaves, so a caller can write its state down first (the operator's intent store).
    If ``on_change`` raises, nothing is sent and the error propagates as :class:`WatchFailed`.
    """

    on_change: Callable[[bool], None] | None = None
    may_have_arrived: bool = False

    def set(self, value: bool) -> None:
        """Record a change (no-op when unchanged), telling ``on_change`` first."""
        if value == self.may_have_arrived:
            return
        if self.on_change is not None:
            try:
                self.on_change(value)
            except Exception as exc:
                raise WatchFailed(exc) from exc
        self.may_have_arrived = value


class WatchFailed(Exception):
    """Raised out of a transport when :attr:`SendWatch.on_change` failed; the request was not sent."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"recording the request's progress failed ({type(cause).__name__})")
        self.cause = cause


@dataclass
class Progress:
    """What a transport records while it sends one request; read to classify a failure."""

    sent: bool = False
    watch: SendWatch | None = None

    def mark_sent(self) -> None:
        """Called by a transport right before the request's first byte leaves."""
        if not self.sent:
            if self.watch is not None:
                self.watch.set(True)
            self.sent = True


def failure_phase(progress: Progress) -> Phase:
    """The phase a request failed in: only what the transport saw happen counts, never the exception's class."""
    return Phase.SENT if progress.sent else Phase.NOT_SENT


@dataclass(frozen=True)
class ApiRequest:
    """
    One VideoSDK API request and what its outcome means.

    :param idempotent: safe to resend after it may have been processed; default: GET only.
    :param require: a key the answer must hold as a non-empty string (e.g. ``participantId``).
    :param unknown: what may have happened when the outcome is unknown, e.g. "the call may or
        may not have been placed".
    """

    method: str
    path: str
    json: Mapping[str, Any] | None = None
    params: Mapping[str, Any] | None = None
    idempotent: bool | None = None
    require: str | None = None
    unknown: str = "the request may or may not have been processed"
    #: A JSON list is a valid answer too (some list endpoints answer a bare list).
    allow_list: bool = False

    @property
    def resendable(self) -> bool:
        """True when sending the request twice does no harm."""
        return self.method == "GET" if self.idempotent is None else self.idempotent

    @property
    def where(self) -> str:
        """The request as ``METHOD /path``, for messages."""
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class RawResponse:
    """An answer as a transport read it: status, headers (lower-case names) and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Step:
    """What to do after one attempt: return :attr:`answer`, or wait :attr:`retry_in` seconds and try again."""

    #: The JSON object asked for (or a list, where the request allows one); None: try again.
    answer: dict[str, Any] | None = None
    #: Seconds to wait before the next attempt (when there is no answer).
    retry_in: float = 0.0


class _Retry(Exception):
    """Internal: the attempt failed in a way that may be retried, after ``retry_after`` if given."""

    def __init__(self, error: VideoSDKError, retry_after: float | None = None, *, refused: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        #: VideoSDK's answer says it did not process the request (429, 503 with Retry-After).
        self.refused = refused


class Exchange:
    """
    The retry state of one API request: a transport makes the attempts, this decides after each.

    The first attempt always gets the connection's whole ``timeout``. Retries happen only within
    ``retry_max_wait`` seconds of the start, waits included, and each retry's timeout is cut to
    what is left of that budget: the whole call ends within ``max(timeout, retry_max_wait)``.
    """

    def __init__(
        self,
        request: ApiRequest,
        config: VideoSDKConfig,
        log: Any,
        clock: Callable[[], float] = time.monotonic,
        watch: SendWatch | None = None,
    ) -> None:
        self.request = request
        self.config = config
        self.log = log
        self.clock = clock
        #: Told when the request may have reached VideoSDK, and when an answer proves it did not.
        self.watch = watch
        self.attempts = 0
        #: No retry starts, and none runs, past this: the call's wall-clock budget.
        self.retry_deadline = clock() + config.retry_max_wait
        self._attempt_deadline = 0.0
        self._attempt_timeout = 0.0

    def begin(self) -> tuple[float, Progress]:
        """
        Start an attempt: returns its timeout in seconds (a wall-clock limit for the whole attempt,
        from connecting to the answer's last byte) and the :class:`Progress` its transport records.
        """
        self.attempts += 1
        timeout = self.config.timeout
        if self.attempts > 1:
            timeout = min(timeout, self.retry_deadline - self.clock())
        self._attempt_deadline = self.clock() + timeout
        self._attempt_timeout = timeout
        return timeout, Progress(watch=self.watch)

    def answered(self, response: RawResponse) -> Step:
        """The JSON object asked for, or a wait before the next attempt; raises when done failing."""
        try:
            return Step(answer=self._judge(response))
        except _Retry as retry:
            if retry.refused:
                self._not_processed()
            return Step(retry_in=self._wait_or_give_up(retry))

    def failed(self, progress: Progress, exc: BaseException) -> Step:
        """After a transport failure: a wait before the next attempt; raises when it may not be retried."""
        if isinstance(exc, WatchFailed):
            raise VideoSDKError(f"{self.request.where}: not sent, because {exc}") from exc.cause
        try:
            self._judge_failure(failure_phase(progress), exc)
        except _Retry as retry:
            return Step(retry_in=self._wait_or_give_up(retry))

    def _not_processed(self) -> None:
        """VideoSDK's answer proves it did not carry the request out: tell the watch (best effort)."""
        if self.watch is not None:
            try:
                self.watch.set(False)
            except WatchFailed as exc:
                self.log.warning("%s: could not record that VideoSDK refused the request: %s", self.request.where, exc)

    def interrupted(self, progress: Progress, exc: BaseException, *, outcome_unknown: bool) -> None:
        """
        After an interruption (task timeout, termination, cancellation) during an attempt.

        With ``outcome_unknown`` and a request that may have left, raises
        :class:`VideoSDKOutcomeUnknownError` chained to the interruption, so that nothing resends
        it blindly; otherwise returns and the caller re-raises the interruption.
        """
        if outcome_unknown and failure_phase(progress) is Phase.SENT and not self.request.resendable:
            err = VideoSDKError(f"{self.request.where}: interrupted while waiting for VideoSDK ({type(exc).__name__})")
            raise self.outcome_unknown(err) from exc

    def outcome_unknown(self, err: VideoSDKError) -> VideoSDKOutcomeUnknownError:
        """The one error for a request VideoSDK may or may not have carried out: never resent."""
        return VideoSDKOutcomeUnknownError(
            f"{err}. {self.request.unknown[:1].upper()}{self.request.unknown[1:]}; not resent, to avoid doing it twice",
            status=err.status,
            api_message=err.api_message,
            request_id=err.request_id,
        )

    # -- decisions ---------------------------------------------------------------------------

    def _judge(self, response: RawResponse) -> dict[str, Any]:
        req, status = self.request, response.status
        request_id = next((response.headers[h] for h in REQUEST_ID_HEADERS if h in response.headers), None)
        data = json_or_none(response.body)
        if 200 <= status < 300:
            if req.allow_list and isinstance(data, list):
                return data  # type: ignore[return-value]
            if not isinstance(data, dict):
                problem = "a body that is not a JSON object"
            elif req.require and not (isinstance(data.get(req.require), str) and data[req.require]):
                problem = f"no {req.require}"
            else:
                return data
            self._final(VideoSDKError(f"{req.where}: VideoSDK answered {status} with {problem}{rid(request_id)}"))
        if 300 <= status < 400:
            location = excerpt(response.headers.get("location", "nowhere"), self.config.log_full_numbers)
            text = f"{req.where}: VideoSDK answered {status}, a redirect to {location} (redirects are not followed)"
            self._final(VideoSDKError(text + rid(request_id), status=status, request_id=request_id))
        message = excerpt(api_message(data, response.body), self.config.log_full_numbers)
        via = response.headers.get("via")
        if status == 407:  # only a proxy asks for proxy credentials
            who, hint = "a proxy", PROXY_HINT
        elif via:  # a proxy passed the answer on, or made it (RFC 9110 7.6.3)
            who, hint = f"VideoSDK or a proxy (Via: {excerpt(via)})", PROXY_HINT if status in (401, 403) else ""
        else:
            who, hint = "VideoSDK", AUTH_HINT if status in (401, 403) else ""
        text = f"{req.where}: {who} answered {status}: {message}{rid(request_id)}{hint}"
        err = VideoSDKError(text, status=status, api_message=message, request_id=request_id)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        # 429 was never processed. A 503 that says when to come back was refused, not half-done;
        # without Retry-After a 503 on a POST is as ambiguous as any other 5xx.
        if status == 429 or (status == 503 and retry_after is not None):
            raise _Retry(err, retry_after, refused=True)
        if status >= 500 and req.resendable:
            raise _Retry(err, retry_after)
        if 400 <= status < 500:
            self._not_processed()
        self._final(err)

    def _judge_failure(self, phase: Phase, exc: BaseException) -> NoReturn:
        req = self.request
        if phase is Phase.NOT_SENT:
            assumed = (
                " (the connection's host has no scheme: https:// was assumed)" if self.config.scheme_assumed else ""
            )
            if plain_http_answered(exc):
                # It cannot heal: retrying would only make the user wait. Nothing was sent.
                raise VideoSDKError(
                    f"{req.where}: {self.config.base_url} answered the TLS handshake in plain HTTP{assumed}: "
                    f"is it http://? Then write that in the connection's host: "
                    f"{self.config.base_url.replace('https://', 'http://', 1)}"
                )
            raise _Retry(
                VideoSDKError(f"{req.where}: could not connect to {self.config.base_url}: {describe(exc)}{assumed}")
            )
        if self.clock() >= self._attempt_deadline - 0.05:  # a socket timeout fires at the deadline
            reason = f"no complete answer within {self._attempt_timeout:g}s"
        else:
            reason = (
                str(exc)
                if isinstance(exc, (BodyTooLarge, UndecodableBody))
                else f"the connection failed after sending: {describe(exc)}"
            )
        err = VideoSDKError(f"{req.where}: {reason}")
        if req.resendable:
            raise _Retry(err)
        raise self.outcome_unknown(err) from None

    def _final(self, err: VideoSDKError) -> NoReturn:
        """A failure that is not retried: outcome unknown when VideoSDK may have acted on it."""
        if self.request.resendable or (err.status is not None and 400 <= err.status < 500):
            raise err
        raise self.outcome_unknown(err)

    def _wait_or_give_up(self, retry: _Retry) -> float:
        cfg = self.config
        left = self.retry_deadline - self.clock()
        if retry.retry_after is not None:
            wait = min(retry.retry_after, cfg.retry_max_wait)
        else:
            wait = min(cfg.retry_backoff * 2 ** (self.attempts - 1), cfg.retry_backoff * 16)
            wait += random.uniform(0, cfg.retry_backoff)
        if self.attempts < cfg.retry_attempts and wait < left:
            self.log.warning("Retrying in %.2fs (attempt %d failed: %s)", wait, self.attempts, retry.error)
            return float(wait)
        err = retry.error
        why = ""
        if self.attempts < cfg.retry_attempts:
            why = f"; the next wait would pass the {cfg.retry_max_wait:g}s retry budget"
            if retry.retry_after is not None:
                why += f" (Retry-After: {retry.retry_after:g}s)"
        raise type(err)(
            f"{err} (gave up after {self.attempts} attempt{'s' if self.attempts != 1 else ''}{why})",
            status=err.status,
            api_message=err.api_message,
            request_id=err.request_id,
        ) from None


def within(config: VideoSDKConfig, budget: float | None) -> VideoSDKConfig:
    """``config`` with its timeout and retry budget cut to ``budget`` seconds (a bounded look-up)."""
    if budget is None:
        return config
    budget = max(budget, 0.1)
    return replace(config, timeout=min(config.timeout, budget), retry_max_wait=min(config.retry_max_wait, budget))
