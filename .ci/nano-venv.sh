#!/usr/bin/env bash
# Build (once) and print the path of a virtual environment holding the Jetson Nano's
# stock software stack: Python 3.6, torch 1.10.2, numpy 1.19.5, jetson-stats 4.3.2.
# Cached under ~/.cache keyed by the pinned versions: torch 1.10.2 is a large download
# (about a minute from a warm registry), so only the first run pays for it.
set -euo pipefail
PINS="torch==1.10.2 numpy==1.19.5 jetson-stats==4.3.2 scikit-learn==0.24.2 PyYAML==6.0.1 psutil pytest==7.0.1 pytest-benchmark==3.4.1"
key=$(echo "py3.6.15 $PINS" | sha1sum | cut -c1-12)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/optbench/nano-venv-$key"
mkdir -p "$(dirname "$venv")"
# One builder at a time: a second caller waits for the first instead of deleting its venv.
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/.ready" ]; then
  py36=$(PYENV_VERSION=3.6.15 pyenv which python)
  rm -rf "$venv"
  "$py36" -m venv "$venv"
  # A fresh 3.6 venv has pip 18.1, which cannot do PEP 517/660 installs.
  "$venv/bin/python" -m pip install -q -U "pip<22" >&2
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install -q $PINS >&2
  printf '#!/bin/sh\nexit 0\n' > "$venv/.ready" && chmod +x "$venv/.ready"
fi
echo "$venv"
