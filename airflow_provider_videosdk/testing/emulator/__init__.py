"""
A local emulator of the VideoSDK REST endpoints this provider uses, over real HTTP on 127.0.0.1.

It checks the JWT and the raw ``Authorization`` header the way VideoSDK documents them, checks
bodies, answers in VideoSDK's shapes, records every request, simulates callees answering (they
then show up in ``GET /v2/sessions``), and can be told to fail for fault tests.

Run it on its own with::

    python -m airflow_provider_videosdk.testing.emulator --port 8765 --api-key K --api-secret S

Tests and tools steer a running emulator through ``/_emulator/*`` (see :class:`EmulatorClient`).
With ``--tls`` it serves HTTPS with a throwaway certificate (see :attr:`VideoSDKEmulator.ca_file`).
:class:`RefusingProxy` and :func:`closed_port` stand in for a proxy that refuses, or nothing listening.

Modules: ``core`` (the emulator), ``seed_api`` (its VideoSDK routes), ``auth``, ``faults``,
``handlers`` (the HTTP server), ``control`` and ``client`` (``/_emulator/*``), ``tls``, ``proxy``, ``cli``.
"""

from __future__ import annotations

from airflow_provider_videosdk.testing.emulator.cli import main
from airflow_provider_videosdk.testing.emulator.client import EmulatorClient
from airflow_provider_videosdk.testing.emulator.core import VideoSDKEmulator
from airflow_provider_videosdk.testing.emulator.faults import Fault
from airflow_provider_videosdk.testing.emulator.proxy import RefusingProxy, closed_port
from airflow_provider_videosdk.testing.emulator.state import RecordedRequest

__all__ = ["EmulatorClient", "Fault", "RecordedRequest", "RefusingProxy", "VideoSDKEmulator", "closed_port", "main"]
