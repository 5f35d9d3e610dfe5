"""The compat table: where each name is imported from on every supported Airflow, and lazy resolution."""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import airflow
import pytest

from airflow_provider_videosdk import validation, version_compat

if TYPE_CHECKING:
    from types import ModuleType

_EXC_OLD, _EXC_NEW = "airflow.exceptions", "airflow.sdk.exceptions"
_TRIGGERS = "airflow.triggers.base"
_MASKER_2 = "airflow.utils.log.secrets_masker"
_EXCEPTIONS = (
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "AirflowSkipException",
    "AirflowTaskTimeout",
    "TaskDeferred",
)
# Where each name lives, by Airflow version (what the modules of each release hold).
_AIRFLOW_2 = {
    **dict.fromkeys(_EXCEPTIONS, _EXC_OLD),
    "BaseHook": "airflow.hooks.base",
    "BaseNotifier": "airflow.notifications.basenotifier",
    "BaseOperator": "airflow.models",
    "BaseSensorOperator": "airflow.sensors.base",
    "PokeReturnValue": "airflow.sensors.base",
    "mask_secret": _MASKER_2,
    "redact": _MASKER_2,
    "BaseTrigger": _TRIGGERS,
    "TriggerEvent": _TRIGGERS,
    "DAG": "airflow.models.dag",
    "TaskGroup": "airflow.utils.task_group",
    "conf": "airflow.configuration",
    "task": "airflow.decorators",
}
_SDK_BASES = {
    n: "airflow.sdk"
    for n in ("BaseNotifier", "BaseOperator", "BaseSensorOperator", "PokeReturnValue", "DAG", "TaskGroup", "task")
}
_AIRFLOW_3_0 = {
    **_AIRFLOW_2,
    **_SDK_BASES,
    "mask_secret": "airflow.sdk.log",
    "redact": "airflow.sdk.execution_time.secrets_masker",
}
_AIRFLOW_3_1 = {**_AIRFLOW_3_0, "BaseHook": "airflow.sdk", "redact": "airflow.sdk.log"}
_AIRFLOW_3_2 = {**_AIRFLOW_3_1, **dict.fromkeys(_EXCEPTIONS, _EXC_NEW)}
EXPECTED = {
    "2.11.2": _AIRFLOW_2,
    "3.0.6": _AIRFLOW_3_0,
    "3.1.8": _AIRFLOW_3_1,
    "3.1.0rc1": _AIRFLOW_3_1,
    "3.2.2": _AIRFLOW_3_2,
    "3.3.2": _AIRFLOW_3_2,
    "3.4.0.dev0+local": _AIRFLOW_3_2,
}


def _compat_as_if(version: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A private copy of version_compat, executed as if the installed Airflow were ``version``."""
    monkeypatch.setattr(airflow, "__version__", version)
    spec = importlib.util.spec_from_file_location("_videosdk_compat_probe", version_compat.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("version", sorted(EXPECTED))
def test_each_name_comes_from_where_that_airflow_keeps_it(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compat = _compat_as_if(version, monkeypatch)
    assert compat._WHERE == EXPECTED[version]
    major, minor = (int(x) for x in re.findall(r"\d+", version)[:2])
    assert compat.AIRFLOW_V_3_0_PLUS is (major >= 3)
    assert compat.AIRFLOW_V_3_2_PLUS is ((major, minor) >= (3, 2))
    assert compat.HAS_TASK_STATE_STORE is ((major, minor) >= (3, 3))


def test_every_exported_name_resolves_on_the_installed_airflow() -> None:
    for name in version_compat.__all__:
        assert getattr(version_compat, name) is not None, name
    for name, module in version_compat._WHERE.items():
        assert getattr(version_compat, name) is getattr(importlib.import_module(module), name)
        assert name in vars(version_compat), f"{name} is not kept after its first lookup"
    assert set(version_compat._WHERE) <= set(version_compat.__all__)
    assert set(version_compat._WHERE) <= set(dir(version_compat))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = version_compat.no_such_name
    assert not hasattr(version_compat, "Context")  # only for type checkers


def test_importing_validation_compiles_no_pattern() -> None:
    # The patterns are compiled on first use, not when a DAG file imports an operator.
    code = "from airflow_provider_videosdk import validation as v; print(v._e164_re.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
    assert validation.clean_e164("to", "+14155550100") == "+14155550100"
    assert validation._e164_re() is validation._e164_re()  # compiled once
