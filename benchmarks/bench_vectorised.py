"""Trials per second of a learning-rate x seed sweep: sequential against vectorised.

    python benchmarks/bench_vectorised.py [--problems linear,curve] [--optimizers sgd,adam]
                                          [--rates 100] [--seeds 5] [--sample 1] [--rounds 1]
                                          [--batch-threads 1] [--device cpu]

For each problem and optimizer, one suite of RATES learning rates (log-spaced from 1e-4 to
1, so the top of the range diverges, as a real sweep's does) x SEEDS seeds, the problem's
default budget, run as a whole `optbench run` process twice: as it is (one trial after
another) and with `vectorise: true`. The figure is trials per second of each whole process
(start-up, data, burn-in, training, evaluation, records), and their ratio; then the same
trials trained in this process, training and evaluation alone (no start-up, no records). `--sample K` runs
only every K-th learning rate sequentially (all seeds), to save time: its trials per second
stand for the whole sweep's (stated in the output). `--rounds N` alternates the two N times
and reports the median ratio and its range. `--batch-threads N` gives the vectorised side N
torch threads (its suite's `threads: N`) while the sequential trials keep 1, each side at
its best setting: one thread is the fastest for one tiny model, but a batch of hundreds is a
real matrix product that a second core can share. `--device cuda` runs both sides there.
Nothing asserts a time.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rates(count: int):
    return [float(f"{10 ** (-4 + 4.0 * i / max(count - 1, 1)):.4g}") for i in range(count)]


def suite_text(problem: str, optimizer: str, lrs, seeds: int, vectorise: bool, threads: int = 1,
               device: str = "cpu") -> str:  # fmt: skip
    lines = [
        "name: sweep",
        f"problems: [{problem}]",
        f"optimizers: {{{optimizer}: {{lr: [{', '.join(repr(lr) for lr in lrs)}]}}}}",
        f"repeats: {seeds}",
        "canary: false",
        f"vectorise: {'true' if vectorise else 'false'}",
        f"threads: {threads}",
        f"device: {device}",
    ]
    return "\n".join(lines) + "\n"


def run(directory: str, text: str, name: str) -> float:
    """Seconds the whole `optbench run` process took."""
    path = os.path.join(directory, name + ".yaml")
    with open(path, "w") as handle:
        handle.write(text)
    results = os.path.join(directory, "results-" + name)
    start = time.perf_counter()
    finished = subprocess.run(
        [sys.executable, "-m", "bench", "run", path, "--results", results, "--new"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, universal_newlines=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if finished.returncode != 0:  # say why, not only that it failed
        sys.exit(
            f"optbench run of the {name} suite failed (exit {finished.returncode}):\n{finished.stderr[-2000:]}"
        )
    return seconds


def in_process(directory: str, text: str, sequential: bool) -> float:
    """Trials per second of the training alone, in this process: bench.trainer.run_trial per
    trial, or bench.vectorised.trainer.run_batch per batch (data made beforehand; no
    process start, no records, no burn-in)."""
    from bench.plan import make_plan
    from bench.problems import PROBLEMS
    from bench.suite import load_suite
    from bench.trainer import run_trial
    from bench.vectorised.grouping import batches
    from bench.vectorised.trainer import run_batch

    path = os.path.join(directory, "in-process.yaml")
    with open(path, "w") as handle:
        handle.write(text)
    trials = make_plan(load_suite(path)).trials
    problem = PROBLEMS[trials[0].problem]
    data = {t.seed: problem.make_data(t.seed, dict(t.options)) for t in trials}
    start = time.perf_counter()
    if sequential:
        for trial in trials:
            run_trial(trial, problem, data[trial.seed])
    else:
        for batch in batches(trials):
            run_batch(batch, problem, [data[t.seed] for t in batch])
    return len(trials) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="linear,curve")
    parser.add_argument("--optimizers", default="sgd,adam")
    parser.add_argument("--rates", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sample", type=int, default=1, help="run every K-th rate sequentially")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--batch-threads", type=int, default=1, help="torch threads of the vectorised side")
    parser.add_argument("--device", default="cpu", help="cpu or cuda: where both sides train")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, device {args.device}; {args.rates} rates x "
        f"{args.seeds} seeds per sweep; sequential 1 thread, vectorised {args.batch_threads}"
    )
    print(
        "problem   optimizer  measured       sequential trials/s  vectorised trials/s  ratio (median, range)"
    )
    all_rates = rates(args.rates)
    sampled = all_rates[:: args.sample]
    with tempfile.TemporaryDirectory() as directory:
        for problem in args.problems.split(","):
            for optimizer in args.optimizers.split(","):
                sequential = suite_text(problem, optimizer, sampled, args.seeds, False, 1, args.device)
                vectorised = suite_text(
                    problem, optimizer, all_rates, args.seeds, True, args.batch_threads, args.device
                )
                seq_rates, vec_rates = [], []
                for _ in range(args.rounds):
                    seq_rates.append(len(sampled) * args.seeds / run(directory, sequential, "sequential"))
                    vec_rates.append(len(all_rates) * args.seeds / run(directory, vectorised, "vectorised"))
                report(problem, optimizer, "whole process", seq_rates, vec_rates)
                seq_rates, vec_rates = [], []
                for _ in range(args.rounds):
                    seq_rates.append(in_process(directory, sequential, True))
                    vec_rates.append(in_process(directory, vectorised, False))
                report(problem, optimizer, "training only", seq_rates, vec_rates)
    if args.sample > 1:
        print(f"sequential: every {args.sample}th rate ({len(sampled)} of {len(all_rates)}), all seeds")


def report(problem, optimizer, what, seq_rates, vec_rates) -> None:
    ratios = [v / s for v, s in zip(vec_rates, seq_rates)]
    print(f"{problem:<9} {optimizer:<10} {what:<14} {statistics.median(seq_rates):>19.2f}  {statistics.median(vec_rates):>19.1f}  {statistics.median(ratios):.1f}x ({min(ratios):.1f}-{max(ratios):.1f})", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
