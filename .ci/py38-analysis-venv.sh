#!/usr/bin/env bash
# Build (once) and print the path of a virtual environment for the nightly's arrangement (a)
# (docs/NIGHTLY.md, "Where each half runs"): the analysis half on Python 3.8, the newest
# Python Ubuntu 18.04 (a Nano's JetPack 4.6) packages, with optbench[report] as pip resolves it
# for 3.8 (pandas 2.0, matplotlib 3.7, seaborn 0.13, scipy 1.10, ruptures 1.1.9 when written).
# The torch is 1.10.2: optbench's base install asks for one and its command line imports it,
# though this environment never trains; 1.10.2 carries its CUDA libraries in its own wheel,
# where a newer one for 3.8 pulls several GB of nvidia-* packages.
# Cached under ~/.cache, keyed by the Python, the torch pin and pyproject.toml (the extra).
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_PIN="torch==1.10.2"
key=$( (echo "py3.8.18 $TORCH_PIN"; cat pyproject.toml) | sha1sum | cut -c1-12)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/optbench/py38-analysis-$key"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/.ready" ]; then
  py38=$(PYENV_VERSION=3.8.18 pyenv which python)
  rm -rf "$venv"
  "$py38" -m venv "$venv"
  pip38() { "$venv/bin/python" -m pip "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }
  pip38 install -q -U "pip<25" >&2
  # What docs/NIGHTLY.md installs on the board: the checkout with the report extra. Then
  # optbench itself goes again: the tests run the checkout's code (PYTHONPATH), never a copy
  # as old as this cache.
  pip38 install -q "$TORCH_PIN" ".[report]" >&2
  pip38 uninstall -q -y optbench >&2
  printf '#!/bin/sh\nexit 0\n' > "$venv/.ready" && chmod +x "$venv/.ready"
fi
echo "$venv"
