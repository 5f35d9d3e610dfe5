"""Fast tier: a host without a scheme, and a TLS handshake that a plain-HTTP server answered."""

from __future__ import annotations

import logging
import ssl
from types import SimpleNamespace

import pytest

from airflow_provider_videosdk._http.config import VideoSDKConfig, read_config
from airflow_provider_videosdk._http.errors import plain_http_answered
from airflow_provider_videosdk._http.outbound_api import outbound_call_request
from airflow_provider_videosdk._http.policy import Exchange, Progress
from airflow_provider_videosdk.calls import OutboundCall
from airflow_provider_videosdk.exceptions import VideoSDKError

POST = outbound_call_request(OutboundCall.build("+14155550100", "On-call", "room", "trunk"))


def wrong_version() -> Exception:
    """What urllib3 raises: an SSLError chained inside the library's own errors."""
    inner = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    inner.reason = "WRONG_VERSION_NUMBER"  # type: ignore[misc]
    outer = ConnectionError("Max retries exceeded")
    outer.__cause__ = inner
    return outer


def conn(host: str, schema: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(host=host, port=None, schema=schema, login="k", password="s", extra_dejson={})


@pytest.mark.parametrize(
    ("host", "schema", "assumed"),
    [("127.0.0.1:8765", None, True), ("http://127.0.0.1:8765", None, False), ("127.0.0.1", "http", False)],
)
def test_the_config_remembers_when_https_was_assumed(host: str, schema: str | None, assumed: bool) -> None:
    assert read_config(conn(host, schema), "c").scheme_assumed is assumed


def test_a_tls_handshake_answered_in_plain_http_is_recognised_through_its_causes() -> None:
    assert plain_http_answered(wrong_version())
    assert plain_http_answered(ssl.SSLError(1, "[SSL: RECORD_LAYER_FAILURE] record layer failure"))
    assert not plain_http_answered(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    assert not plain_http_answered(ConnectionRefusedError(111, "refused"))


@pytest.mark.parametrize("assumed", [True, False])
def test_plain_http_is_permanent_and_says_is_it_http(assumed: bool) -> None:
    config = VideoSDKConfig("https://127.0.0.1:8765", "k", "s", None, retry_attempts=5, scheme_assumed=assumed)
    ex = Exchange(POST, config, logging.getLogger("t"))
    ex.begin()
    with pytest.raises(VideoSDKError, match=r"answered the TLS handshake in plain HTTP.*is it http://\?") as info:
        ex.failed(Progress(), wrong_version())
    assert ("https:// was assumed" in str(info.value)) is assumed
    assert ex.attempts == 1


def test_a_refused_connection_is_still_retried_and_says_https_was_assumed() -> None:
    config = VideoSDKConfig("https://127.0.0.1:8765", "k", "s", None, retry_attempts=1, scheme_assumed=True)
    ex = Exchange(POST, config, logging.getLogger("t"))
    ex.begin()
    with pytest.raises(VideoSDKError, match=r"ConnectionRefusedError .*https:// was assumed.*gave up after 1 attempt"):
        ex.failed(Progress(), ConnectionRefusedError(111, "refused"))
