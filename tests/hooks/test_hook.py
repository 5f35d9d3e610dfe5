"""VideoSDKHook: auth, connection settings, masking and registration, against the emulator."""

from __future__ import annotations

import json
import subprocess
import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest

from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.get_provider_info import get_provider_info
from airflow_provider_videosdk.hooks.videosdk import VideoSDKHook
from airflow_provider_videosdk.validation import mask_phone
from airflow_provider_videosdk.version_compat import AIRFLOW_V_3_0_PLUS, READS_CONN_FIELDS
from tests.helpers import AIRFLOW_BIN, CALL

if TYPE_CHECKING:
    from airflow_provider_videosdk.testing import VideoSDKEmulator


def set_conn(monkeypatch: pytest.MonkeyPatch, **conn: Any) -> VideoSDKHook:
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", json.dumps({"conn_type": "videosdk", **conn}))
    return VideoSDKHook()


def redact(value: str) -> Any:
    from airflow_provider_videosdk.version_compat import redact as _redact

    return _redact(value)


def test_token_is_the_documented_hs256_crawler_jwt_sent_raw(videosdk_emulator: VideoSDKEmulator) -> None:
    VideoSDKHook().outbound_call(**CALL)

    (request,) = videosdk_emulator.requests
    token = request.headers["authorization"]
    assert token.count(".") == 2 and not token.lower().startswith("bearer")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, videosdk_emulator.api_secret, algorithms=["HS256"])
    assert claims["apikey"] == videosdk_emulator.api_key
    assert claims["permissions"] == ["allow_join", "allow_mod"]
    assert claims["version"] == 2 and claims["roles"] == ["crawler"]
    assert isinstance(claims["iat"], int) and claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 5


def test_token_is_cached_and_reminted_shortly_before_expiry(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_VIDEOSDK_DEFAULT", videosdk_emulator.connection_json({"token_ttl": 600}))
    hook = VideoSDKHook()
    for _ in range(3):
        hook.outbound_call(**CALL)
    assert len(videosdk_emulator.tokens) == 1
    (token,) = videosdk_emulator.tokens
    claims = jwt.decode(token, videosdk_emulator.api_secret, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 600
    # Re-minted 60 s (or 10 % of a short lifetime) before expiry, never after.
    assert hook._token_refresh_at == claims["exp"] - 60

    time.sleep(1.05)  # a new iat, so a re-minted token differs from the cached one
    hook._token_refresh_at = time.time() - 1  # as if the re-mint moment had come
    hook.outbound_call(**CALL)
    assert len(videosdk_emulator.tokens) == 2


def test_one_tcp_connection_is_reused_across_calls(videosdk_emulator: VideoSDKEmulator) -> None:
    hook = VideoSDKHook()
    for _ in range(5):
        hook.outbound_call(**CALL)
    assert videosdk_emulator.connections == 1


def test_a_pre_minted_token_is_used_as_is(videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    token = jwt.encode(
        {"apikey": videosdk_emulator.api_key, "permissions": ["allow_mod"], "version": 2, "roles": ["crawler"],
         "iat": now, "exp": now + 300},
        videosdk_emulator.api_secret,
        algorithm="HS256",
    )  # fmt: skip
    hook = set_conn(monkeypatch, host=videosdk_emulator.url, extra={"token": token})

    hook.outbound_call(**CALL)

    assert videosdk_emulator.tokens == {token}
    assert redact(f"t={token}") == "t=***"


def test_secret_and_tokens_are_registered_with_the_secrets_masker(videosdk_emulator: VideoSDKEmulator) -> None:
    hook = VideoSDKHook()
    token = hook.get_token()
    assert redact(f"token={token} secret={videosdk_emulator.api_secret}") == "token=*** secret=***"


def test_repr_never_shows_secrets(videosdk_emulator: VideoSDKEmulator) -> None:
    hook = VideoSDKHook()
    token = hook.get_token()
    for text in (repr(hook), repr(hook.config), str(hook.config)):
        assert videosdk_emulator.api_secret not in text and token not in text
    assert "api_key='emulator-api-key'" in repr(hook.config)


def test_missing_credentials_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = set_conn(monkeypatch, login="key-only", host="http://127.0.0.1:9")
    with pytest.raises(VideoSDKInputError, match=r"needs an API key \(login\) and API secret \(password\)"):
        hook.outbound_call(**CALL)


@pytest.mark.parametrize(
    ("conn", "base_url"),
    [
        ({}, "https://api.videosdk.live"),
        ({"host": "https://api.videosdk.live/"}, "https://api.videosdk.live"),
        ({"host": "api.eu.example.com"}, "https://api.eu.example.com"),
        ({"host": "127.0.0.1", "port": 8765, "schema": "http"}, "http://127.0.0.1:8765"),
        ({"host": "http://localhost:8765"}, "http://localhost:8765"),
        ({"host": "http://[::1]:8765"}, "http://[::1]:8765"),
        ({"host": "http://videosdk.internal", "extra": {"allow_insecure_http": "true"}}, "http://videosdk.internal"),
    ],
)
def test_base_url_forms(monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any], base_url: str) -> None:
    hook = set_conn(monkeypatch, login="k", password="a-secret-long-enough-0123456789abcd", **conn)
    assert hook.config.base_url == base_url


def test_bare_host_port_and_schema_reach_the_emulator(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = set_conn(
        monkeypatch,
        login=videosdk_emulator.api_key,
        password=videosdk_emulator.api_secret,
        host="127.0.0.1",
        port=videosdk_emulator.port,
        schema="http",
    )
    assert hook.outbound_call(**CALL)["participantId"] == videosdk_emulator.calls[0]["participantId"]


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        ({"host": "http://api.videosdk.live"}, "host 'api.videosdk.live' uses plain http://"),
        ({"host": "ftp://api.videosdk.live"}, "host must be an http(s) URL"),
        ({"extra": {"timeout": 0}}, "timeout must be > 0 and <= 600 seconds, got 0"),
        ({"extra": {"timeout": -5}}, "timeout must be > 0 and <= 600 seconds, got -5"),
        ({"extra": {"timeout": "soon"}}, "timeout must be a number of seconds, got 'soon'"),
        ({"extra": {"token_ttl": 90000}}, "token_ttl must be an integer from 60 to 86400, got 90000"),
        ({"extra": {"retry_max_wait": -1}}, "retry_max_wait must be >= 0 and <= 3600 seconds, got -1"),
        ({"extra": {"allow_insecure_http": "maybe"}}, "allow_insecure_http must be true or false"),
    ],
)
def test_bad_connection_settings_are_named_before_anything_is_sent(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any], message: str
) -> None:
    hook = set_conn(monkeypatch, login="k", password="a-secret-long-enough-0123456789abcd", **conn)
    with pytest.raises(VideoSDKInputError) as info:
        hook.outbound_call(**CALL)
    assert message in str(info.value)
    assert videosdk_emulator.requests == []


def test_test_connection_proves_credentials_without_placing_a_call(
    videosdk_emulator: VideoSDKEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok, message = VideoSDKHook().test_connection()
    assert ok, message
    assert videosdk_emulator.calls == [] and len(videosdk_emulator.requests) == 1

    monkeypatch.setenv(
        "AIRFLOW_CONN_VIDEOSDK_DEFAULT",
        videosdk_emulator.connection_json().replace(videosdk_emulator.api_secret, "a-wrong-secret-0123456789abcdef01"),
    )
    ok, message = VideoSDKHook().test_connection()
    assert not ok
    assert "401" in message and "check the connection's API key and secret" in message


def test_phone_numbers_are_masked_in_logs_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert mask_phone("+14155550100") == "+****0100"
    assert mask_phone("sip:bob@pbx.example.com") == "sip:****@pbx.example.com"
    hook = set_conn(monkeypatch, login="k", password="a-secret-long-enough-0123456789abcd")
    assert hook.phone_for_log("+14155550100") == "+****0100"
    hook = set_conn(
        monkeypatch, login="k", password="a-secret-long-enough-0123456789abcd", extra={"log_full_numbers": True}
    )
    assert hook.phone_for_log("+14155550100") == "+14155550100"


@pytest.mark.matrix
def test_provider_and_connection_type_are_registered() -> None:
    listing = subprocess.run([AIRFLOW_BIN, "providers", "list"], capture_output=True, text=True, timeout=300)
    assert "airflow-provider-videosdk" in listing.stdout, listing.stdout + listing.stderr

    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    provider = manager.providers["airflow-provider-videosdk"]
    assert provider.data["versions"] == get_provider_info()["versions"]
    (integration,) = provider.data["integrations"]
    assert integration["how-to-guide"] == [
        "/docs/connection.md",
        "/docs/operators.md",
        "/docs/sensors.md",
        "/docs/incidents.md",
    ]
    hook_info = manager.hooks["videosdk"]
    assert hook_info is not None
    assert hook_info.hook_class_name == "airflow_provider_videosdk.hooks.videosdk.VideoSDKHook"
    assert hook_info.connection_id_attribute_name == "videosdk_conn_id"
    labels = {"login": "API key", "password": "API secret", "host": "API base URL"}
    if READS_CONN_FIELDS or not AIRFLOW_V_3_0_PLUS:
        # 3.2+ reads conn-fields and ui-field-behaviour from the provider info; 2.11 calls the hook's
        # form methods (FAB is part of Airflow 2).
        behaviour = manager.field_behaviours["videosdk"]
        assert behaviour["relabeling"] == labels
        assert {"port", "schema"} <= set(behaviour["hidden_fields"])
        widgets = manager.connection_form_widgets
        assert "extra__videosdk__token" in widgets and "extra__videosdk__log_full_numbers" in widgets
    else:
        # 3.0 and 3.1 call the hook's methods only when wtforms and FAB import (the FAB provider);
        # what they would show is the same description.
        assert VideoSDKHook.get_ui_field_behaviour()["relabeling"] == labels
