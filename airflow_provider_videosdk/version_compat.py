"""
Everything that differs between the Airflow versions this provider supports, in one place.

The flags are computed once from the installed Airflow; every other module (and the tests,
examples and benchmarks) imports Airflow's base classes and exceptions from here. Dropping an
Airflow version is a grep for its flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow import __version__ as _airflow_version
from packaging.version import Version

_AIRFLOW = Version(Version(_airflow_version).base_version)

AIRFLOW_V_3_0_PLUS = _AIRFLOW >= Version("3.0.0")
AIRFLOW_V_3_1_PLUS = _AIRFLOW >= Version("3.1.0")
AIRFLOW_V_3_2_PLUS = _AIRFLOW >= Version("3.2.0")
AIRFLOW_V_3_3_PLUS = _AIRFLOW >= Version("3.3.0")

#: The task state store (``context["task_state_store"]``) arrived in Airflow 3.3.
HAS_TASK_STATE_STORE = AIRFLOW_V_3_3_PLUS
#: The UI reads a provider's ``conn-fields`` from 3.2; before that, the hook's form widgets.
READS_CONN_FIELDS = AIRFLOW_V_3_2_PLUS

if AIRFLOW_V_3_1_PLUS:
    from airflow.sdk import BaseHook, BaseNotifier, BaseOperator, BaseSensorOperator, PokeReturnValue
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )
    from airflow.sdk.log import mask_secret, redact
elif AIRFLOW_V_3_0_PLUS:
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]
    from airflow.sdk import BaseNotifier, BaseOperator, BaseSensorOperator, PokeReturnValue  # type: ignore[no-redef]
    from airflow.sdk.execution_time.secrets_masker import mask_secret, redact  # type: ignore[no-redef]
else:
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        AirflowSkipException,
        AirflowTaskTimeout,
        TaskDeferred,
    )
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef,attr-defined]
    from airflow.models import BaseOperator  # type: ignore[no-redef]
    from airflow.notifications.basenotifier import BaseNotifier  # type: ignore[no-redef]
    from airflow.sensors.base import BaseSensorOperator, PokeReturnValue  # type: ignore[no-redef]
    from airflow.utils.log.secrets_masker import mask_secret, redact  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import Context as Context

__all__ = [
    "AIRFLOW_V_3_0_PLUS",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "HAS_TASK_STATE_STORE",
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
    "PokeReturnValue",
    "TaskDeferred",
    "aget_connection",
    "mask_secret",
    "notifier_init_args",
    "redact",
]


def notifier_init_args(context: Any) -> tuple[Any, ...]:
    """
    Arguments for ``BaseNotifier.__init__``.

    Airflow 3.1+ deadline alerts build the notifier with the callback's ``context``, then await it.
    """
    return (context,) if context is not None and AIRFLOW_V_3_1_PLUS else ()


async def aget_connection(conn_id: str) -> Any:
    """Read a connection from the triggerer's event loop without blocking it."""
    if AIRFLOW_V_3_1_PLUS:
        return await BaseHook.aget_connection(conn_id)
    from asgiref.sync import sync_to_async

    return await sync_to_async(BaseHook.get_connection)(conn_id)
