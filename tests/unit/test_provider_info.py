"""The provider info's release list and how-to guides, and its shape as Airflow's schema describes it."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import jsonschema

from airflow_provider_videosdk import __version__
from airflow_provider_videosdk.get_provider_info import VERSIONS, get_provider_info

REPO = Path(__file__).resolve().parents[2]


def test_versions_are_the_changelog_releases_newest_first() -> None:
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (REPO / "CHANGELOG.md").read_text(), flags=re.MULTILINE)
    assert get_provider_info()["versions"] == VERSIONS == released
    assert VERSIONS[0] == __version__


def test_the_integration_links_its_how_to_guides_under_docs() -> None:
    (integration,) = get_provider_info()["integrations"]
    guides = integration["how-to-guide"]
    assert guides == ["/docs/connection.md", "/docs/operators.md", "/docs/sensors.md", "/docs/incidents.md"]


def test_the_provider_info_matches_the_installed_airflow_schema() -> None:
    spec = importlib.util.find_spec("airflow")
    assert spec is not None and spec.origin is not None
    schema = json.loads((Path(spec.origin).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)
