#!/bin/sh
# The checks to run where a session is lent a GPU, as one call (a device lease is short):
#   sh benchmarks/gpu_checks.sh [OUT]        (OUT: a folder for the logs; default gpu-checks)
# 1. which torch, which GPU, and whether optbench's own dependencies import;
# 2. every test marked `cuda` (they skip on a machine without a GPU; docs/PERFORMANCE.md "CUDA");
# 3. issue 22's figure on a GPU: the vectorised sweep against the sequential one
#    (benchmarks/bench_vectorised.py --device cuda), linear and curve, SGD and Adam.
# Each step's output goes to OUT/<step>.txt and to the terminal; a step that fails does not
# stop the next. PYTHON picks the interpreter (default python3: on the lent machines, the one
# that holds PyTorch).
set -u
OUT=${1:-gpu-checks}
PYTHON=${PYTHON:-python3}
mkdir -p "$OUT"

step() {
    name=$1
    shift
    echo "== $name: $*"
    "$@" >"$OUT/$name.txt" 2>&1
    code=$?
    cat "$OUT/$name.txt"
    echo "== $name: exit $code"
}

step versions "$PYTHON" -c "
import torch
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())
if torch.cuda.is_available():
    print(torch.cuda.get_device_name(0))
for name in ('numpy', 'yaml', 'psutil', 'pytest'):
    try:
        print(name, __import__(name).__version__)
    except ImportError as error:
        print(name, 'MISSING:', error)
"
step cuda-tests "$PYTHON" -m pytest -q -p no:cacheprovider -m cuda -rs tests
step vectorised-gpu "$PYTHON" benchmarks/bench_vectorised.py --device cuda --problems linear,curve \
    --optimizers sgd,adam --sample 5
