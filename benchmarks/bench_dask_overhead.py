"""What the dask executor costs per trial, against the default local executor, on this machine.

    python benchmarks/bench_dask_overhead.py [--rounds 5] [--trials 24]

One small suite of fast trials (linear regression, 100 steps: a few milliseconds of training
each, so the executor's own cost is what shows) runs through run_plan, as `optbench run` runs
it, alternately (A) in-process, one trial at a time, and (B) on a dask LocalCluster of one
worker process with the `trial` resource, started once beforehand (its start-up is measured
apart). One worker, so that B's trials run one at a time as A's do and the difference is the
executor's: submitting, pickling the task and its result, the round trips through the scheduler,
the client's wait. B's sessions also connect and check the worker (describe, versions): measured
apart, by opening and closing the pool alone, and subtracted. Each round runs A and B once, in
alternating order; round 1 is a warm-up and is left out (both sides' first trials of a kind
burn in). Figures: medians over rounds. Nothing asserts a time.
"""

import argparse
import dataclasses
import io
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.environment import fingerprint  # noqa: E402
from bench.executors.choice import ExecutorChoice  # noqa: E402
from bench.plan import make_plan  # noqa: E402
from bench.runner import missing_devices, run_plan  # noqa: E402
from bench.suite import load_suite  # noqa: E402

SUITE = """
name: dask-overhead
problems: {{linear: {{steps: 100, eval_every: 100}}}}
optimizers: {{sgd: {{lr: [{lrs}]}}}}
seeds: [0]
telemetry: {{sources: none}}
canary: false
"""


def _plan(directory: str, trials: int, executor: ExecutorChoice):
    path = os.path.join(directory, "dask-overhead.yaml")
    with open(path, "w") as handle:
        handle.write(SUITE.format(lrs=", ".join(f"{0.001 * (i + 1):g}" for i in range(trials))))
    return _with(make_plan(load_suite(path)), executor)


def _with(plan, executor: ExecutorChoice):
    return dataclasses.replace(plan, suite=dataclasses.replace(plan.suite, executor=executor))


def _sweep(plan, results: str) -> float:
    started = time.perf_counter()
    _, records = run_plan(plan, results, new=True, out=io.StringIO())
    elapsed = time.perf_counter() - started
    assert len(records) == len(plan.trials) and all(r.status.value == "ok" for r in records)
    return elapsed


def _connect(choice: ExecutorChoice) -> float:
    """Opening the pool alone: connecting, and each worker describing itself and being checked."""
    from bench.executors import open_pool

    started = time.perf_counter()
    pool = open_pool(choice, fingerprint(), io.StringIO(), missing_devices)
    pool.close([])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=24)
    args = parser.parse_args()
    import distributed

    started = time.perf_counter()
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, resources={"trial": 1},
        dashboard_address=":0", silence_logs=logging.ERROR, memory_limit=0,
    )  # fmt: skip
    startup = time.perf_counter() - started
    work = tempfile.mkdtemp(prefix="dask-overhead-")
    try:
        local = _plan(work, args.trials, ExecutorChoice())
        on_dask = _with(local, ExecutorChoice(kind="dask", scheduler=cluster.scheduler_address))
        rows = []
        for round_ in range(args.rounds):
            sides = [("local", local), ("dask", on_dask)]
            if round_ % 2:
                sides.reverse()
            times = {name: _sweep(plan, os.path.join(work, "results")) for name, plan in sides}
            times["connect"] = _connect(on_dask.suite.executor)
            rows.append(times)
            print("round {}: local {:.3f} s, dask {:.3f} s (connect and check {:.3f} s)".format(
                round_ + 1, times["local"], times["dask"], times["connect"]))  # fmt: skip
        measured = rows[1:] or rows
        per_trial = [(r["dask"] - r["connect"] - r["local"]) / args.trials for r in measured]
        local_trial = [r["local"] / args.trials for r in measured]
        print(f"\n{args.trials} trials a sweep, {len(measured)} rounds after a warm-up round (medians):")
        print(f"  LocalCluster start-up (1 worker process), once: {startup:.2f} s")
        print("  connect and check the worker, per run: {:.3f} s".format(statistics.median(r["connect"] for r in measured)))  # fmt: skip
        print(
            f"  local, per trial (the whole sweep / trials): {1000 * statistics.median(local_trial):.1f} ms"
        )
        print(f"  dask's overhead per trial, beyond local's: {1000 * statistics.median(per_trial):.1f} ms "
              f"(range {1000 * min(per_trial):.1f} to {1000 * max(per_trial):.1f})")  # fmt: skip
    finally:
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
