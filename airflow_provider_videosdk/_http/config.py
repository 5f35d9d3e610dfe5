"""
A ``videosdk`` connection's settings, read and checked: below the policy and the transports, which use them.

The fields and their bounds are described once in :mod:`airflow_provider_videosdk.conn_fields`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_videosdk import conn_fields
from airflow_provider_videosdk.conn_fields import DEFAULT_BASE_URL, EXTRAS, ExtraField
from airflow_provider_videosdk.destinations import ALLOW_LIST_FIELD, parse_allow_list
from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.validation import clean_bool, clean_int, clean_seconds, clean_text
from airflow_provider_videosdk.version_compat import mask_secret


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
    reconcile_timeout: float = EXTRAS["reconcile_timeout"].default
    clock_skew: float = EXTRAS["clock_skew"].default
    log_full_numbers: bool = False
    allowed_destinations: tuple[str, ...] = ()
    #: The connection's host named no scheme (``127.0.0.1:8765``): ``https://`` was assumed.
    scheme_assumed: bool = False


def parse_extra(spec: ExtraField, value: Any) -> Any:
    """Check one connection extra against its description; raises naming the field."""
    if spec.name == ALLOW_LIST_FIELD:
        return parse_allow_list(value)
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
        scheme_assumed=bool(conn.host) and "://" not in conn.host and not conn.schema,
        api_key=conn.login or None,
        api_secret=secret,
        token=token,
        **values,
    )


def _base_url(host: str | None, port: int | None, schema: str | None, allow_http: bool) -> str:
    """Build the API base URL from a full URL or a bare host (+ port, + schema as scheme)."""
    if not host:
        return DEFAULT_BASE_URL
    host = host.strip()
    if "://" not in host:
        host = f"{schema or 'https'}://{host}" + (f":{port}" if port else "")
    parts = urlsplit(host)
    if "@" in parts.netloc:
        # Credentials in the URL would travel into every error message; VideoSDK takes none there.
        raise VideoSDKInputError(
            f"host must not hold a user name or password (user:password@): put the API key in login and the "
            f"API secret in password; got {_without_userinfo(host)!r}"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise VideoSDKInputError(
            f"host must be an http(s) URL such as {DEFAULT_BASE_URL} or a host name, got {_without_userinfo(host)!r}"
        )
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise VideoSDKInputError(
            f"host {parts.hostname!r} uses plain http://, which would send the token in clear text; "
            "use https://, or set the connection extra allow_insecure_http=true if you must"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _without_userinfo(url: str) -> str:
    """``url`` for a message: anything before an ``@`` in its authority replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False
