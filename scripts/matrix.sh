#!/usr/bin/env bash
# Run the test suite on every Airflow version the README claims, and print the support table.
#
#   scripts/matrix.sh            all rows below
#   scripts/matrix.sh 3.1.8      only the rows for that Airflow release
#
# Each row: Airflow release, Python, virtualenv, scope (see run_row). "full" is the whole suite;
# "subset" is the fast tier plus the tests marked `matrix` (imports, provider discovery, the connection
# form, a core DAG, exactly-once, the deferrable chain, the async trigger, the secret-leak check);
# "python", for another Python on the same Airflow, is the fast tier, the `matrix` tests that run no
# DAG, and the few DAG runs marked `python` (the Airflow behaviour is the full row's). Virtualenvs are
# built by scripts/venv.sh, two at a time, before any test runs; the rows then run two at a time too
# (MATRIX_JOBS=1 for one at a time). Exits non-zero if any row fails.
set -uo pipefail
cd "$(dirname "$0")/.."

ROWS=(
    "3.3.2 3.11 .venv-af3 full"
    "2.11.2 3.11 .venv-af2 full"
    "3.0.6 3.11 .venv-af30 subset"
    "3.1.8 3.11 .venv-af31 subset"
    "3.2.2 3.11 .venv-af32 subset"
    "3.3.2 3.10 .venv-af3-py310 python"
    "3.3.2 3.13 .venv-af3-py313 python"
)

rows=()
for row in "${ROWS[@]}"; do
    [[ $# -eq 0 || " $* " == *" ${row%% *} "* ]] && rows+=("$row")
done
[[ ${#rows[@]} -gt 0 ]] || { echo "matrix.sh: no row for: $*" >&2; exit 2; }

mkdir -p .tmp
start=$SECONDS
printf '%s\n' "${rows[@]}" | awk '{print $1, $2, $3}' |
    xargs -P 2 -L 1 bash -c 'scripts/venv.sh "$0" "$1" "$2" > ".tmp/venv-$(basename "$2").log" 2>&1 \
        || { echo "matrix.sh: building $2 failed:"; tail -n 30 ".tmp/venv-$(basename "$2").log"; }'
echo "matrix.sh: virtualenvs ready in $((SECONDS - start)) s"

# One row: its pytest run, logged to .tmp/matrix-VENV.log, and "status<TAB>seconds<TAB>summary" to .result.
run_row() {
    local airflow=$1 python=$2 venv=$3 scope=$4 name log t0 status summary
    name=$(basename "$venv")
    log=".tmp/matrix-$name.log"
    local args=(-q -p no:cacheprovider)
    case $scope in
        full) ;;
        subset) args+=(-m "matrix or not slow") ;;
        python) args+=(-m "not slow or (matrix and not dags) or python") ;;
        *) echo "matrix.sh: unknown scope $scope" >&2; return 2 ;;
    esac
    t0=$SECONDS
    if [[ -f $venv/.installed ]]; then
        "$venv/bin/python" -m pytest "${args[@]}" >"$log" 2>&1
        status=$?
        summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$log" | tail -n 1 | tr -d '=')
    else
        status=1
        summary="virtualenv not built"
        echo "$summary" >"$log"
    fi
    printf '%s\t%s\t%s\n' "$status" "$((SECONDS - t0))" "${summary# }" >".tmp/matrix-$name.result"
    echo "matrix.sh: Airflow $airflow, Python $python ($scope) done in $((SECONDS - t0)) s: ${summary# }"
}
export -f run_row

# Two rows at a time (MATRIX_JOBS): a row is one pytest process whose DAG tests start one Airflow
# subprocess after another, so two rows keep both cores busy; the longest rows come first.
rm -f .tmp/matrix-*.result
printf '%s\n' "${rows[@]}" | xargs -P "${MATRIX_JOBS:-2}" -L 1 bash -c 'run_row "$@"' _

table=("| Airflow | Python | scope | result | time |" "|---|---|---|---|---|")
failed=0
for row in "${rows[@]}"; do
    read -r airflow python venv scope <<<"$row"
    name=$(basename "$venv")
    echo
    echo "== Airflow $airflow, Python $python ($scope)"
    cat ".tmp/matrix-$name.log"
    status=1 seconds=0 summary="did not run"
    [[ -f .tmp/matrix-$name.result ]] && IFS=$'\t' read -r status seconds summary <".tmp/matrix-$name.result"
    [[ $status -eq 0 ]] || failed=1
    table+=("| $airflow | $python | $scope | $([[ $status -eq 0 ]] && echo pass || echo FAIL): $summary | $seconds s |")
done

echo
printf '%s\n' "${table[@]}"
echo "matrix.sh: $((SECONDS - start)) s in all"
exit $failed
