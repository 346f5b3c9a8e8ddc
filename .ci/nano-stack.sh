#!/usr/bin/env bash
# The device half on the Jetson Nano's stock stack (Python 3.6, torch 1.10.2, numpy 1.19.5,
# jetson-stats 4.3.2): build the wheel there and install it, run the tests, run the shipped
# smoke suite by name from another directory, then read that run's results with the
# current-Python analysis half; and time the step benchmarks there (docs/BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
venv=$(bash .ci/nano-venv.sh)
echo "nano stack: $("$venv/bin/python" -c 'import sys, torch, numpy; print("Python", sys.version.split()[0], "torch", torch.__version__, "numpy", numpy.__version__)')"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# pip's warnings about this machine's second, partial package index are noise; its exit
# status still counts (pipefail, and grep's own "no lines" status is dropped).
pip36() { "$venv/bin/python" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }
# The wheel as pip 21.3 builds it on the board (flit_core, PEP 517), then a real install:
# uninstalled first so that pip resolves the wheel's dependencies on 3.6 without
# reinstalling torch.
pip36 wheel -q --no-deps -w "$work/dist" .
pip36 uninstall -q -y optbench
pip36 install -q "$work"/dist/optbench-*.whl
# The root-only tests of the real jtop server ran already, for this stack too, from the
# current-Python run (their nano-py3.6-jtop4.3 parameter); not again here.
"$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not root" tests
# The dask executor on this stack too: dask and distributed 2021.3.0, the last for Python 3.6, with
# click<8 (docs/DISTRIBUTED.md). Kept apart from the venv (pip --target, cached) and found through
# PYTHONPATH: the device half itself runs without dask, as the run above checks (those tests skip).
dask36="$(dirname "$venv")/nano-dask-2021.3.0"
if [ ! -e "$dask36/.ready" ]; then
  rm -rf "$dask36"
  pip36 install -q --target "$dask36" "dask[distributed]==2021.3.0" "distributed==2021.3.0" "click<8"
  touch "$dask36/.ready"
fi
PYTHONPATH="$dask36" "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_dask_executor.py
# The step benchmarks timed on this stack (pytest-benchmark 3.4.1, the last for Python 3.6), a
# JSON of their own, read back by the current-Python reader that `optbench compare` uses.
make -s bench-steps BENCH_PYTHON="$venv/bin/python" STEPS_JSON=.benchmarks/steps-nano.json
.venv/bin/python -m bench.compare.pytest_benchmark .benchmarks/steps-nano.json
# By name, from a directory with no suites/: the installed package's own smoke suite.
mkdir "$work/elsewhere"
(cd "$work/elsewhere" && "$venv/bin/optbench" run smoke --results "$work/results")
run_dir=$(ls -d "$work"/results/smoke/*/)
.venv/bin/optbench show "$run_dir"
echo "nano stack: done in $(( $(date +%s) - started ))s"
