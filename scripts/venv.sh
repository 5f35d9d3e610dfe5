#!/usr/bin/env bash
# Build a virtualenv with one Airflow release and this provider installed editable with its [test] extra.
#
#   scripts/venv.sh AIRFLOW_VERSION PYTHON_VERSION VENV_DIR      e.g. scripts/venv.sh 3.1.8 3.11 .venv-af31
#
# Pins for an Airflow minor release, if it needs any, live in constraints/airflow-X.Y.txt and are applied
# with `pip install -c`. Python X.Y is taken from PATH (pythonX.Y) or else from pyenv ($PYENV_ROOT or
# `pyenv root`). Nothing is done when VENV_DIR/.installed is newer than pyproject.toml and the pins file and
# names the same Airflow and Python versions.
set -euo pipefail

die() {
    echo "venv.sh: error: $*" >&2
    exit 1
}

[[ $# -eq 3 ]] || die "usage: $0 AIRFLOW_VERSION PYTHON_VERSION VENV_DIR (e.g. $0 3.1.8 3.11 .venv-af31)"
airflow_version=$1
python_version=$2
venv=$3
[[ $airflow_version =~ ^([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "AIRFLOW_VERSION must be X.Y.Z, got '$airflow_version'"
airflow_minor="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"
[[ $python_version =~ ^3\.[0-9]+$ ]] || die "PYTHON_VERSION must be X.Y (e.g. 3.11), got '$python_version'"

repo=$(cd "$(dirname "$0")/.." && pwd)
pins="$repo/constraints/airflow-$airflow_minor.txt"
stamp="$venv/.installed"
want="apache-airflow==$airflow_version python$python_version"

# Prints the X.Y version of interpreter $1, or nothing if it does not run (e.g. an inactive pyenv shim).
py_minor() {
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

find_python() {
    local candidate root
    if candidate=$(command -v "python$python_version") && [[ $(py_minor "$candidate") == "$python_version" ]]; then
        echo "$candidate"
        return
    fi
    root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || true)}
    if [[ -n $root ]]; then
        candidate=$(printf '%s\n' "$root/versions/$python_version".[0-9]*/bin/"python$python_version" | sort -V | tail -n 1)
        if [[ -x $candidate && $(py_minor "$candidate") == "$python_version" ]]; then
            echo "$candidate"
            return
        fi
    fi
    die "Python $python_version not found: no working python$python_version on PATH and no pyenv version" \
        "$python_version.* (pyenv root: ${root:-none}). Install it (e.g. 'pyenv install $python_version')" \
        "or put python$python_version on PATH."
}

if [[ -f $stamp && $stamp -nt $repo/pyproject.toml && (! -f $pins || $stamp -nt $pins) && $(<"$stamp") == "$want" ]]; then
    echo "venv.sh: $venv is up to date ($want)"
    exit 0
fi

python=$(find_python)
# Start afresh when the venv holds another Python or another Airflow release, so nothing stale is left.
clear=()
if [[ -x $venv/bin/python && $(py_minor "$venv/bin/python") != "$python_version" ]] ||
    [[ -s $stamp && $(<"$stamp") != "$want" ]]; then
    clear=(--clear)
fi

echo "venv.sh: building $venv: $want with $python${clear:+ (from scratch)}"
rm -f "$stamp"
"$python" -m venv "${clear[@]}" "$venv" || die "could not create $venv with $python (is its venv module installed?)"
"$venv/bin/python" -m pip install -q --upgrade pip
pip_args=("apache-airflow==$airflow_version" -e "${repo}[test]")
if [[ -f $pins ]]; then
    echo "venv.sh: applying pins from constraints/$(basename "$pins")"
    pip_args+=(-c "$pins")
fi
"$venv/bin/python" -m pip install -q "${pip_args[@]}" || die "pip install failed for $want"

installed=$("$venv/bin/python" -c 'import airflow_provider_videosdk, importlib.metadata as m; print(m.version("apache-airflow"))') ||
    die "the provider does not import in $venv"
[[ $installed == "$airflow_version" ]] || die "$venv has apache-airflow $installed, expected $airflow_version"
printf '%s\n' "$want" >"$stamp"
echo "venv.sh: $venv ready ($want)"
