"""What both sensors share: their deadlines, and a hook made on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_videosdk.version_compat import BaseSensorOperator

if TYPE_CHECKING:
    from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

# The sensor's own deadline travels in the trigger; this margin only backs it up, should the
# triggerer be down when it passes.
DEFERRAL_TIMEOUT_MARGIN = 60.0
MAX_ANSWER_TIMEOUT = 7 * 24 * 3600.0


class VideoSDKSensorBase(BaseSensorOperator):
    """What both sensors share: a hook made on first use (the hook module is imported only then)."""

    videosdk_conn_id: str
    _hook: VideoSDKHook | None = None

    def _get_hook(self) -> VideoSDKHook:
        """The sensor's hook, made on first use."""
        if self._hook is None:
            from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

            self._hook = VideoSDKHook(self.videosdk_conn_id)
        return self._hook

    def _close_hook(self) -> None:
        """Close the hook's connections; the next use makes a new hook."""
        if self._hook is not None:
            self._hook.close()
            self._hook = None
