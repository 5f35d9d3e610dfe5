"""Fast tier: what goes on the wire and what comes back from it: ids in paths, no I/O."""

from __future__ import annotations

import pytest

from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.hooks import call_api
from airflow_provider_videosdk.validation import clean_path_id


@pytest.mark.parametrize("value", [".", "..", "a/b", "../x", "a?b=1", "a#b", "a\x00b", "a\rb", "a\u2028b"])
def test_ids_that_would_change_the_url_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(VideoSDKInputError, match=r"^call_id must "):
        call_api.get_call_request(value)
    with pytest.raises(VideoSDKInputError, match=r"^room_id must"):
        clean_path_id("room_id", value)


@pytest.mark.parametrize("value", ["call_7f3a", "...", "a.b", "a b", "a%2Fb", "ü-1"])
def test_other_ids_are_accepted_and_quoted_into_one_path_segment(value: str) -> None:
    path = call_api.get_call_request(value).path
    assert path.startswith("/v2/sip/call/") and "/" not in path.removeprefix("/v2/sip/call/")
