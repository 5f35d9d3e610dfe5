"""Input checks run before any request is sent, the call's fields, and phone-number masking for logs."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import datetime, timezone
from typing import Any

from airflow_provider_videosdk.exceptions import VideoSDKInputError

_E164 = (r"\+[1-9][0-9]{6,14}", re.ASCII)
# RFC 3261 SIP-URI, restricted to what a callee needs: sip(s):user@host[:port][;param[=value]]...
# user: unreserved / escaped / the user-unreserved "&=+$" (no ",;?/": they could carry a second URI
# or URI headers); no password; host: a name, IPv4 or [IPv6]; params: RFC 3261's paramchar, no "?".
_UNRESERVED = r"A-Za-z0-9\-_.!~*'()"
_ESCAPED = r"%[0-9A-Fa-f]{2}"
_USER = rf"(?:[{_UNRESERVED}&=+$]|{_ESCAPED})+"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
_PARAM = rf"(?:[{_UNRESERVED}\[\]/:&+$]|{_ESCAPED})+"
_SIP_URI = (rf"sips?:{_USER}@{_HOST}(?::[0-9]{{1,5}})?(?:;{_PARAM}(?:={_PARAM})?)*", re.IGNORECASE | re.ASCII)
E164_FORM = "an E.164 number such as +14155550100 (a '+', then 7 to 15 digits)"
SIP_FORM = "a SIP URI such as sip:+14155550100@sip.example.com (user@host, optional :port and ;params)"
TO_FORM = f"{E164_FORM}, or {SIP_FORM}"
MAX_ID_LENGTH = 256
_NOT_IN_PATH_ID = "/?#"
PATH_ID_FORM = "an id without '/', '?', '#' or control characters, and not '.' or '..'"
MAX_DISPLAY_NAME_LENGTH = 128
# Phone numbers and SIP URIs inside free text (VideoSDK's error messages), for masking: a SIP URI, or
# digits with the separators people write (+1 415 555 0100, (415) 555-0100, 415.555.0100); a match
# with 7 to 15 digits is a number (_mask_match).
_NUMBER_IN_TEXT = (
    r"sips?:[^\s@'\"<>,]+@[^\s'\"<>,;?]+|(?<![\w+])\+?(?:\(\d+\)|\d)(?:[ .-]?(?:\(\d+\)|\d))*(?!\w)",
    re.IGNORECASE,
)
#: Digits a mask shows at most: the end of a number, so that a person can tell two callees apart.
MASK_KEEP_DIGITS = 4
# A mask always hides at least this many digits (a short number shows fewer than MASK_KEEP_DIGITS).
_MASK_HIDE_AT_LEAST = 6
# JWT-like strings (a base64url JSON header "eyJ..." and one or two more dot-separated parts) and e-mail
# addresses, in VideoSDK's error texts.
_SECRET_IN_TEXT = (
    r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){1,2}|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    re.ASCII,
)
#: The longest excerpt of an answer's text that reaches a log, an exception or a trigger event.
EXCERPT_LENGTH = 200


# Each pattern is compiled on first use: compiling the four costs about 1 ms, a tenth of the import
# budget of a DAG file that imports an operator (see the README's performance table).
@functools.cache
def _e164_re() -> re.Pattern[str]:
    return re.compile(*_E164)


@functools.cache
def _sip_uri_re() -> re.Pattern[str]:
    return re.compile(*_SIP_URI)


@functools.cache
def _number_in_text_re() -> re.Pattern[str]:
    return re.compile(*_NUMBER_IN_TEXT)


@functools.cache
def _secret_in_text_re() -> re.Pattern[str]:
    return re.compile(*_SECRET_IN_TEXT)


def _has_control_chars(value: str) -> bool:
    # isprintable() is False for every Cc, Cf, Zl and Zp character: the slow scan only when it is.
    return not value.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value)


#: What a template or XCom that returned nothing renders to (compared lower-case, stripped).
RENDERED_NOTHING = ("", "none", "null")


def rendered_nothing(field: str, value: Any) -> VideoSDKInputError:
    """The error for a ``field`` whose value is ``None`` or renders to nothing (``"None"``, ``"null"``, blank)."""
    return VideoSDKInputError(f"{field} rendered to nothing ({value!r}): did an XCom or param return None?")


def clean_text(field: str, value: Any, *, max_length: int = MAX_ID_LENGTH) -> str:
    """Return ``value`` stripped, or raise naming ``field`` if it is not a usable non-empty string."""
    if value is None:
        raise rendered_nothing(field, value)
    if not isinstance(value, str):
        hint = ""
        if isinstance(value, (int, float)):
            hint = " (pass phone numbers as strings: a number loses its '+' and leading zeros)"
        raise VideoSDKInputError(f"{field} must be a non-empty string, got {type(value).__name__}{hint}")
    if value.strip().lower() in RENDERED_NOTHING:
        raise rendered_nothing(field, value)
    value = value.strip()
    if "{{" in value or "{%" in value:
        raise VideoSDKInputError(f"{field} still holds template text ({value[:40]!r}): it was not rendered")
    if _has_control_chars(value):
        raise VideoSDKInputError(f"{field} must not contain control characters such as CR, LF or TAB")
    if len(value) > max_length:
        raise VideoSDKInputError(f"{field} must be at most {max_length} characters, got {len(value)}")
    return value


def clean_id(field: str, value: Any) -> str:
    """An identifier (meeting, trunk, participant): :func:`clean_text`, which refuses a rendered ``None`` too."""
    return clean_text(field, value)


def is_constant(value: Any) -> bool:
    """
    True when rendering cannot change ``value``: a number, a string without Jinja markup, or a list
    or dict of such. ``None``, an ``XComArg`` and any other object are left to execute time.
    """
    if isinstance(value, str):
        return not any(mark in value for mark in ("{{", "{%", "{#"))
    if isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(v is None or is_constant(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and (v is None or is_constant(v)) for k, v in value.items())
    return False


def check_constants(owner: str, values: dict[str, Any], cleaners: dict[str, Any]) -> None:
    """
    At DAG parse time: check each value of ``values`` that is a constant (:func:`is_constant`) with
    its cleaner, so that a wrong constant is a DAG import error naming ``owner`` (a task id) and the
    field. Templates and XComs are checked after rendering, at execute time.
    """
    for name, value in values.items():
        if value is not None and is_constant(value):
            try:
                cleaners[name](name, value)
            except VideoSDKInputError as exc:
                raise VideoSDKInputError(f"{owner}: {exc}") from None


def clean_path_id(field: str, value: Any) -> str:
    """
    An id that goes into a URL path (a call, room or session id): :func:`clean_id`, and none of
    ``/``, ``?``, ``#``, nor ``.`` or ``..`` on its own, which HTTP clients resolve as dot segments
    (``GET /v2/sip/call/..`` would reach ``/v2/sip/``).
    """
    value = clean_id(field, value)
    if value in (".", "..") or any(ch in value for ch in _NOT_IN_PATH_ID):
        raise VideoSDKInputError(
            f"{field} must be {PATH_ID_FORM}, got {value[:40]!r}: it would change the request's URL"
        )
    return value


def clean_e164(field: str, value: Any) -> str:
    """An E.164 phone number: ``+`` and 7 to 15 ASCII digits."""
    value = clean_text(field, value)
    if not _e164_re().fullmatch(value):
        raise VideoSDKInputError(f"{field} must be {E164_FORM}, got {mask_phone(value)!r}")
    return value


def clean_callee(field: str, value: Any) -> str:
    """The ``to`` of a call: an E.164 number or one sip:/sips: URI with a user and a host, nothing more."""
    value = clean_text(field, value)
    if value.startswith("+"):
        return clean_e164(field, value)
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme in ("sip", "sips"):
        if not _sip_uri_re().fullmatch(value):
            raise VideoSDKInputError(
                f"{field} must be {SIP_FORM}, got {mask_phone(value)!r}: it lacks a user or a valid host, or holds "
                "a character SIP does not allow there (spaces, '?', '<', '>', ',' or a second URI)"
            )
        return value
    hint = f"; the {scheme}: scheme is not supported" if scheme else ""
    raise VideoSDKInputError(f"{field} must be {TO_FORM}{hint}, got {mask_phone(value)!r}")


def clean_seconds(field: str, value: Any, *, maximum: float, allow_zero: bool = False) -> float:
    """A positive (or non-negative) finite number of seconds, at most ``maximum``."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise VideoSDKInputError(f"{field} must be a number of seconds, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise VideoSDKInputError(f"{field} must be a number of seconds, got {value!r}")
    low_ok = value >= 0 if allow_zero else value > 0
    if not low_ok or value > maximum:
        bound = ">= 0" if allow_zero else "> 0"
        raise VideoSDKInputError(f"{field} must be {bound} and <= {maximum:g} seconds, got {value!r}")
    return float(value)


def clean_time(field: str, value: Any) -> float:
    """A point in time as Unix seconds: a number, an ISO-8601 string or a ``datetime`` (naive means UTC)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise VideoSDKInputError(f"{field} must be a time (ISO-8601 or Unix seconds), got {value!r}") from None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise VideoSDKInputError(f"{field} must be a time (ISO-8601 or Unix seconds), got {value!r}")
    return float(value)


def run_started_at(context: Any) -> float | None:
    """When the task's DAG run started (Unix time): answers before it belong to an earlier incident."""
    dag_run = context.get("dag_run")
    started = getattr(dag_run, "start_date", None) or getattr(dag_run, "logical_date", None)
    return started.timestamp() if started is not None else None


def clean_int(field: str, value: Any, *, minimum: int, maximum: int) -> int:
    """An integer (or a string of ASCII digits) from ``minimum`` to ``maximum``."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise VideoSDKInputError(f"{field} must be an integer from {minimum} to {maximum}, got {value!r}")
    return value


def clean_bool(field: str, value: Any) -> bool:
    """A boolean, or one of the strings true/false/1/0/yes/no."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise VideoSDKInputError(f"{field} must be true or false, got {value!r}")


def _mask_digits(digits: str, plus: bool) -> str:
    keep = max(0, min(MASK_KEEP_DIGITS, len(digits) - _MASK_HIDE_AT_LEAST))
    return ("+" if plus else "") + "****" + (digits[-keep:] if keep else "")


def mask_phone(value: str) -> str:
    """
    Mask a phone number or SIP URI for logs and messages, showing at most the last 4 digits.

    ``+14155550100`` and ``+1 415 555 0100`` -> ``+****0100``; ``+1234567`` -> ``+****7`` (a short
    number shows fewer digits, at least 6 stay hidden). A SIP URI keeps its host and loses its
    parameters; its user is masked like a number when it is one (``sip:+****0100@pbx.example.com``)
    and hidden entirely otherwise (``sip:****@pbx.example.com``). Anything else is hidden entirely.
    """
    value = value.strip()
    if ":" in value and "@" in value:
        scheme, rest = value.split(":", 1)
        user, host = rest.rsplit("@", 1)
        host = host.split(";", 1)[0].split("?", 1)[0]
        return f"{scheme}:{_mask_user(user)}@{host}"
    return _mask_user(value)


def _mask_user(value: str) -> str:
    digits = re.sub(r"[^0-9]", "", value)
    if digits and re.fullmatch(r"\+?[0-9 ().-]+", value):
        return _mask_digits(digits, value.startswith("+"))
    return "****"


def _mask_match(match: re.Match[str]) -> str:
    text = match.group()
    if text[:3].lower() == "sip" and ":" in text:
        return mask_phone(text)
    digits = re.sub(r"[^0-9]", "", text)
    return _mask_digits(digits, text.startswith("+")) if 7 <= len(digits) <= 15 else text


def mask_numbers(text: str, keep: bool = False) -> str:
    """
    Mask every phone number or SIP URI inside free text (e.g. VideoSDK's error messages), unless ``keep``.

    Numbers are found whatever separators they are written with (``+1 415 555 0100``,
    ``(415) 555-0100``) and masked as :func:`mask_phone` masks them.
    """
    return text if keep else _number_in_text_re().sub(_mask_match, text)


def excerpt(text: str, keep_numbers: bool = False) -> str:
    """
    Text from outside (an API error message, a body, a header) as it may be shown: one line of at most
    :data:`EXCERPT_LENGTH` characters, JWT-like strings and e-mail addresses replaced by ``<redacted>``,
    and phone numbers masked unless ``keep_numbers``. Every such text passes here before a log line,
    an exception or a trigger event holds it.
    """
    text = " ".join(text[: EXCERPT_LENGTH * 8].split())  # redact before cutting: a cut token would not match
    text = _secret_in_text_re().sub("<redacted>", text)
    text = mask_numbers(text, keep_numbers)
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "\u2026"
