"""Operator that creates a VideoSDK meeting room, e.g. to phone people into a fresh meeting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_videosdk.version_compat import BaseOperator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_provider_videosdk.version_compat import Context


class VideoSDKCreateRoomOperator(BaseOperator):
    """
    Create a meeting room (``POST /v2/rooms``) and return its ``roomId`` (XCom ``return_value``).

    With ``custom_room_id`` the creation is idempotent: VideoSDK returns the existing room with
    that custom ID, so a retry or a second run yields the same ``roomId``. Pass the result on
    with ``meeting_id=create_room.output``.

    :param custom_room_id: your own ID for the room (templated); VideoSDK's ``roomId`` is returned.
    :param videosdk_conn_id: the ``videosdk`` connection to use.
    """

    template_fields: Sequence[str] = ("custom_room_id",)
    ui_color = "#5568fe"

    def __init__(
        self,
        *,
        custom_room_id: str | None = None,
        videosdk_conn_id: str = "videosdk_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.custom_room_id = custom_room_id
        self.videosdk_conn_id = videosdk_conn_id

    def execute(self, context: Context) -> str:
        """Create (or, with ``custom_room_id``, find) the room and return its ``roomId``."""
        from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook

        hook = VideoSDKHook(self.videosdk_conn_id)
        try:
            room = hook.create_room(self.custom_room_id)
        finally:
            hook.close()
        room_id: str = room["roomId"]
        if self.custom_room_id is None:
            self.log.info("Created room %s", room_id)
        else:
            self.log.info(
                "Room %s has custom ID %s (created, or found from an earlier try)", room_id, self.custom_room_id
            )
        return room_id
