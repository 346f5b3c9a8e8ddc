"""Helpers for the nightly tests: run `optbench nightly` as the timer would, and read what a
night left behind. Python 3.6 syntax: the device half's tests also run on the Nano's stack."""

import json
import os

from conftest import run_cli

# Two problems, a baseline-sized part (linear) and the rest (curve), seconds in all: the window
# tests need cells of two kinds, and each night is a real run.
WINDOW_SUITE = """
name: {name}
problems:
  linear: {{steps: 60}}
  curve: {{steps: 60, activation: [tanh, relu]}}
optimizers: {{sgd: {{lr: [0.05]}}, adam: {{lr: [0.01]}}}}
seeds: [0, 1]
budget: {{eval_every: 30}}
telemetry: {{sources: none}}
"""


def nightly(*args, results, now=None, cwd=None, timeout=600):
    argv = (
        ["nightly"]
        + list(args)
        + ["--results", str(results), "--reports", os.path.join(str(results), "..", "reports")]
    )
    if now:
        argv += ["--now", now]
    return run_cli(*argv, cwd=cwd, timeout=timeout)


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def summary_of(run_dir):
    return read_json(os.path.join(run_dir, "summary.json"))


def night_record(run_dir):
    return read_json(os.path.join(run_dir, "night.json"))


def record_lines(run_dir):
    """The trial records, in the order they were written."""
    with open(os.path.join(run_dir, "trials.jsonl")) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def run_dirs(results, suite):
    suite_dir = os.path.join(str(results), suite)
    return (
        sorted(os.path.join(suite_dir, n) for n in os.listdir(suite_dir)) if os.path.isdir(suite_dir) else []
    )


def run_dir_from(output):
    """The run directory a night's stdout names (its summary line)."""
    for line in output.splitlines():
        if line.startswith("summary: "):
            return os.path.dirname(line.split()[1])
    raise AssertionError("no summary line in:\n" + output)
