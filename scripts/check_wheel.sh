#!/usr/bin/env bash
# Check the built wheel as a user gets it: installed (not editable) into a fresh virtualenv with Airflow.
#
#   scripts/check_wheel.sh            (or: make check-wheel)
#
# Builds dist/ first when the wheel of the current version is missing. Then, in a new venv under a temp
# dir with a temp AIRFLOW_HOME: installs apache-airflow plus the wheel with its [test] extra; checks that
# `airflow providers list` lists the provider, that the emulator's CLI starts, and that the wheel holds
# every package module and nothing else; finally runs the fast tests (tests/unit) from a copy of tests/
# outside the repo, so the source tree cannot shadow the installed package. Exits non-zero on any failure.
#
# Environment: AIRFLOW_VERSION (default 3.3.2), CHECK_WHEEL_PYTHON (default python3.11), KEEP_TMP=1 keeps the temp dir.
set -euo pipefail

airflow_version=${AIRFLOW_VERSION:-3.3.2}
python=${CHECK_WHEEL_PYTHON:-python3.11}
repo=$(cd "$(dirname "$0")/.." && pwd)
unset PYTHONPATH PYTHONHOME

die() {
    echo "check_wheel: error: $*" >&2
    exit 1
}

started=$EPOCHREALTIME
step_name=""
step_started=$EPOCHREALTIME

elapsed() {
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1fs", b - a }'
}

# Closes the running step (printing its time) and opens the next one.
step() {
    [[ -n $step_name ]] && echo "    done in $(elapsed "$step_started")"
    step_name=$1
    step_started=$EPOCHREALTIME
    echo "==> $step_name"
}

tmp=$(mktemp -d -t videosdk-check-wheel.XXXXXX)
finish() {
    local rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "check_wheel: FAILED in step '$step_name' after $(elapsed "$started") (exit $rc)" >&2
    fi
    if [[ ${KEEP_TMP:-} == 1 ]]; then
        echo "check_wheel: kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap finish EXIT

version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$repo/airflow_provider_videosdk/__init__.py")
[[ -n $version ]] || die "no __version__ found in airflow_provider_videosdk/__init__.py"
wheel="$repo/dist/airflow_provider_videosdk-$version-py3-none-any.whl"
venv="$tmp/venv"

step "create a fresh venv with $python"
"$python" -m venv "$venv" || die "could not create a venv with $python"
"$venv/bin/python" -m pip install -q --upgrade pip

if [[ ! -f $wheel ]]; then
    step "build dist/ (no wheel for version $version)"
    "$venv/bin/python" -m pip install -q build
    "$venv/bin/python" -m build --outdir "$repo/dist" "$repo"
    [[ -f $wheel ]] || die "the build did not produce $wheel"
else
    newer=$(find "$repo/airflow_provider_videosdk" "$repo/pyproject.toml" "$repo/README.md" "$repo/LICENSE" \
        -type f -newer "$wheel" -not -path '*/__pycache__/*' | head -n 5)
    if [[ -n $newer ]]; then
        echo "check_wheel: warning: these files changed after the wheel was built (run 'make dist' to rebuild):"
        while read -r file; do echo "    ${file#"$repo"/}"; done <<<"$newer"
    fi
fi
echo "    wheel: dist/$(basename "$wheel")"

step "install apache-airflow==$airflow_version and the wheel with its [test] extra"
"$venv/bin/python" -m pip install -q "apache-airflow==$airflow_version" "${wheel}[test]"

# Everything below runs from the temp dir, away from the repo's source folder.
cd "$tmp"
export AIRFLOW_HOME="$tmp/airflow-home" AIRFLOW__CORE__LOAD_EXAMPLES=False
mkdir -p "$AIRFLOW_HOME"

step "the package imports from the venv's site-packages"
"$venv/bin/python" - <<'EOF'
import sysconfig
from pathlib import Path

import airflow_provider_videosdk

site = Path(sysconfig.get_paths()["purelib"]).resolve()
where = Path(airflow_provider_videosdk.__file__).resolve()
assert where.is_relative_to(site), f"imported from {where}, not from {site}"
print(f"    {where.relative_to(site.parent.parent.parent)}")
EOF

step "airflow providers list"
providers=$("$venv/bin/airflow" providers list 2>&1) || die "airflow providers list failed:"$'\n'"$providers"
grep -E "airflow-provider-videosdk +\| +[^|]*\| +$version" <<<"$providers" ||
    die "airflow providers list does not show airflow-provider-videosdk $version:"$'\n'"$providers"

step "python -m airflow_provider_videosdk.testing.emulator --help"
usage=$("$venv/bin/python" -m airflow_provider_videosdk.testing.emulator --help 2>&1) ||
    die "the emulator CLI failed:"$'\n'"$usage"
grep -q '^usage:' <<<"$usage" || die "the emulator CLI printed no usage:"$'\n'"$usage"
echo "    $(head -n 1 <<<"$usage")"

step "the wheel's file list"
"$venv/bin/python" - "$wheel" "$repo" "$version" <<'EOF'
import sys
import zipfile
from pathlib import Path

wheel, repo, version = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
names = set(zipfile.ZipFile(wheel).namelist())
dist_info = f"airflow_provider_videosdk-{version}.dist-info/"
package = repo / "airflow_provider_videosdk"
source = {
    str(p.relative_to(repo))
    for p in package.rglob("*")
    if p.is_file() and p.suffix in (".py", ".typed") and "__pycache__" not in p.parts
}
modules = {n for n in names if not n.startswith(dist_info)}
problems = [f"not from the package: {n}" for n in sorted(modules) if not n.startswith("airflow_provider_videosdk/")]
problems += [f"missing from the wheel: {n}" for n in sorted(source - modules)]
problems += [f"in the wheel but not in the source tree (stale wheel?): {n}" for n in sorted(modules - source)]
for required in ("py.typed", "get_provider_info.py", "testing/emulator/__init__.py", "testing/pytest_plugin.py"):
    if f"airflow_provider_videosdk/{required}" not in names:
        problems.append(f"missing from the wheel: airflow_provider_videosdk/{required}")
for meta in ("licenses/LICENSE", "METADATA", "entry_points.txt"):
    if dist_info + meta not in names:
        problems.append(f"missing from the wheel: {dist_info}{meta}")
if "apache_airflow_provider" not in zipfile.ZipFile(wheel).read(dist_info + "entry_points.txt").decode():
    problems.append("entry_points.txt has no apache_airflow_provider entry point")
if problems:
    sys.exit("\n".join(problems))
print(f"    {len(modules)} package files, {len(names) - len(modules)} metadata files; nothing else")
EOF

step "pytest tests/unit against the installed package"
[[ -d $repo/tests/unit ]] ||
    die "tests/unit not found: the fast test tier is needed to check the wheel (run it again once it exists)"
mkdir "$tmp/run" "$tmp/plugin"
cp -R "$repo/tests" "$tmp/run/tests"
# pyproject.toml holds pytest's settings (markers, addopts); README.md, CHANGELOG.md (the provider's
# versions), docs/ and example_dags/ (their howto markers) are checked against the code.
cp "$repo/pyproject.toml" "$repo/README.md" "$repo/CHANGELOG.md" "$tmp/run/"
cp -R "$repo/docs" "$tmp/run/docs"
cp -R "$repo/example_dags" "$tmp/run/example_dags"
find "$tmp/run" -name __pycache__ -prune -exec rm -rf {} +
# Checked inside pytest too, after collection: the tests must have imported the installed copy.
cat >"$tmp/plugin/check_installed_package.py" <<'EOF'
import sysconfig
from pathlib import Path

import pytest


def pytest_collection_finish(session):
    import airflow_provider_videosdk

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    where = Path(airflow_provider_videosdk.__file__).resolve()
    if not where.is_relative_to(site):
        pytest.exit(f"the tests imported the package from {where}, not from {site}", returncode=1)
EOF
(cd "$tmp/run" && PYTHONPATH="$tmp/plugin" "$venv/bin/python" -m pytest -q -p check_installed_package tests/unit)

step "summary"
echo "check_wheel: OK: dist/$(basename "$wheel") on apache-airflow $airflow_version ($python), total $(elapsed "$started")"
