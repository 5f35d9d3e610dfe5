"""
Everything that differs between the Airflow versions this provider supports, in one place.

Checked against the installed Airflow 2.11.2, 3.0.6, 3.1.8, 3.2.2 and 3.3.2. The rest of the package (and the
tests, examples and benchmarks) imports Airflow's base classes, exceptions and secret masking from here;
dropping an Airflow version is a grep for its flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow import __version__ as _airflow_version
from airflow.triggers.base import BaseTrigger, TriggerEvent  # the same module on every supported version
from packaging.version import Version

_AIRFLOW = Version(Version(_airflow_version).base_version)

AIRFLOW_V_3_0_PLUS = _AIRFLOW >= Version("3.0.0")
AIRFLOW_V_3_1_PLUS = _AIRFLOW >= Version("3.1.0")
AIRFLOW_V_3_2_PLUS = _AIRFLOW >= Version("3.2.0")
AIRFLOW_V_3_3_PLUS = _AIRFLOW >= Version("3.3.0")

#: ``context["task_state_store"]`` (get/set/delete/clear of JSON values, per task instance) arrived in 3.3.
HAS_TASK_STATE_STORE = AIRFLOW_V_3_3_PLUS
#: The UI reads ``conn-fields`` and ``ui-field-behaviour`` from provider info from 3.2 on; before, it calls the
#: hook's ``get_connection_form_widgets``/``get_ui_field_behaviour`` (on 3.0 only if wtforms and FAB import).
READS_CONN_FIELDS = AIRFLOW_V_3_2_PLUS
#: Before 3.3 a notifier's template field that renders to "" keeps its raw template text (operators are unaffected).
NOTIFIER_KEEPS_EMPTY_RENDER = not AIRFLOW_V_3_3_PLUS

# The Task SDK raises and catches these from 3.2; before, it (and Airflow 2) uses airflow.exceptions.
# (3.1's airflow.sdk.exceptions has AirflowException but not the others.)
if AIRFLOW_V_3_2_PLUS:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )
else:
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )

if AIRFLOW_V_3_1_PLUS:
    from airflow.sdk import BaseHook, BaseNotifier, BaseOperator, BaseSensorOperator, PokeReturnValue
    from airflow.sdk.log import mask_secret, redact
elif AIRFLOW_V_3_0_PLUS:
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]
    from airflow.sdk import BaseNotifier, BaseOperator, BaseSensorOperator, PokeReturnValue
    from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef,attr-defined]
    from airflow.sdk.log import mask_secret  # type: ignore[no-redef,attr-defined]
else:
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]
    from airflow.models import BaseOperator  # type: ignore[no-redef,attr-defined]
    from airflow.notifications.basenotifier import BaseNotifier  # type: ignore[no-redef,attr-defined]
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue  # type: ignore[no-redef,attr-defined]
    from airflow.utils.log.secrets_masker import mask_secret, redact  # type: ignore[no-redef,attr-defined]

if TYPE_CHECKING:
    from airflow.sdk import Context as Context

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
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
    "TriggerEvent",
    "aget_connection",
    "mask_secret",
    "notifier_init_args",
    "redact",
]


def notifier_init_args(context: Any) -> tuple[Any, ...]:
    """
    Arguments for ``BaseNotifier.__init__``.

    From 3.1 ``BaseNotifier.__init__`` takes an optional ``context`` (deadline alerts build the notifier with
    the callback's context, then await it); before, it takes no argument.
    """
    return (context,) if context is not None and AIRFLOW_V_3_1_PLUS else ()


async def aget_connection(conn_id: str) -> Any:
    """Read a connection from an event loop (the triggerer's) without blocking it."""
    if AIRFLOW_V_3_1_PLUS:
        return await BaseHook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async  # a dependency of Airflow 2.11 and 3.x

    return await sync_to_async(BaseHook.get_connection)(conn_id)
