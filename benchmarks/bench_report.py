"""How long the report takes on a large run, and what dominates: a benchmark, not a test.

    python benchmarks/bench_report.py                  # 1,000 trials x 1,000 curve points
    python benchmarks/bench_report.py --trials 200 --points 200 --profile
    python benchmarks/bench_report.py --nights 60      # ... as the last of 60 nights of its suite

Writes a synthetic results directory through the real store (RunWriter): 1,000 trials of
real records (the golden schema-2 run's, varied: 4 problems x 5 optimizers x 10 learning
rates x 5 seeds), each with a 1,000-point curve whose loss decays at a rate set by its
learning rate, then times `build_report` on it in this process and reports the peak RSS.
With --profile, the ten functions with the most cumulative time. With --nights N, the run is
the last of N nights of its suite (the earlier ones beside it, one a day, the same trials
without their curves: history never reads curves.csv), adam's training times 10% longer
from two thirds of the way on, so the report's History section has a change and its trends to
draw. history's per-night cache (bench/compare/night_cache.py) is a folder of the temporary
directory: the first report reads every night (cold), the rounds after it read the cache
(warm), as a nightly report does for every night but the new one. The History section is
also timed on its own (warm).
"""

import argparse
import cProfile
import datetime
import math
import os
import pstats
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from typing import Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

from conftest import golden_record  # noqa: E402

from bench import store  # noqa: E402
from bench.record import SCHEMA_VERSION  # noqa: E402

PROBLEMS = {"linear": 0, "linear-noisy": 10, "curve": 14, "lenet": 20}  # problem -> a golden line of it
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw")


def write_run(
    run_dir: str, trials: int, points: int, night: int = 0, curves: bool = True, slower: float = 1.0
) -> None:
    """One run of suite "big", started ``night`` days after the first; adam's times x ``slower``."""
    started = datetime.datetime(2026, 10, 1, 2, tzinfo=datetime.timezone.utc) + datetime.timedelta(days=night)
    writer = store.RunWriter(run_dir, {"schema": SCHEMA_VERSION, "suite": "big", "run_id": os.path.basename(run_dir),
                                       "suite_hash": "x", "started_at": started.isoformat(), "trials_planned": trials})  # fmt: skip
    rng = random.Random(night)
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
                            steps=points, train_time_s=points * 1e-3 * (1 + rng.random() / 10) * (slower if optimizer == "adam" else 1.0),
                            time_to_target_s=(points * 5e-4) if final < 0.05 else None,
                            steps_to_target=(points // 2) if final < 0.05 else None,
                        )  # fmt: skip
                        curve = [(trial_id, step, step * 1e-3, math.exp(-rate * step / 100), None, None)
                                 for step in range(1, points + 1)]  # fmt: skip
                        writer.append(record, curve if curves else [])
                        made += 1
    writer.close()


def _timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--nights", type=int, default=1, help="the run is the last of this many nights")
    parser.add_argument("--rounds", type=int, default=3,
                        help="with --nights: the report with the earlier nights and without them (the run copied "
                             "alone), alternately, this many times each")  # fmt: skip
    args = parser.parse_args()
    from bench.report import history_section
    from bench.report.build import build_report
    from bench.report.data import load_report_data

    with tempfile.TemporaryDirectory() as work:
        os.environ["OPTBENCH_CACHE_DIR"] = os.path.join(work, "cache")  # cold, and not the user's
        run_dir = os.path.join(work, "results", "big", "big")
        started = time.perf_counter()
        write_run(run_dir, args.trials, args.points, args.nights - 1, slower=1.1 if args.nights > 1 else 1.0)
        print(f"wrote {args.trials} trials x {args.points} points in {time.perf_counter() - started:.1f} s "
              f"({os.path.getsize(os.path.join(run_dir, 'curves.csv')) / 1e6:.0f} MB of curves)")  # fmt: skip
        if args.nights > 1:
            started = time.perf_counter()
            for night in range(args.nights - 1):
                slower = 1.1 if night >= 2 * args.nights // 3 else 1.0
                write_run(os.path.join(work, "results", "big", f"night-{night:02d}"), args.trials, args.points,
                          night, curves=False, slower=slower)  # fmt: skip
            print(f"wrote {args.nights - 1} earlier nights of {args.trials} trials (no curves) in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
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
        print(f"report{' (history cold)' if args.nights > 1 else ''}: {seconds:.1f} s; peak RSS {peak:.0f} MB (before the report: {rss_before:.0f} MB); "
              f"{size:.1f} MB written")  # fmt: skip
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        if args.nights > 1:
            # The same run alone in a suite directory of its own: the report without history.
            alone = os.path.join(work, "alone", "big", "big")
            shutil.copytree(run_dir, alone)
            data = load_report_data(run_dir)
            times: Dict[str, List[float]] = {
                "alone": [],
                "with nights (warm)": [],
                "History section (warm)": [],
            }
            for _ in range(args.rounds):
                times["alone"].append(_timed(build_report, alone, os.path.join(work, "report-alone")))
                times["with nights (warm)"].append(
                    _timed(build_report, run_dir, os.path.join(work, "report"))
                )
                times["History section (warm)"].append(_timed(history_section.build, data))
            for name, seconds in times.items():
                print(
                    f"{name}: median {statistics.median(seconds):.1f} s ({', '.join(f'{s:.1f}' for s in seconds)})"
                )
            print(history_section.build(data).sentence)


if __name__ == "__main__":
    main()
