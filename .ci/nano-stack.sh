#!/usr/bin/env bash
# The device half on the Jetson Nano's stock stack (Python 3.6, torch 1.10.2, numpy 1.19.5,
# jetson-stats 4.3.2): install the project there, run its tests and the smoke suite end to
# end, then read that run's results with the current-Python analysis half.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
venv=$(bash .ci/nano-venv.sh)
echo "nano stack: $("$venv/bin/python" -c 'import sys, torch, numpy; print("Python", sys.version.split()[0], "torch", torch.__version__, "numpy", numpy.__version__)')"
# A real (non-editable) install through flit_core, as pip 21.3 on the board would do it.
"$venv/bin/python" -m pip install -q --no-deps --force-reinstall . 2>&1 | grep -v "^WARNING: Location" || true
# The root-only tests of the real jtop server ran already, for this stack too, from the
# current-Python run (their nano-py3.6-jtop4.3 parameter); not again here.
"$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not root" tests
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
# From another directory, so that the installed package (not the checkout) runs.
(cd "$results" && "$venv/bin/optbench" run "$OLDPWD/suites/smoke.yaml" --results "$results")
run_dir=$(ls -d "$results"/smoke/*/)
.venv/bin/optbench show "$run_dir"
echo "nano stack: done in $(( $(date +%s) - started ))s"
