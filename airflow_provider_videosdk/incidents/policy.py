"""
An escalation policy, declared once, as data: who is phoned, in which order, for how long, how often.

:class:`EscalationPolicy` and :class:`Level` are frozen dataclasses checked when they are built,
that is when the DAG file is parsed: a bad policy is refused there, naming the field and the form
expected, before any incident could need it. The escalation DAG
(:func:`~airflow_provider_videosdk.incidents.factory.escalation_dag`) and the incident notifier
both read the same policy. Importing this module imports nothing from Airflow but its version.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_videosdk.calls import MAX_RINGING_TIMEOUT, ROUTE_FIELDS
from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.validation import clean_callee, clean_e164, clean_id, clean_int, clean_seconds

#: How an escalation is acknowledged: an answered call, or a person pressing Acknowledge (Airflow 3.1+).
ACK_MODES = ("answer", "human")
DEFAULT_RING_SECONDS = 60.0
DEFAULT_ACK_TIMEOUT = 300.0
DEFAULT_POLL_INTERVAL = 2.0
MAX_LEVELS = 10
MAX_CALLEES = 10  # per level
MAX_ROUNDS = 10
MAX_ACK_TIMEOUT = 24 * 3600.0
MAX_POLL_INTERVAL = 60.0
_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}", re.ASCII)
NAME_FORM = "1 to 40 letters, digits, '_' or '-' (it names the level's task group)"


def check_ack(ack: Any, human_supported: bool, airflow_version: str) -> str:
    """``ack`` checked: one of :data:`ACK_MODES`; ``"human"`` only where Airflow has human-in-the-loop (3.1+)."""
    if ack not in ACK_MODES:
        raise VideoSDKInputError(f"ack must be one of {', '.join(map(repr, ACK_MODES))}, got {ack!r}")
    if ack == "human" and not human_supported:
        raise VideoSDKInputError(
            f"ack='human' needs Airflow 3.1 or later (human-in-the-loop requests); this is Airflow "
            f"{airflow_version}. Use ack='answer' (an answered call acknowledges), or upgrade Airflow."
        )
    return str(ack)


def _tuple_of(name: str, value: Any) -> tuple[Any, ...]:
    """A string or a sequence, as a tuple (a string is one item, not its characters)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(value)
    raise VideoSDKInputError(f"{name} must be a string or a list of them, got {type(value).__name__}")


@dataclass(frozen=True)
class Level:
    """
    One level of an escalation: its callees, rung at the same time; the first to answer wins.

    :param callees: one E.164 number or SIP URI, or a list of them (at most :data:`MAX_CALLEES`).
    :param ring_seconds: how long the level's phones ring (VideoSDK's ``ringingTimeout``), > 0 and <= 300.
    :param name: names the level's task group (``level_1``, ... when omitted).
    """

    callees: tuple[str, ...]
    ring_seconds: float = DEFAULT_RING_SECONDS
    name: str | None = None

    def __post_init__(self) -> None:
        callees = _tuple_of("callees", self.callees)
        if not 1 <= len(callees) <= MAX_CALLEES:
            raise VideoSDKInputError(f"callees must hold 1 to {MAX_CALLEES} numbers or SIP URIs, got {len(callees)}")
        cleaned = tuple(clean_callee(f"callees[{i}]", c) for i, c in enumerate(callees))
        if len(set(cleaned)) != len(cleaned):
            raise VideoSDKInputError("callees must not name the same number twice in one level")
        object.__setattr__(self, "callees", cleaned)
        ring = clean_seconds("ring_seconds", self.ring_seconds, maximum=MAX_RINGING_TIMEOUT)
        object.__setattr__(self, "ring_seconds", ring)
        if self.name is not None and (not isinstance(self.name, str) or not _NAME.fullmatch(self.name)):
            raise VideoSDKInputError(f"name must be {NAME_FORM}, got {self.name!r}")


@dataclass(frozen=True)
class Step:
    """One level in one round, as the escalation DAG runs it: its task group's id and its place."""

    round: int  # 1-based
    index: int  # 1-based level number
    level: Level
    group_id: str


@dataclass(frozen=True)
class EscalationPolicy:
    """
    An escalation policy: ordered levels, phoned one after the other until someone acknowledges.

    :param levels: the levels, in order: :class:`Level` objects, or for short a number (one callee)
        or a list of numbers (rung together) with the default ring time.
    :param gateway_id: the VideoSDK outbound gateway to dial through; or
    :param routing_rule_id: a VideoSDK routing rule (provisioned numbers). Exactly one of the two.
    :param rounds: how many times the whole policy is run before the incident is given up (1 to 10).
    :param ack: ``"answer"`` (default): an answered call acknowledges. ``"human"`` (Airflow 3.1+):
        after an answer, the on-call must press Acknowledge (a human-in-the-loop request) within
        ``ack_timeout``; an answer without it (a voicemail) escalates to the next level.
    :param ack_timeout: seconds the acknowledgement request waits (``"human"`` only).
    :param from_number: caller number, one of the gateway's; default its first.
    :param poll_interval: seconds between looks at a ringing call's status.
    :param videosdk_conn_id: the ``videosdk`` connection to phone through.
    """

    levels: tuple[Level, ...]
    gateway_id: str | None = None
    routing_rule_id: str | None = None
    rounds: int = 1
    ack: str = "answer"
    ack_timeout: float = DEFAULT_ACK_TIMEOUT
    from_number: str | None = None
    poll_interval: float = DEFAULT_POLL_INTERVAL
    videosdk_conn_id: str = field(default="videosdk_default")

    def __post_init__(self) -> None:
        from airflow import __version__ as airflow_version

        from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_1_PLUS

        object.__setattr__(self, "rounds", clean_int("rounds", self.rounds, minimum=1, maximum=MAX_ROUNDS))
        levels = _tuple_of("levels", self.levels) if not isinstance(self.levels, Level) else (self.levels,)
        if not 1 <= len(levels) <= MAX_LEVELS:
            raise VideoSDKInputError(f"levels must hold 1 to {MAX_LEVELS} levels, got {len(levels)}")
        object.__setattr__(self, "levels", tuple(_level(i, level) for i, level in enumerate(levels)))
        names = [step.group_id for step in self.steps() if step.round == 1]
        if len(set(names)) != len(names):
            raise VideoSDKInputError(f"levels must have different names, got {names}")
        route = [name for name in ROUTE_FIELDS if getattr(self, name) is not None]
        if len(route) != 1:
            raise VideoSDKInputError(
                f"give exactly one of gateway_id or routing_rule_id, got {' and '.join(route) or 'neither'}"
            )
        object.__setattr__(self, route[0], clean_id(route[0], getattr(self, route[0])))
        object.__setattr__(self, "ack", check_ack(self.ack, AIRFLOW_V_3_1_PLUS, airflow_version))
        object.__setattr__(self, "ack_timeout", clean_seconds("ack_timeout", self.ack_timeout, maximum=MAX_ACK_TIMEOUT))
        if self.from_number is not None:
            object.__setattr__(self, "from_number", clean_e164("from_number", self.from_number))
        poll = clean_seconds("poll_interval", self.poll_interval, maximum=MAX_POLL_INTERVAL)
        object.__setattr__(self, "poll_interval", poll)
        object.__setattr__(self, "videosdk_conn_id", clean_id("videosdk_conn_id", self.videosdk_conn_id))

    def steps(self) -> Iterator[Step]:
        """Every level of every round, in the order they are phoned."""
        for round_number in range(1, self.rounds + 1):
            for index, level in enumerate(self.levels, start=1):
                name = level.name or f"level_{index}"
                group_id = name if self.rounds == 1 else f"round_{round_number}_{name}"
                yield Step(round_number, index, level, group_id)

    def to_dict(self) -> dict[str, Any]:
        """
        The policy as plain JSON data, which :meth:`from_dict` reads back. A deadline alert's
        ``AsyncCallback`` kwargs need it: Airflow keeps them as JSON, and its scheduler refuses to
        rebuild objects of classes outside ``[core] allowed_deserialization_classes``.
        """
        data = asdict(self)
        data["levels"] = [{**level, "callees": list(level["callees"])} for level in data["levels"]]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EscalationPolicy:
        """A policy from :meth:`to_dict`'s data, checked as when it is built."""
        return cls(**data)

    @property
    def route(self) -> dict[str, str]:
        """The call's routing field: ``{"gateway_id": ...}`` or ``{"routing_rule_id": ...}``."""
        return {name: value for name in ROUTE_FIELDS if (value := getattr(self, name)) is not None}


def _level(index: int, value: Any) -> Level:
    """``levels[index]`` as a :class:`Level`; an error names where it is."""
    try:
        if isinstance(value, Mapping):  # a level of EscalationPolicy.to_dict()
            return Level(**value)
        return value if isinstance(value, Level) else Level(callees=value)
    except VideoSDKInputError as exc:
        raise VideoSDKInputError(f"levels[{index}].{exc}") from None
