"""
Who may be called: the connection's allow-list of destinations, and the SIP hosts refused without one. Free of I/O.

A connection may set ``allowed_destinations``: E.164 prefixes (``+1415``, ``+44``) and SIP
domains (``sip.example.com``, or ``*.example.com`` for its subdomains). With one set, a callee
that no entry names is refused before anything is sent. Whatever the list, a SIP URI is refused
when it could send the SIP gateway somewhere else than a public SIP domain: a ``maddr``
parameter (it reroutes the call), an IP-literal host (``169.254.169.254``, ``[::1]``) or a
loopback name (``localhost``), unless an entry names that host.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from airflow_provider_videosdk.exceptions import VideoSDKInputError

#: The connection extra that holds the allow-list.
ALLOW_LIST_FIELD = "allowed_destinations"
ENTRY_FORM = (
    "an E.164 prefix such as +1415 (a '+' and 1 to 15 digits), or a SIP domain such as sip.example.com "
    "(*.example.com for its subdomains)"
)
_PREFIX_RE = re.compile(r"\+[0-9]{1,15}", re.ASCII)
_DOMAIN_RE = re.compile(r"(?:\*\.)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)", re.ASCII)
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# The host (a name, IPv4 or [IPv6]), port and parameters of a SIP URI that validation accepted.
_SIP_HOST_RE = re.compile(r"(\[[^\]]*\]|[^:;]+)(?::[0-9]+)?((?:;.*)?)", re.ASCII)


def parse_allow_list(value: Any) -> tuple[str, ...]:
    """
    The allow-list from the connection extra: a list of entries, or one string of entries separated
    by commas or white space. Raises naming the field and the bad entry.
    """
    if isinstance(value, str):
        entries = [e for e in re.split(r"[\s,]+", value) if e]
    elif isinstance(value, (list, tuple)) and all(isinstance(e, str) for e in value):
        entries = [e.strip() for e in value if e.strip()]
    else:
        raise VideoSDKInputError(
            f"{ALLOW_LIST_FIELD} (connection extra) must be a list of strings or one comma-separated string, "
            f"got {type(value).__name__}"
        )
    for entry in entries:
        # A numeric last label is an IP address or a prefix without its '+' (1415), never a domain.
        numeric = _ip(entry) is None and re.fullmatch(r"[0-9]+", entry.rsplit(".", 1)[-1]) is not None
        if numeric or not (_PREFIX_RE.fullmatch(entry) or _DOMAIN_RE.fullmatch(entry)):
            raise VideoSDKInputError(
                f"{ALLOW_LIST_FIELD} (connection extra) entries must each be {ENTRY_FORM}, got {entry[:40]!r}"
            )
    return tuple(e.lower() for e in entries)


def sip_host_and_params(to: str) -> tuple[str, dict[str, str]]:
    """The lower-case host (IPv6 in brackets) and the parameters (lower-case names) of a checked SIP URI."""
    rest = to.split(":", 1)[1].split("@", 1)[1]
    match = _SIP_HOST_RE.fullmatch(rest)
    host, params = (match.group(1), match.group(2)) if match else (rest, "")
    parsed = {}
    for param in params.split(";")[1:]:
        name, _, val = param.partition("=")
        parsed[name.lower()] = val
    return host.lower().rstrip("."), parsed


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def host_risk(host: str) -> str | None:
    """Why ``host`` (a SIP URI's) may not be called unless named, or None for a domain name."""
    if host.startswith("[") or _ip(host) is not None:
        return "an IP address"
    # No top-level domain is numeric: 2130706433 or 0x7f.1 would be read as an IP address.
    if re.fullmatch(r"(?:0x[0-9a-f]*|[0-9]+)", host.rsplit(".", 1)[-1]):
        return "an IP address"
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return "a loopback name"
    return None


def _names(entry: str, host: str) -> bool:
    """True when allow-list ``entry`` (a domain entry) names ``host``."""
    if entry.startswith("*."):
        return host.endswith(entry[1:])
    entry_ip, host_ip = _ip(entry), _ip(host)
    if entry_ip is not None and host_ip is not None:
        return entry_ip == host_ip
    return entry == host


def refusal(to: str, allowed: tuple[str, ...]) -> str | None:
    """
    Why the callee ``to`` (already checked as E.164 or a SIP URI) may not be called, or None when it may.

    ``allowed`` is the parsed allow-list (empty: none set). The reason names the rule.
    """
    prefixes = [e for e in allowed if e.startswith("+")]
    domains = [e for e in allowed if not e.startswith("+")]
    if to.startswith("+"):
        if allowed and not any(to.startswith(p) for p in prefixes):
            listed = ", ".join(prefixes) if prefixes else "none"
            return f"it starts with no E.164 prefix of the connection's {ALLOW_LIST_FIELD} (prefixes: {listed})"
        return None
    host, params = sip_host_and_params(to)
    targets = [("host", host)]
    if "maddr" in params:
        maddr = params["maddr"].lower().rstrip(".")
        if not any(_names(e, maddr) for e in domains):
            return (
                f"it has a maddr parameter ({maddr!r}), which sends the call elsewhere than its host; "
                f"name {maddr!r} in the connection's {ALLOW_LIST_FIELD} to allow it"
            )
        targets.append(("maddr", maddr))
    for what, target in targets:
        named = any(_names(e, target) for e in domains)
        risk = host_risk(target)
        if risk and not named:
            return f"its {what} {target!r} is {risk}; name it in the connection's {ALLOW_LIST_FIELD} to allow it"
        if allowed and not named:
            listed = ", ".join(domains) if domains else "none"
            return f"its {what} {target!r} is no SIP domain of the connection's {ALLOW_LIST_FIELD} (domains: {listed})"
    return None


def check_destination(field: str, to: str, allowed: tuple[str, ...], *, shown: str) -> None:
    """Raise :class:`VideoSDKInputError` naming ``field`` (shown as ``shown``, e.g. masked) when ``to`` is refused."""
    reason = refusal(to, allowed)
    if reason is not None:
        raise VideoSDKInputError(f"{field} {shown!r} is refused before anything was sent: {reason}")
