"""Fast tier: what goes on the wire and what comes back from it: ids in paths, error excerpts, no I/O."""

from __future__ import annotations

import gzip
import json
import logging
import tracemalloc
import zlib
from pathlib import Path

import pytest

from airflow_provider_videosdk._http import call_api
from airflow_provider_videosdk._http.body import MAX_BODY_BYTES, BodyDecoder, BodyTooLarge, UndecodableBody
from airflow_provider_videosdk._http.config import VideoSDKConfig
from airflow_provider_videosdk._http.environment import ca_bundle, is_loopback
from airflow_provider_videosdk._http.policy import Exchange, RawResponse
from airflow_provider_videosdk.exceptions import VideoSDKError, VideoSDKInputError
from airflow_provider_videosdk.validation import EXCERPT_LENGTH, clean_path_id, excerpt, mask_phone

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJhcGlrZXkiOiJrIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
LEAKY = f"Callee John <john.doe@example.com> refused; token {JWT} for +14155550100; " + "detail " * 120


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


def test_an_excerpt_redacts_tokens_and_addresses_masks_numbers_and_is_short() -> None:
    text = excerpt(LEAKY)

    assert len(text) <= EXCERPT_LENGTH and text.endswith("\u2026")
    assert "john.doe" not in text and "example.com" not in text and "eyJ" not in text and "4155550100" not in text
    assert text.startswith(f"Callee John <<redacted>> refused; token <redacted> for {mask_phone('+14155550100')};")
    # Numbers may be kept (log_full_numbers); tokens and addresses never are.
    kept = excerpt(LEAKY, keep_numbers=True)
    assert "+14155550100" in kept and "eyJ" not in kept and "john.doe" not in kept
    assert excerpt("a\n  b\r\n") == "a b"


@pytest.mark.parametrize("where", ["message", "raw body"])
def test_an_api_error_holds_only_the_excerpt(where: str) -> None:
    config = VideoSDKConfig(base_url="https://api.example", api_key="k", api_secret="s", token=None)
    exchange = Exchange(call_api.get_call_request("c1"), config, logging.getLogger("test-wire"))
    exchange.begin()
    body = json.dumps({"message": LEAKY}).encode() if where == "message" else LEAKY.encode()

    with pytest.raises(VideoSDKError) as error:
        exchange.answered(RawResponse(400, {}, body))

    assert error.value.api_message == excerpt(LEAKY)
    assert str(error.value) == f"GET /v2/sip/call/c1: VideoSDK answered 400: {excerpt(LEAKY)}"


def gzip_of_zeros(size: int) -> bytes:
    """gzip of ``size`` zero bytes, made a MiB at a time (a 64 MiB bomb is ~65 KB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    mib = bytes(1 << 20)
    return b"".join(packer.compress(mib) for _ in range(size >> 20)) + packer.flush()


def decode(encoding: str | None, raw: bytes, step: int = 4096) -> bytes:
    decoder = BodyDecoder(encoding)
    for i in range(0, len(raw), step):
        decoder.feed(raw[i : i + step])
    return decoder.body()


def test_gzip_and_identity_answers_decode_the_same_fed_in_any_pieces() -> None:
    body = json.dumps({"data": [{"id": f"call-{i}", "to": "+14155550100"} for i in range(200)]}).encode()

    assert decode(None, body) == decode("identity", body) == body
    for step in (1, 7, 4096, len(body)):
        assert decode("gzip", gzip.compress(body), step) == body
    assert decode("X-GZIP", gzip.compress(body)) == body
    assert decode("gzip", b"") == b""  # e.g. a 204: nothing to inflate


def test_a_gzip_bomb_stops_at_the_cap_without_inflating_past_it() -> None:
    bomb = gzip_of_zeros(64 << 20)
    assert len(bomb) < 100_000

    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match=f"larger than {MAX_BODY_BYTES} bytes"):
            decode("gzip", bomb, step=65536)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX_BODY_BYTES  # the cap, one chunk and the decoder: not 64 MiB
    assert decode("gzip", gzip_of_zeros(MAX_BODY_BYTES)) == bytes(MAX_BODY_BYTES)  # the cap itself is allowed


@pytest.mark.parametrize(
    ("encoding", "raw", "problem"),
    [
        ("br", b"x", "Content-Encoding 'br', which was not offered"),
        ("gzip, gzip", b"x", "which was not offered"),
        ("gzip", b"not gzip at all", "gzip data is broken"),
        ("gzip", gzip.compress(b"{}" * 100)[:-12], "ended before its end"),
    ],
    ids=["brotli", "twice", "not-gzip", "cut"],
)
def test_an_answer_that_cannot_be_decoded_says_why(encoding: str, raw: bytes, problem: str) -> None:
    with pytest.raises(UndecodableBody, match=problem):
        decode(encoding, raw)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://127.1.2.3", True),
        ("https://LOCALHOST:1/x", True),
        ("http://emulator.localhost", True),
        ("http://[::1]:80", True),
        ("https://api.videosdk.live", False),
        ("http://localhost.example.com", False),
        ("http://10.0.0.1", False),
        ("http://[::ffff:10.0.0.1]", False),
    ],
)
def test_only_this_machine_counts_as_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_the_ca_bundle_is_read_in_requests_order_then_openssls() -> None:
    assert ca_bundle({}) is None
    assert ca_bundle({"SSL_CERT_DIR": "/d", "SSL_CERT_FILE": "/f"}) == "/f"
    assert ca_bundle({"SSL_CERT_FILE": "/f", "CURL_CA_BUNDLE": "/c"}) == "/c"
    assert ca_bundle({"CURL_CA_BUNDLE": "/c", "REQUESTS_CA_BUNDLE": "/r", "SSL_CERT_FILE": ""}) == "/r"
    assert ca_bundle({"REQUESTS_CA_BUNDLE": "", "SSL_CERT_DIR": "/d"}) == "/d"


@pytest.mark.parametrize(
    ("status", "headers", "who", "hint"),
    [
        (407, {}, "a proxy answered 407", "check HTTPS_PROXY"),
        (403, {"via": "1.1 squid"}, "VideoSDK or a proxy (Via: 1.1 squid) answered 403", "check HTTPS_PROXY"),
        (404, {"via": "1.1 squid"}, "VideoSDK or a proxy (Via: 1.1 squid) answered 404", None),
        (401, {}, "VideoSDK answered 401", "check the connection's API key"),
    ],
)
def test_an_answer_from_or_through_a_proxy_is_named_so(
    status: int, headers: dict[str, str], who: str, hint: str | None
) -> None:
    config = VideoSDKConfig(base_url="https://api.example", api_key="k", api_secret="s", token=None)
    exchange = Exchange(call_api.get_call_request("c1"), config, logging.getLogger("test-wire"))
    exchange.begin()

    with pytest.raises(VideoSDKError) as error:
        exchange.answered(RawResponse(status, headers, b"refused"))

    text = str(error.value)
    assert text.startswith(f"GET /v2/sip/call/c1: {who}: refused")
    assert text.endswith("refused") if hint is None else hint in text


# Releases with known CVEs that the provider's dependency floors must leave out.
VULNERABLE = {
    "requests": ["2.28.0", "2.31.0", "2.32.3"],  # CVE-2024-47081 (fixed in 2.32.4), CVE-2024-35195, CVE-2023-32681
    "urllib3": ["2.3.0", "2.4.0"],  # CVE-2025-50181, CVE-2025-50182 (fixed in 2.5.0)
    "pyjwt": ["2.6.0", "2.10.0"],  # CVE-2024-53861 (2.10.0; fixed in 2.10.1)
}


def test_the_dependency_floors_leave_out_releases_with_known_cves() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    from packaging.requirements import Requirement

    with (Path(__file__).parents[2] / "pyproject.toml").open("rb") as file:
        requirements = [Requirement(r) for r in tomllib.load(file)["project"]["dependencies"]]
    by_name = {r.name.lower(): r.specifier for r in requirements}

    for name, versions in VULNERABLE.items():
        assert [v for v in versions if by_name[name].contains(v)] == [], name
