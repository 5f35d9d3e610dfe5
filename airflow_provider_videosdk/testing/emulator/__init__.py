"""
A local emulator of the VideoSDK REST endpoints this provider uses, over real HTTP on 127.0.0.1.

It checks the JWT and the raw ``Authorization`` header the way VideoSDK documents them, checks
bodies, answers in VideoSDK's shapes, records every request, simulates callees answering (they
then show up in ``GET /v2/sessions``), and can be told to fail for fault tests.

Two ways to place a call: the outbound-call API ``POST /v2/sip/outbound-call`` (callees answer after
``answer_after`` / ``set_answer``; placed calls in ``emu.calls``), and the newer call API
``POST /v2/sip/call`` with ``GET /v2/sip/call[/{id}]`` and ``POST /v2/sip/call/end``, whose calls
move ``initiated`` -> ``ringing`` -> answered, rejected, not-answered, failed or ended as their
callee's script says (``set_callee``), with lookup faults (``set_call_api``); placed calls in
``emu.sip_calls``, hang-ups in ``emu.call_ends``. The trunks double as the call API's gateways.

Run it on its own with::

    python -m airflow_provider_videosdk.testing.emulator --port 8765 --api-key K --api-secret S \\
        --callee +14155550100=answer:5 --callee +14155550101=never

Tests and tools steer a running emulator through ``/_emulator/*`` (see :class:`EmulatorClient`).
With ``--tls`` it serves HTTPS with a throwaway certificate (see :attr:`VideoSDKEmulator.ca_file`).
:class:`RefusingProxy` and :func:`closed_port` stand in for a proxy that refuses, or nothing listening.

Modules: ``core`` (the emulator), ``outbound_api`` and ``call_api`` (its VideoSDK routes), ``callees``
(scripted callees and call timelines), ``auth``, ``faults``, ``handlers`` (the HTTP server),
``control`` and ``client`` (``/_emulator/*``), ``state``, ``tls``, ``proxy``, ``cli``.
"""

from __future__ import annotations

from airflow_provider_videosdk.testing.emulator.callees import CallApiOptions, CalleeScript
from airflow_provider_videosdk.testing.emulator.cli import main
from airflow_provider_videosdk.testing.emulator.client import EmulatorClient
from airflow_provider_videosdk.testing.emulator.core import VideoSDKEmulator
from airflow_provider_videosdk.testing.emulator.faults import Fault
from airflow_provider_videosdk.testing.emulator.proxy import RefusingProxy, closed_port
from airflow_provider_videosdk.testing.emulator.state import RecordedRequest

__all__ = [
    "CallApiOptions",
    "CalleeScript",
    "EmulatorClient",
    "Fault",
    "RecordedRequest",
    "RefusingProxy",
    "VideoSDKEmulator",
    "closed_port",
    "main",
]
