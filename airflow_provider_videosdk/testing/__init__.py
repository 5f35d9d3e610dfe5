"""Test helpers: a local VideoSDK emulator and a pytest fixture for DAG authors."""

from __future__ import annotations

from typing import Any

__all__ = ["EmulatorClient", "Fault", "RefusingProxy", "VideoSDKEmulator", "closed_port"]


def __getattr__(name: str) -> Any:
    # Lazy, so ``python -m airflow_provider_videosdk.testing.emulator`` does not import it twice.
    if name in __all__:
        from airflow_provider_videosdk.testing import emulator

        return getattr(emulator, name)
    raise AttributeError(name)
