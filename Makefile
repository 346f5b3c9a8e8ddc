# Two commands for a newcomer: `make run` (the tutorial suite) and `make test`.
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# torch 2.13.0 is the CPU build this project's machines keep on disk; a plain `torch`
# from PyPI is a multi-GB CUDA build. On a GPU machine: make TORCH=torch run
TORCH  ?= torch==2.13.0
# The extras installed into .venv. `make test` adds TEST_EXTRAS, what only some tests and suites
# need: tensorflow (tensorflow-cpu, about 1.5 GB installed) runs the implementation: tensorflow
# trials and their tests, which skip without it; a newcomer's `make run` does not download it.
# dask (dask.distributed, about 30 MB) runs the dask executor's tests (tests/test_dask_executor.py).
EXTRAS      ?= report,test,jetson
TEST_EXTRAS ?= tensorflow,dask
# A suite name (./suites/NAME.yaml, else the one shipped with optbench) or a path.
SUITE  ?= tutorial

.PHONY: run test lint wheel nano bench-steps clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	touch $@

# Ends with the report of the run it made: results/<suite>/ names the suite's latest run.
run: $(BIN)/.installed
	$(BIN)/optbench run $(SUITE)
	$(BIN)/optbench report results/$(notdir $(basename $(SUITE)))

$(BIN)/.test-extras: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS),$(TEST_EXTRAS)]"
	touch $@

test: $(BIN)/.test-extras
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# The device half (everything `optbench run` imports) must stay Python 3.6 syntax;
	# the analysis half (analysis/, report/, compare/, their commands, nightly/analysis.py) needs
	# Python 3.8 and pandas; compare/policy.py is the exception: the device half checks a suite's
	# regressions: block with it.
	$(BIN)/vermin -t=3.6- --no-tips --violations --backport dataclasses --exclude-regex 'bench/(analysis|report)/.*|bench/compare/(?!policy\.py).*|bench/analysis_commands.py|bench/nightly/analysis.py' bench

# The step benchmarks (tests/benchmarks/, docs/BENCHMARKS.md): one training step per (problem,
# optimizer), timed by pytest-benchmark; `make test` deselects them. About 0.25 s of rounds each
# after 50 untimed steps; the JSON keeps every round's time. BENCH_PYTHON: another interpreter
# (the Nano stack's), STEPS_JSON: another file (make bench-steps STEPS_JSON=.benchmarks/before.json).
BENCH_PYTHON ?= $(BIN)/python
STEPS_JSON   ?= .benchmarks/steps.json
bench-steps: $(BIN)/.installed
	mkdir -p $(dir $(STEPS_JSON))
	$(BENCH_PYTHON) -m pytest -q -rfE tests/benchmarks --benchmark-only --benchmark-json=$(STEPS_JSON) \
	  --benchmark-max-time=0.25 --benchmark-min-rounds=20 --benchmark-warmup=on \
	  --benchmark-warmup-iterations=50 --benchmark-columns=min,median,iqr,rounds

# The built wheel in a fresh venv outside the checkout: `optbench run smoke` by name, elsewhere.
wheel:
	PYTHON="$(PYTHON)" TORCH="$(TORCH)" bash .ci/wheel-smoke.sh

# The device half on the Jetson Nano's stack: Python 3.6, torch 1.10.2, numpy 1.19.5.
nano: $(BIN)/.installed
	bash .ci/nano-stack.sh

clean:
	rm -rf $(VENV)
