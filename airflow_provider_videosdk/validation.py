"""Input checks run before any request is sent, and phone-number masking for logs."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Any

from airflow_provider_videosdk.exceptions import VideoSDKInputError

E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
# sip:user@host[:port][;params][?headers]; host is a name, IPv4 or [IPv6].
SIP_URI_RE = re.compile(
    r"(?P<scheme>sips?):(?P<user>[^@;?:]+)(?::[^@]*)?@"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r"(?::[0-9]{1,5})?(?P<rest>[;?][^\s]*)?",
    re.IGNORECASE,
)
E164_FORM = "an E.164 number such as +14155550100 (a '+', then 7 to 15 digits)"
TO_FORM = f"{E164_FORM}, or a SIP URI such as sip:+14155550100@sip.example.com"
MAX_ID_LENGTH = 256
MAX_DISPLAY_NAME_LENGTH = 128


def _has_control_chars(value: str) -> bool:
    # isprintable() is False for every Cc, Cf, Zl and Zp character: the slow scan only when it is.
    return not value.isprintable() and any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value)


def clean_text(field: str, value: Any, *, max_length: int = MAX_ID_LENGTH) -> str:
    """Return ``value`` stripped, or raise naming ``field`` if it is not a usable non-empty string."""
    if not isinstance(value, str):
        hint = ""
        if value is None:
            hint = " (did a template or XCom render to None?)"
        elif isinstance(value, (int, float)):
            hint = " (pass phone numbers as strings: a number loses its '+' and leading zeros)"
        raise VideoSDKInputError(f"{field} must be a non-empty string, got {type(value).__name__}{hint}")
    value = value.strip()
    if not value:
        raise VideoSDKInputError(f"{field} must be a non-empty string, got an empty or blank one")
    if _has_control_chars(value):
        raise VideoSDKInputError(f"{field} must not contain control characters such as CR, LF or TAB")
    if len(value) > max_length:
        raise VideoSDKInputError(f"{field} must be at most {max_length} characters, got {len(value)}")
    return value


def clean_e164(field: str, value: Any) -> str:
    value = clean_text(field, value)
    if not E164_RE.fullmatch(value):
        raise VideoSDKInputError(f"{field} must be {E164_FORM}, got {mask_phone(value)!r}")
    return value


def clean_callee(field: str, value: Any) -> str:
    """Check the ``to`` of a call: an E.164 number or a sip:/sips: URI with a user and a host."""
    value = clean_text(field, value)
    if value.startswith("+"):
        return clean_e164(field, value)
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme in ("sip", "sips"):
        if any(ch.isspace() for ch in value):
            raise VideoSDKInputError(f"{field} must be {TO_FORM}; a SIP URI may not contain spaces")
        if not SIP_URI_RE.fullmatch(value):
            raise VideoSDKInputError(f"{field} must be {TO_FORM}; {mask_phone(value)!r} lacks a user or a valid host")
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


def clean_int(field: str, value: Any, *, minimum: int, maximum: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise VideoSDKInputError(f"{field} must be an integer from {minimum} to {maximum}, got {value!r}")
    return value


def clean_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise VideoSDKInputError(f"{field} must be true or false, got {value!r}")


def mask_phone(value: str) -> str:
    """Mask the middle of a phone number or SIP user for logs: ``+14155550100`` -> ``+1415****100``."""

    def _mask(part: str) -> str:
        if len(part) <= 6:
            return part[:1] + "****"
        return part[:5] + "****" + part[-3:]

    if ":" in value and "@" in value:
        scheme, rest = value.split(":", 1)
        user, host = rest.split("@", 1)
        return f"{scheme}:{_mask(user)}@{host}"
    return _mask(value)
