"""Pinned threads and the stability verdict, measured side by side on a busy and an idle machine.

    python benchmarks/bench_threads_under_load.py --rounds 3

Runs a suite (the shipped smoke suite with a longer budget, so every trial has enough steps
to judge) through the real CLI, once per condition and round: threads 1 (optbench's default)
or 2 (torch's default on a 2-core machine, what optbench used before threads was an axis),
with the machine idle or with one extra process spinning on a core. Conditions are
interleaved within each round, so drift falls on all alike. Reports per condition:
* the whole run's wall time (median over rounds) and its ratio to threads 1 on the same load;
* the median trial's training time, and the worst (max) over trials;
* the share of trials the stability verdict calls unstable, under the limits in
  bench/stability.py and, for choosing them, the 95th and 99th percentiles of each trial's
  step-time spread (IQR / median) and tail ratio (training time / (median step x steps)).
The idle rows' unstable share is the verdict's false-alarm rate on a quiet machine (A/A:
nothing differs between trials but chance). A benchmark prints numbers; nothing asserts a time.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import stability  # noqa: E402
from bench.record import Stability  # noqa: E402

SUITE = """
name: load
problems:
  linear: {}
  linear-noisy: {lr: {sgd: 0.0001, momentum: 0.0001, nesterov: 0.0001}}
  curve: {activation: [none, tanh]}
  lenet: {batch: 32, options: {train_size: 256, test_size: 128}}
optimizers:
  sgd: {lr: 0.01}
  momentum: {lr: 0.01}
  adam: {lr: 0.001}
budget: {steps: %d, eval_every: 50, time_limit: 120}
threads: %d
seeds: [0]
telemetry: {sources: none}
"""

SPIN = "import time\nwhile True:\n    pass\n"


def run_suite(threads: int, steps: int, busy: bool, workdir: str):
    suite = os.path.join(workdir, f"load-{threads}.yaml")
    with open(suite, "w") as handle:
        handle.write(SUITE % (steps, threads))
    results = tempfile.mkdtemp(dir=workdir)
    spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if busy else None
    try:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bench", "run", suite, "--results", results, "--new"],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONPATH=ROOT),
        )  # fmt: skip
        wall = time.perf_counter() - started
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()
    (run,) = os.listdir(os.path.join(results, "load"))
    with open(os.path.join(results, "load", run, "trials.jsonl")) as lines:
        records = [json.loads(line) for line in lines]
    return wall, records


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    conditions = [(threads, busy) for busy in (False, True) for threads in (1, 2)]
    walls = {c: [] for c in conditions}
    trials = {c: [] for c in conditions}
    with tempfile.TemporaryDirectory() as workdir:
        for index in range(args.rounds):
            order = conditions if index % 2 == 0 else conditions[::-1]
            for condition in order:
                wall, records = run_suite(condition[0], args.steps, condition[1], workdir)
                walls[condition].append(wall)
                trials[condition].extend(records)
                print(f"round {index + 1}: threads {condition[0]}, {'busy' if condition[1] else 'idle'}: {wall:.1f} s",
                      file=sys.stderr)  # fmt: skip
    print(f"{len(trials[conditions[0]]) // args.rounds} trials a run, {args.steps} steps each, {args.rounds} rounds; "
          f"limits: spread {stability.SPREAD_LIMIT:g}, tail {stability.TAIL_LIMIT:g}")  # fmt: skip
    header = "| load | threads | run wall (median) | vs threads 1 | trial train time median / max | unstable | spread p95 / p99 | tail p95 / p99 |"
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for threads, busy in conditions:
        records = [r for r in trials[(threads, busy)] if r["step_time_samples"] >= stability.MIN_SAMPLES]
        spreads = [r["step_time_iqr_s"] / r["step_time_median_s"] for r in records]
        tails = [r["train_time_s"] / (r["step_time_median_s"] * r["step_time_samples"]) for r in records]
        verdicts = [
            stability.judge(
                r["step_time_median_s"], r["step_time_iqr_s"], r["step_time_samples"], r["train_time_s"]
            )[0]
            for r in records
        ]
        unstable = sum(v is Stability.UNSTABLE for v in verdicts)
        wall = statistics.median(walls[(threads, busy)])
        ratio = wall / statistics.median(walls[(1, busy)])
        train = [r["train_time_s"] for r in records]
        print(f"| {'busy' if busy else 'idle'} | {threads} | {wall:.1f} s | {ratio:.2f}x | "
              f"{statistics.median(train):.3f} / {max(train):.3f} s | {unstable}/{len(records)} | "
              f"{percentile(spreads, 0.95):.2f} / {percentile(spreads, 0.99):.2f} | "
              f"{percentile(tails, 0.95):.2f} / {percentile(tails, 0.99):.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
