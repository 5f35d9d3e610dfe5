"""
The ``videosdk`` connection, described once.

The hook's reader, ``get_provider_info()``'s ``conn-fields`` and ``ui-field-behaviour``, the
Airflow 2.11 form widgets and the connection table of docs/connection.md are all derived from the data here.
Imports nothing from Airflow: ``get_provider_info()`` reads it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

DEFAULT_BASE_URL = "https://api.videosdk.live"

#: The standard connection fields: what they mean here, and which the form hides.
RELABELING = {"login": "API key", "password": "API secret", "host": "API base URL"}
PLACEHOLDERS = {"login": "VideoSDK API key", "password": "VideoSDK API secret", "host": DEFAULT_BASE_URL}
HIDDEN_FIELDS = ("port", "schema", "extra")


class ExtraField(NamedTuple):
    """
    One connection extra: its form label, JSON-schema type and bounds, and default.

    A named tuple, not a dataclass: this module is imported with provider info, and a dataclass costs about
    ten times as much to define.
    """

    name: str
    label: str
    description: str
    type: str  # JSON-schema type: "string", "number", "integer" or "boolean"
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False  # the value must be > minimum, not >= minimum
    secret: bool = False

    def json_schema(self) -> dict[str, Any]:
        """The field's JSON schema, as Airflow's ``conn-fields`` wants it (empty allowed)."""
        schema: dict[str, Any] = {"type": [self.type, "null"]}
        if self.minimum is not None:
            schema["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.secret:
            schema["format"] = "password"
        return schema

    def bounds_text(self) -> str:
        """The accepted range in words, e.g. ``> 0 and <= 600``; empty when unbounded."""
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.exclusive_minimum else '>='} {self.minimum:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        return " and ".join(parts)


EXTRA_FIELDS: tuple[ExtraField, ...] = (
    ExtraField(
        "token",
        "Pre-minted token",
        "A ready-made VideoSDK JWT, sent instead of minting one (then no API secret is needed).",
        "string",
        secret=True,
    ),
    ExtraField(
        "timeout",
        "Timeout (seconds)",
        "Wall-clock limit for one request: connect, send and the whole answer.",
        "number",
        30.0,
        minimum=0,
        maximum=600,
        exclusive_minimum=True,
    ),
    ExtraField(
        "token_ttl",
        "Token lifetime (seconds)",
        "Lifetime of the tokens the hook mints; re-minted shortly before expiry.",
        "integer",
        3600,
        minimum=60,
        maximum=86400,
    ),
    ExtraField(
        "retry_attempts",
        "Retry attempts",
        "Attempts for failures VideoSDK certainly did not process (429, 503 with Retry-After, refused connection).",
        "integer",
        5,
        minimum=1,
        maximum=20,
    ),
    ExtraField(
        "retry_max_wait",
        "Retry budget (seconds)",
        "Wall-clock limit for a whole call including its retries (at least one timeout is always allowed).",
        "number",
        60.0,
        minimum=0,
        maximum=3600,
    ),
    ExtraField(
        "retry_backoff",
        "First retry backoff (seconds)",
        "First wait between retries; it doubles, with jitter, up to 16 times this.",
        "number",
        1.0,
        minimum=0,
        maximum=60,
        exclusive_minimum=True,
    ),
    ExtraField(
        "reconcile_timeout",
        "Reconcile window (seconds)",
        "When placing a call (POST /v2/sip/call) gets no clear answer, look it up for this long before "
        "reporting the outcome unknown; 0 disables the look-up. The call is never resent.",
        "number",
        10.0,
        minimum=0,
        maximum=600,
    ),
    ExtraField(
        "clock_skew",
        "Clock skew allowance (seconds)",
        "How far VideoSDK's clock may be behind this worker's when judging whether a call or an answer "
        "is new (a call found while reconciling, a call or a join since the DAG run started).",
        "number",
        30.0,
        minimum=0,
        maximum=3600,
    ),
    ExtraField(
        "allow_insecure_http",
        "Allow plain http:// to a non-loopback host",
        "Without it, http:// is refused for any host but loopback: the token would travel in clear text.",
        "boolean",
        False,
    ),
    ExtraField(
        "allowed_destinations",
        "Allowed destinations",
        "Who may be called: E.164 prefixes and SIP domains, comma-separated (+1415, +44, sip.example.com, "
        "*.example.com). When set, any other callee is refused before anything is sent. A SIP URI with a maddr "
        "parameter, an IP-address or a loopback host is refused unless an entry names that host.",
        "string",
    ),
    ExtraField(
        "log_full_numbers",
        "Log full phone numbers",
        "Log phone numbers unmasked (debugging only: they are personal data).",
        "boolean",
        False,
    ),
)
EXTRAS = {f.name: f for f in EXTRA_FIELDS}


def conn_fields() -> dict[str, Any]:
    """``conn-fields`` for ``get_provider_info()`` (read by the UI from Airflow 3.2)."""
    fields: dict[str, Any] = {}
    for f in EXTRA_FIELDS:
        description = f.description + (f" Default: {_default_text(f)}." if f.default is not None else "")
        fields[f.name] = {"label": f.label, "description": description, "schema": f.json_schema()}
    return fields


def ui_field_behaviour() -> dict[str, Any]:
    """The standard fields' labels, placeholders and hidden fields, in the hook method's form."""
    return {
        "hidden_fields": list(HIDDEN_FIELDS),
        "relabeling": dict(RELABELING),
        "placeholders": dict(PLACEHOLDERS),
    }


def provider_info_ui_field_behaviour() -> dict[str, Any]:
    """The same as :func:`ui_field_behaviour`, spelled the way provider info spells it."""
    return {key.replace("_", "-"): value for key, value in ui_field_behaviour().items()}


def connection_form_widgets() -> dict[str, Any]:
    """WTForms widgets for the extras (Airflow 2.11's form, and 3.0/3.1 with the FAB provider)."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import BooleanField, IntegerField, PasswordField, StringField

    widgets: dict[str, Any] = {}
    for f in EXTRA_FIELDS:
        label, help_text = lazy_gettext(f.label), lazy_gettext(f.description)
        if f.secret:
            widgets[f.name] = PasswordField(label, description=help_text, widget=BS3PasswordFieldWidget())
        elif f.type == "boolean":
            widgets[f.name] = BooleanField(label, description=help_text, default=f.default)
        elif f.type == "integer":
            widgets[f.name] = IntegerField(label, description=help_text, widget=BS3TextFieldWidget())
        else:
            widgets[f.name] = StringField(label, description=help_text, widget=BS3TextFieldWidget())
    return widgets


def markdown_table() -> str:
    """The connection table of docs/connection.md (a test checks the page holds exactly this)."""
    rows = ["| field | meaning | default | accepted |", "|---|---|---|---|"]
    for name, label in RELABELING.items():
        default = f"`{DEFAULT_BASE_URL}`" if name == "host" else ""
        rows.append(f"| {name} | {label} | {default} | |")
    for f in EXTRA_FIELDS:
        default = _default_text(f) if f.default is not None else ""
        rows.append(f"| extra `{f.name}` | {f.description} | {default} | {f.bounds_text() or f.type} |")
    return "\n".join(rows)


def _default_text(f: ExtraField) -> str:
    if isinstance(f.default, bool):
        return str(f.default).lower()
    return f"{f.default:g}" if isinstance(f.default, float) else str(f.default)
