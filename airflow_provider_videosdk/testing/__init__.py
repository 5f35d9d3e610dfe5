"""Test helpers: a local VideoSDK emulator and a pytest fixture for DAG authors."""

from __future__ import annotations

from airflow_provider_videosdk.testing.emulator import EmulatorClient, Fault, VideoSDKEmulator

__all__ = ["EmulatorClient", "Fault", "VideoSDKEmulator"]
