"""The example DAGs' ``# [START howto_…]`` / ``# [END howto_…]`` markers, which the docs include code between."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
MARKER = re.compile(r"^\s*# \[(START|END) (\S+)\]\s*$")
NAME = re.compile(r"howto_[a-z0-9_]+")


def markers(path: Path) -> list[tuple[int, str, str]]:
    """(line number, START or END, name) of each marker, in file order."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = MARKER.match(line)
        if match:
            found.append((number, match[1], match[2]))
        else:
            assert "[START " not in line and "[END " not in line, f"{path.name}:{number}: malformed marker {line!r}"
    return found


def pairs(path: Path) -> dict[str, tuple[int, int]]:
    """Each name's START and END lines; fails on an END without its START, a START never ended, a repeat."""
    lines = path.read_text().splitlines()
    open_at: dict[str, int] = {}
    done: dict[str, tuple[int, int]] = {}
    for number, kind, name in markers(path):
        where = f"{path.name}:{number}"
        assert NAME.fullmatch(name), f"{where}: {name!r} is not howto_<lower_case>"
        if kind == "START":
            assert name not in open_at and name not in done, f"{where}: {name} started twice"
            open_at[name] = number
        else:
            assert name in open_at, f"{where}: END {name} without its START"
            start = open_at.pop(name)
            inside = [line for line in lines[start : number - 1] if line.strip() and not MARKER.match(line)]
            assert inside, f"{where}: {name} encloses no code"
            done[name] = (start, number)
    assert not open_at, f"{path.name}: never ended: {sorted(open_at)}"
    return done


FILES = sorted(EXAMPLES.glob("example_*.py"))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_start_marker_has_its_end(path: Path) -> None:
    assert pairs(path), f"{path.name} has no howto markers for the docs to include"


def test_the_examples_are_found() -> None:
    assert FILES, f"no example DAGs in {EXAMPLES}: the marker tests above would check nothing"


def test_marker_names_are_unique_across_the_examples() -> None:
    names = [name for path in FILES for name in pairs(path)]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_an_unmatched_marker_is_caught(tmp_path: Path) -> None:
    broken = tmp_path / "example_broken.py"
    broken.write_text("# [START howto_a]\nx = 1\n# [END howto_b]\n")
    with pytest.raises(AssertionError, match="END howto_b without its START"):
        pairs(broken)
    broken.write_text("# [START howto_a]\nx = 1\n")
    with pytest.raises(AssertionError, match="never ended"):
        pairs(broken)
