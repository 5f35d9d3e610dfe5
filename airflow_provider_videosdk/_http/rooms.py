"""The rooms request (``POST /v2/rooms``), built once for the sync hook and the async client."""

from __future__ import annotations

from typing import Any

from airflow_provider_videosdk._http.policy import ApiRequest
from airflow_provider_videosdk.validation import clean_path_id


def create_room_request(custom_room_id: Any = None) -> ApiRequest:
    """``POST /v2/rooms``; idempotent on ``custom_room_id`` (a retry finds the same room); answers ``roomId``."""
    body = {}
    if custom_room_id is not None:
        body["customRoomId"] = clean_path_id("custom_room_id", custom_room_id)
    return ApiRequest(
        "POST",
        "/v2/rooms",
        json=body,
        idempotent=custom_room_id is not None,
        require="roomId",
        unknown="the room may or may not have been created",
    )
