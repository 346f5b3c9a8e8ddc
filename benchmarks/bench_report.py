"""How long the report takes on a large run, and what dominates: a benchmark, not a test.

    python benchmarks/bench_report.py                  # 1,000 trials x 1,000 curve points
    python benchmarks/bench_report.py --trials 200 --points 200 --profile

Writes a synthetic results directory through the real store (RunWriter): 1,000 trials of
real records (the golden schema-2 run's, varied: 4 problems x 5 optimizers x 10 learning
rates x 5 seeds), each with a 1,000-point curve whose loss decays at a rate set by its
learning rate, then times `build_report` on it in this process and reports the peak RSS.
With --profile, the ten functions with the most cumulative time.
"""

import argparse
import cProfile
import math
import os
import pstats
import random
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from conftest import golden_record  # noqa: E402

from bench import store  # noqa: E402
from bench.record import SCHEMA_VERSION  # noqa: E402

PROBLEMS = {"linear": 0, "linear-noisy": 10, "curve": 14, "lenet": 20}  # problem -> a golden line of it
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")


def write_run(run_dir: str, trials: int, points: int) -> None:
    writer = store.RunWriter(run_dir, {"schema": SCHEMA_VERSION, "suite": "big", "run_id": "big", "suite_hash": "x",
                                       "started_at": "2026-12-01T00:00:00+00:00", "trials_planned": trials})  # fmt: skip
    rng = random.Random(0)
    lrs = [10 ** (-3 + 0.3 * i) for i in range(10)]
    made = 0
    while made < trials:
        for problem, line in PROBLEMS.items():
            for optimizer in OPTIMIZERS:
                for lr in lrs:
                    for seed in range(5):
                        if made == trials:
                            return writer.close()
                        base = golden_record(index=line)
                        config = dict(base.config, optimizer=optimizer, lr=lr, seed_index=seed, steps=points)
                        rate = 3.0 * lr * (1 + OPTIMIZERS.index(optimizer) / 10)
                        final = math.exp(-rate * points / 100) + 0.001 * rng.random()
                        trial_id = f"{problem}-{made:06d}"
                        record = golden_record(
                            index=line, trial_id=trial_id, config=config, final_loss=final, best_loss=final,
                            steps=points, train_time_s=points * 1e-3 * (1 + rng.random() / 10),
                            time_to_target_s=(points * 5e-4) if final < 0.05 else None,
                            steps_to_target=(points // 2) if final < 0.05 else None,
                        )  # fmt: skip
                        curve = [(trial_id, step, step * 1e-3, math.exp(-rate * step / 100), None, None)
                                 for step in range(1, points + 1)]  # fmt: skip
                        writer.append(record, curve)
                        made += 1
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from bench.report.build import build_report

    with tempfile.TemporaryDirectory() as work:
        run_dir = os.path.join(work, "results", "big", "big")
        started = time.perf_counter()
        write_run(run_dir, args.trials, args.points)
        print(f"wrote {args.trials} trials x {args.points} points in {time.perf_counter() - started:.1f} s "
              f"({os.path.getsize(os.path.join(run_dir, 'curves.csv')) / 1e6:.0f} MB of curves)")  # fmt: skip
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        out = build_report(run_dir, os.path.join(work, "report"))
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs) / 1e6
        print(f"report: {seconds:.1f} s; peak RSS {peak:.0f} MB (before the report: {rss_before:.0f} MB); "
              f"{size:.1f} MB written")  # fmt: skip
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
