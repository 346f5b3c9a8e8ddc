"""Does telemetry perturb training? The same real trial, telemetry off and on, interleaved.

    python benchmarks/bench_step_time_telemetry.py                  # host source (psutil) here
    python benchmarks/bench_step_time_telemetry.py --sources jetson # on a Jetson with jtop running

Runs the trainer on real problems (not a stand-in workload) in rounds of A (no recorder)
and B (a recorder sampling in the background), alternating which goes first, so drift in
the machine's state falls on both alike. Reports each side's median step time with its
IQR over rounds, and the ratio B/A of the medians: a ratio inside the spread is "within
noise". A benchmark prints numbers; nothing here asserts a time.
"""

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.plan import TrialSpec  # noqa: E402
from bench.problems import PROBLEMS  # noqa: E402
from bench.telemetry import TelemetryConfig, open_recorder  # noqa: E402
from bench.trainer import run_trial  # noqa: E402

TRIALS = {
    "curve": dict(problem="curve", activation="tanh", batch="full", steps=300, options=(("hidden", 32), ("layers", 2), ("points", 200))),
    "lenet": dict(problem="lenet", activation="relu", batch=64, steps=60,
                  options=(("data", "digits"), ("data_dir", ""), ("test_size", 0), ("train_size", 0))),
}  # fmt: skip


def spec(**fields) -> TrialSpec:
    base = dict(optimizer="adam", lr=0.001, hyper=(), device="cpu", dropout=0.0, batch_norm=False,
                implementation="torch", threads=1, seed_index=0, epochs=None, time_limit_s=600.0, eval_every=1000, log_every=1)  # fmt: skip
    base.update(fields)
    return TrialSpec(**base)


def quartiles(values):
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 4], statistics.median(ordered), ordered[(3 * n) // 4]


def measure(name: str, rounds: int, sources) -> None:
    trial = spec(**TRIALS[name])
    trial = dataclasses.replace(trial, eval_every=trial.steps)
    problem = PROBLEMS[trial.problem]
    data = problem.make_data(trial.seed, dict(trial.options))
    run_trial(trial, problem, data)  # burn-in
    medians = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        recorder = open_recorder(TelemetryConfig(sources=tuple(sources)), clock=time.perf_counter,
                                 samples_path=os.path.join(tmp, "telemetry.csv"))  # fmt: skip
        recorder.start()
        active = recorder.manifest_info()["active"]
        recorder.close()
        for index in range(rounds):
            order = ("off", "on") if index % 2 == 0 else ("on", "off")
            for side in order:
                recorder = None
                if side == "on":
                    recorder = open_recorder(TelemetryConfig(sources=tuple(sources)), clock=time.perf_counter,
                                             samples_path=os.path.join(tmp, "telemetry.csv"))  # fmt: skip
                    recorder.start()
                    time.sleep(0.2)  # sampling under way before the trial starts
                result = run_trial(trial, problem, data)
                if recorder is not None:
                    recorder.close()
                medians[side].append(result.step_time_median_s)
    off, on = quartiles(medians["off"]), quartiles(medians["on"])
    spread = (off[2] - off[0]) / off[1]
    print(f"{name:6} sources={','.join(active) or 'none':12} step median off {off[1] * 1e3:.3f} ms "
          f"(IQR {(off[2] - off[0]) * 1e3:.3f}), on {on[1] * 1e3:.3f} ms (IQR {(on[2] - on[0]) * 1e3:.3f}); "
          f"ratio on/off {on[1] / off[1]:.3f}; off-side spread {spread:.1%} of its median")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", default="host", help="comma list (default: host)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--problems", default="curve,lenet")
    args = parser.parse_args()
    for name in args.problems.split(","):
        measure(name, args.rounds, args.sources.split(","))


if __name__ == "__main__":
    main()
