"""
pytest fixtures for testing DAGs that use this provider, without a VideoSDK account.

Enable them in your ``conftest.py``::

    pytest_plugins = ["airflow_provider_videosdk.testing.pytest_plugin"]

then ask for ``videosdk_emulator``: a running emulator, with ``AIRFLOW_CONN_VIDEOSDK_DEFAULT``
pointing at it and ``VIDEOSDK_EMULATOR_CONTROL_TOKEN`` holding its control token (which
:class:`EmulatorClient` reads) for the duration of the test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from airflow_provider_videosdk.testing.emulator import VideoSDKEmulator
from airflow_provider_videosdk.testing.emulator.control import TOKEN_ENV

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def videosdk_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[VideoSDKEmulator]:
    """A fresh emulator on a free port, wired up as the ``videosdk_default`` connection."""
    with VideoSDKEmulator() as emulator:
        # Fast backoff so fault tests don't sleep for seconds; everything else as in production.
        monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", emulator.connection_json({"retry_backoff": 0.01}))
        monkeypatch.setenv(TOKEN_ENV, emulator.control_token)
        yield emulator
