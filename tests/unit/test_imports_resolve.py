"""
Every import of the package, wherever it is written (the package, tests, e2e, benchmarks, example
DAGs; in functions and under ``if TYPE_CHECKING:`` too), names a module that exists. A module that
moves cannot leave a lazy or typing-only import behind: mypy does not report those (the project sets
``ignore_missing_imports`` for Airflow's optional modules), and a lazy one fails only when it runs.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from tests.unit.test_import_cycles import PACKAGE, _modules

if TYPE_CHECKING:
    from pathlib import Path

ROOT = PACKAGE.parent
WHERE = ("airflow_provider_videosdk", "tests", "e2e", "benchmarks", "example_dags", "scripts")


def unresolved(path: Path, modules: set[str]) -> list[str]:
    """The package modules ``path`` imports that do not exist, as ``line: module``."""
    missing = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        else:
            continue
        missing += [f"{node.lineno}: {n}" for n in names if n.split(".")[0] == PACKAGE.name and n not in modules]
    return missing


def test_the_check_finds_a_moved_module() -> None:
    modules = set(_modules())
    assert "airflow_provider_videosdk._http.policy" in modules
    assert "airflow_provider_videosdk.hooks.policy" not in modules


def test_every_import_of_the_package_names_a_module_that_exists() -> None:
    modules = set(_modules())
    found = {
        str(path.relative_to(ROOT)): bad
        for top in WHERE
        for path in sorted((ROOT / top).rglob("*.py"))
        if (bad := unresolved(path, modules))
    }
    assert not found, found
