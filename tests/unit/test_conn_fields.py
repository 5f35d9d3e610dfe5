"""Fast tier: the connection is described once, and every consumer agrees with that description."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_videosdk import __version__, conn_fields
from airflow_provider_videosdk.exceptions import VideoSDKInputError
from airflow_provider_videosdk.get_provider_info import get_provider_info
from airflow_provider_videosdk.hooks import videosdk as hook_module
from airflow_provider_videosdk.hooks.videosdk import VideoSDKConfig, VideoSDKHook, read_config

REPO = Path(__file__).resolve().parents[2]


def connection(**fields: Any) -> Any:
    from airflow.models.connection import Connection

    extra = fields.pop("extra", {})
    base = {"conn_id": "videosdk_default", "conn_type": "videosdk", "login": "key", "password": "secret"}
    return Connection(**{**base, **fields}, extra=json.dumps(extra))


def test_provider_info_derives_the_form_from_the_field_list() -> None:
    info = get_provider_info()
    assert info["versions"][0] == __version__
    (conn_type,) = [c for c in info["connection-types"] if c["connection-type"] == "videosdk"]
    assert conn_type["connection-type"] == VideoSDKHook.conn_type
    assert list(conn_type["conn-fields"]) == [f.name for f in conn_fields.EXTRA_FIELDS]
    timeout = conn_type["conn-fields"]["timeout"]
    assert timeout["schema"] == {"type": ["number", "null"], "exclusiveMinimum": 0, "maximum": 600}
    assert timeout["label"] == "Timeout (seconds)" and "Default: 30." in timeout["description"]
    assert conn_type["conn-fields"]["token"]["schema"]["format"] == "password"
    behaviour = conn_type["ui-field-behaviour"]
    assert behaviour["hidden-fields"] == ["port", "schema", "extra"]
    assert behaviour["relabeling"] == {"login": "API key", "password": "API secret", "host": "API base URL"}


def test_the_hook_form_and_the_provider_info_form_agree() -> None:
    hook = VideoSDKHook.get_ui_field_behaviour()
    info = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert {k.replace("_", "-"): v for k, v in hook.items()} == info


def test_every_extra_the_hook_reads_is_in_the_form() -> None:
    # The hook reads extras only through conn_fields.EXTRA_FIELDS: no string literal names one elsewhere.
    read_by_name = {
        node.value
        for node in ast.walk(ast.parse(Path(hook_module.__file__).read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in conn_fields.EXTRAS
    }
    config_fields = set(VideoSDKConfig.__dataclass_fields__) - {"base_url", "api_key", "api_secret", "scheme_assumed"}
    assert config_fields <= set(conn_fields.EXTRAS)
    assert read_by_name <= set(conn_fields.EXTRAS)


def test_defaults_come_from_the_field_list() -> None:
    cfg = read_config(connection(), "videosdk_default")
    for name in ("timeout", "token_ttl", "retry_attempts", "retry_max_wait", "retry_backoff"):
        assert getattr(cfg, name) == conn_fields.EXTRAS[name].default
    assert cfg.base_url == conn_fields.DEFAULT_BASE_URL


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"timeout": 0}, "timeout must be > 0 and <= 600 seconds, got 0"),
        ({"timeout": 601}, "timeout must be > 0 and <= 600 seconds, got 601"),
        ({"timeout": "soon"}, "timeout must be a number of seconds, got 'soon'"),
        ({"token_ttl": 90000}, "token_ttl must be an integer from 60 to 86400, got 90000"),
        ({"retry_attempts": 0}, "retry_attempts must be an integer from 1 to 20, got 0"),
        ({"retry_max_wait": -1}, "retry_max_wait must be >= 0 and <= 3600 seconds, got -1"),
        ({"retry_backoff": 0}, "retry_backoff must be > 0 and <= 60 seconds, got 0"),
        ({"log_full_numbers": "maybe"}, "log_full_numbers must be true or false, got 'maybe'"),
    ],
)
def test_bad_extras_are_refused_with_the_bounds_the_form_shows(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(VideoSDKInputError, match=f"^{re.escape(message)}$"):
        read_config(connection(extra=extra), "videosdk_default")


def test_operator_overrides_win_over_the_connection_and_are_checked_the_same_way() -> None:
    cfg = read_config(connection(extra={"retry_attempts": 2}), "c", {"retry_attempts": 7})
    assert cfg.retry_attempts == 7
    with pytest.raises(VideoSDKInputError, match="retry_attempts must be an integer from 1 to 20, got 99"):
        read_config(connection(), "c", {"retry_attempts": 99})


def test_the_secret_and_token_stay_out_of_the_repr() -> None:
    cfg = read_config(connection(extra={"token": "tok-123"}), "c")
    assert "secret" not in repr(cfg) and "tok-123" not in repr(cfg)


def test_the_readme_connection_table_is_the_generated_one() -> None:
    assert conn_fields.markdown_table() in (REPO / "docs" / "connection.md").read_text()


def test_provider_info_declares_the_airflow_api_connection_for_incidents() -> None:
    from airflow_provider_videosdk.incidents.api import AirflowApiHook

    (conn_type,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "airflow_api"]
    assert conn_type["hook-class-name"] == f"{AirflowApiHook.__module__}.{AirflowApiHook.__name__}"
    assert AirflowApiHook.conn_type == "airflow_api"
    assert conn_type["ui-field-behaviour"] == AirflowApiHook.get_ui_field_behaviour()
    assert conn_type["ui-field-behaviour"]["relabeling"]["host"] == "Airflow API URL"
