"""
Everything that differs between the Airflow versions this provider supports, in one place.

Checked against the installed Airflow 2.11.2, 3.0.6, 3.1.8, 3.2.2 and 3.3.2. The rest of the package (and the
tests, examples and benchmarks) imports Airflow's base classes, exceptions and secret masking from here;
dropping an Airflow version is a grep for its flag.

Importing this module imports nothing from Airflow but its version: each name in :data:`_WHERE` is imported
from the module the running version keeps it in on first use (PEP 562 ``__getattr__``), so a DAG file that
imports an operator pays for the operator's base class, never for trigger or hook machinery.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

from airflow import __version__ as _airflow_version


def _release(text: str) -> tuple[int, int]:
    """``(major, minor)`` of a version string such as ``3.3.2``, ``3.1.0rc1`` or ``3.2.0.dev0``."""
    match = re.match(r"(\d+)\.(\d+)", text)
    if match is None:
        raise RuntimeError(f"cannot read the Airflow version {text!r}")
    return int(match[1]), int(match[2])


_AIRFLOW = _release(_airflow_version)

AIRFLOW_V_3_0_PLUS = _AIRFLOW >= (3, 0)
AIRFLOW_V_3_1_PLUS = _AIRFLOW >= (3, 1)
AIRFLOW_V_3_2_PLUS = _AIRFLOW >= (3, 2)
AIRFLOW_V_3_3_PLUS = _AIRFLOW >= (3, 3)

#: ``context["task_state_store"]`` (get/set/delete/clear of JSON values, per task instance) arrived in 3.3.
HAS_TASK_STATE_STORE = AIRFLOW_V_3_3_PLUS
#: The UI reads ``conn-fields`` and ``ui-field-behaviour`` from provider info from 3.2 on; before, it calls the
#: hook's ``get_connection_form_widgets``/``get_ui_field_behaviour`` (on 3.0 only if wtforms and FAB import).
READS_CONN_FIELDS = AIRFLOW_V_3_2_PLUS
#: Before 3.3 a notifier's template field that renders to "" keeps its raw template text (operators are unaffected).
NOTIFIER_KEEPS_EMPTY_RENDER = not AIRFLOW_V_3_3_PLUS


def _since(flag: bool, new: str, old: str) -> str:
    """``new`` (where a name lives from the version ``flag`` names on) if ``flag`` holds, else ``old``."""
    return new if flag else old


# The Task SDK raises and catches these from 3.2; before, it (and Airflow 2) uses airflow.exceptions.
# (3.1's airflow.sdk.exceptions has AirflowException but not the others.)
_EXCEPTIONS = _since(AIRFLOW_V_3_2_PLUS, "airflow.sdk.exceptions", "airflow.exceptions")
# airflow.sdk has the operator, sensor and notifier bases from 3.0; BaseHook only from 3.1.
_SENSORS = _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk", "airflow.sensors.base")
_SECRETS_MASKER = "airflow.utils.log.secrets_masker"  # Airflow 2

#: Each lazily imported name -> the module it is imported from on the running Airflow.
_WHERE: dict[str, str] = {
    "AirflowException": _EXCEPTIONS,
    "AirflowFailException": _EXCEPTIONS,
    "AirflowSensorTimeout": _EXCEPTIONS,
    "AirflowSkipException": _EXCEPTIONS,
    "AirflowTaskTimeout": _EXCEPTIONS,
    "TaskDeferred": _EXCEPTIONS,
    "BaseHook": _since(AIRFLOW_V_3_1_PLUS, "airflow.sdk", "airflow.hooks.base"),
    "BaseNotifier": _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk", "airflow.notifications.basenotifier"),
    "BaseOperator": _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk", "airflow.models"),
    "DAG": _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk", "airflow.models.dag"),
    "TaskGroup": _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk", "airflow.utils.task_group"),
    "task": _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk", "airflow.decorators"),
    "BaseSensorOperator": _SENSORS,
    "PokeReturnValue": _SENSORS,
    "mask_secret": _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk.log", _SECRETS_MASKER),
    "redact": _since(
        AIRFLOW_V_3_1_PLUS,
        "airflow.sdk.log",
        _since(AIRFLOW_V_3_0_PLUS, "airflow.sdk.execution_time.secrets_masker", _SECRETS_MASKER),
    ),
    # Airflow's configuration (``[operators] default_deferrable``): ``import airflow`` has already loaded it on
    # every supported version, so reading it at DAG parse time costs nothing.
    "conf": "airflow.configuration",
    # The same module on every supported version; only the trigger modules need it.
    "BaseTrigger": "airflow.triggers.base",
    "TriggerEvent": "airflow.triggers.base",
}

if TYPE_CHECKING:
    # What mypy sees: the newest Airflow's locations (the table above picks the running version's).
    from airflow.configuration import conf
    from airflow.sdk import (
        DAG,
        BaseHook,
        BaseNotifier,
        BaseOperator,
        BaseSensorOperator,
        PokeReturnValue,
        TaskGroup,
        task,
    )
    from airflow.sdk import Context as Context
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )
    from airflow.sdk.log import mask_secret, redact
    from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "DAG",
    "HAS_TASK_STATE_STORE",
    "NOTIFIER_KEEPS_EMPTY_RENDER",
    "READS_CONN_FIELDS",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "BaseHook",
    "BaseNotifier",
    "BaseOperator",
    "BaseSensorOperator",
    "BaseTrigger",
    "PokeReturnValue",
    "TaskDeferred",
    "TaskGroup",
    "TriggerEvent",
    "aget_connection",
    "conf",
    "mask_secret",
    "notifier_init_args",
    "redact",
    "task",
]


def __getattr__(name: str) -> Any:
    """Import ``name`` from where the running Airflow keeps it, on first use; later lookups find it here."""
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, including those not imported yet."""
    return sorted({*globals(), *_WHERE})


def notifier_init_args(context: Any) -> tuple[Any, ...]:
    """
    Arguments for ``BaseNotifier.__init__``.

    From 3.1 ``BaseNotifier.__init__`` takes an optional ``context`` (deadline alerts build the notifier with
    the callback's context, then await it); before, it takes no argument.
    """
    return (context,) if context is not None and AIRFLOW_V_3_1_PLUS else ()


async def aget_connection(conn_id: str) -> Any:
    """Read a connection from an event loop (the triggerer's) without blocking it."""
    base_hook = __getattr__("BaseHook")  # a name in the table: a bare global lookup would not import it
    if AIRFLOW_V_3_1_PLUS:
        return await base_hook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async  # a dependency of Airflow 2.11 and 3.x

    return await sync_to_async(base_hook.get_connection)(conn_id)
