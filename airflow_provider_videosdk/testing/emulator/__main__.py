"""``python -m airflow_provider_videosdk.testing.emulator --help``."""

from airflow_provider_videosdk.testing.emulator.cli import main

main()
