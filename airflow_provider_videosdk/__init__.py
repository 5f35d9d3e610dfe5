"""Apache Airflow provider for VideoSDK: place SIP phone calls into VideoSDK meetings."""

from __future__ import annotations

__version__ = "0.1.0"
