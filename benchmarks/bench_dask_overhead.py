"""What the dask executor costs per trial, against the default local executor, on this machine.

    python benchmarks/bench_dask_overhead.py [--rounds 6] [--trials 24]

One small suite of fast trials (linear regression, 100 steps: a few milliseconds of training
each, so the executor's own cost is what shows) runs through run_plan, as `optbench run` runs
it, alternately (A) in-process, one trial at a time, and (B) on dask: a scheduler and one
worker process with the `trial` resource, started once beforehand on loopback (their start-up
is measured apart). One worker, so that B's trials run one at a time as A's do and the difference is the
executor's: submitting, pickling the task and its result, the round trips through the scheduler,
the client's wait. B's sessions also connect and check the worker (describe, versions): measured
apart, by opening and closing the pool alone, and subtracted. Each side runs in a
process of its own (A never shares one with dask's threads), twice, and its second sweep is
timed: both warm. Each round runs A and B once, in alternating order; round 1 is left out.
Figures: medians over rounds. Nothing asserts a time.
"""

import argparse
import dataclasses
import io
import json
import os
import shutil
import statistics
import subprocess
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


def one_side(side: str, scheduler: str, trials: int, work: str) -> None:
    """One side, in a process of its own (so the local side never shares its process with dask's
    threads), its times printed as JSON. The sweep runs twice and the second is timed: both
    sides warm (the local process's first trials pay torch's lazy start-up, which a long-lived
    dask worker paid once), so that the difference is the executor's own cost per trial."""
    plan = _plan(work, trials, ExecutorChoice())
    if side == "dask":
        plan = _with(plan, ExecutorChoice(kind="dask", scheduler=scheduler))
    _sweep(plan, os.path.join(work, "results"))
    times = {side: _sweep(plan, os.path.join(work, "results"))}
    if side == "dask":
        times["connect"] = _connect(plan.suite.executor)
    print(json.dumps(times))


def _run_side(side: str, scheduler: str, trials: int, work: str) -> dict:
    done = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--side", side, "--scheduler", scheduler,
         "--trials", str(trials), "--work", work],
        stdout=subprocess.PIPE, universal_newlines=True, check=True, env=dict(os.environ, PYTHONPATH=ROOT),
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m"] + list(args), env=dict(os.environ, PYTHONPATH=ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--side", choices=["local", "dask"], help=argparse.SUPPRESS)
    parser.add_argument("--scheduler", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        one_side(args.side, args.scheduler, args.trials, args.work)
        return 0
    work = tempfile.mkdtemp(prefix="dask-overhead-")
    scheduler_file = os.path.join(work, "scheduler.json")
    started = time.perf_counter()
    processes = [_start("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                        "--scheduler-file", scheduler_file)]  # fmt: skip
    try:
        while not os.path.exists(scheduler_file):
            time.sleep(0.05)
        processes.append(_start("distributed.cli.dask_worker", "--scheduler-file", scheduler_file, "--host",
                                "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                "--memory-limit", "0", "--resources", "trial=1"))  # fmt: skip
        import distributed

        with distributed.Client(scheduler_file=scheduler_file) as client:
            client.wait_for_workers(1)
        startup = time.perf_counter() - started
        with open(scheduler_file) as handle:
            scheduler = json.load(handle)["address"]
        rows = []
        for round_ in range(args.rounds):
            sides = ["local", "dask"] if round_ % 2 == 0 else ["dask", "local"]
            times = {}
            for side in sides:
                times.update(_run_side(side, scheduler, args.trials, work))
            rows.append(times)
            print("round {}: local {:.3f} s, dask {:.3f} s (connect and check {:.3f} s)".format(
                round_ + 1, times["local"], times["dask"], times["connect"]), flush=True)  # fmt: skip
        measured = rows[1:] or rows
        per_trial = [(r["dask"] - r["connect"] - r["local"]) / args.trials for r in measured]
        local_trial = [r["local"] / args.trials for r in measured]
        ratio = [(r["dask"] - r["connect"]) / r["local"] for r in measured]
        print(f"\n{args.trials} trials a sweep, {len(measured)} rounds after a warm-up round (medians):")
        print(f"  scheduler and 1 worker process started, once: {startup:.2f} s")
        print("  connect and check the worker, per run: {:.3f} s".format(statistics.median(r["connect"] for r in measured)))  # fmt: skip
        print(
            f"  local, per trial (the whole sweep / trials): {1000 * statistics.median(local_trial):.1f} ms"
        )
        print(f"  dask's overhead per trial, beyond local's: {1000 * statistics.median(per_trial):.1f} ms "
              f"(range {1000 * min(per_trial):.1f} to {1000 * max(per_trial):.1f}); "
              f"dask / local, connection left out: {statistics.median(ratio):.2f}x")  # fmt: skip
    finally:
        for process in reversed(processes):
            process.kill()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
