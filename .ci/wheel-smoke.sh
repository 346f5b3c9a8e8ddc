#!/usr/bin/env bash
# The package as a user gets it, on current Python: build the wheel, check what it carries,
# install it into a fresh virtual environment outside the checkout, then run the shipped
# smoke suite BY NAME from an empty directory: the suite and the digits data must come
# from the installed package, and the base install must not pull in scikit-learn.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
PYTHON=${PYTHON:-python3}
# The CPU build this project's machines keep on disk (as in the Makefile): seconds to install.
TORCH=${TORCH:-torch==2.13.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# pip's warnings about this machine's second, partial package index are noise; its exit
# status still counts (pipefail, and grep's own "no lines" status is dropped).
quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }

quiet "$PYTHON" -m pip wheel -q --no-deps -w "$work/dist" .
wheel=$(ls "$work"/dist/optbench-*.whl)
"$PYTHON" - "$wheel" <<'EOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
need = ["bench/data/digits.csv.gz", "bench/data/README.md", "bench/suites/smoke.yaml", "bench/suites/tutorial.yaml"]
missing = [n for n in need if n not in names]
sys.exit("wheel lacks " + ", ".join(missing) if missing else 0)
EOF
echo "wheel-smoke: built $(basename "$wheel") ($(( $(date +%s) - started ))s)"

"$PYTHON" -m venv "$work/venv"
quiet "$work/venv/bin/python" -m pip install -q "$TORCH"
quiet "$work/venv/bin/python" -m pip install -q "$wheel"
if "$work/venv/bin/python" -c "import sklearn" 2>/dev/null; then
  echo "wheel-smoke: the base install pulled in scikit-learn" >&2
  exit 1
fi
echo "wheel-smoke: installed into a fresh venv ($(( $(date +%s) - started ))s)"

mkdir "$work/elsewhere"
(cd "$work/elsewhere" && "$work/venv/bin/optbench" run smoke --results "$work/results")
# As many records as the installed package's own plan of the suite says: the count follows the
# shipped suite instead of a number written here that goes stale when the suite grows.
planned=$(cd "$work/elsewhere" && "$work/venv/bin/optbench" plan smoke | sed -n '1s/.*: \([0-9][0-9]*\) trials$/\1/p')
trials=$(cat "$work"/results/smoke/*/trials.jsonl | wc -l)
if [ -z "$planned" ] || [ "$trials" -ne "$planned" ]; then
  echo "wheel-smoke: the plan of smoke says ${planned:-(unreadable)} trials, the run recorded $trials" >&2
  exit 1
fi
echo "wheel-smoke: done in $(( $(date +%s) - started ))s"
