"""What the harness costs per step, against the tutorial's bare training loop.

    python benchmarks/bench_harness_overhead.py [--rounds 10]
    python benchmarks/bench_harness_overhead.py --whole-process [--pairs 5] [--canary]

--whole-process: a 15-cell `linear` grid (5 learning rates x 3 seeds, 2,000 full-batch SGD
steps each, every step's loss recorded, one evaluation at the end) run as whole processes:
`optbench run` of that suite against benchmarks/plain_linear_grid.py, the tutorial's nested
loops doing the same training and keeping every step's loss, and against the same script
with --gc-freeze (optbench's one process-wide change; what is left against it is the
harness's own work). The sides alternate (ABCCBA) for PAIRS rounds; the figures are the
medians over rounds of optbench's time over each script's, wall and CPU (user + system),
with their ranges. The suite turns the drift canary off unless --canary is given:
the canary is a fixed measurement of the machine (about 0.5 s a run, docs/PERFORMANCE.md),
not a cost per step, and --canary shows what it adds.

Per problem, the same model, data, optimizer, batch size and thread settings trained
(A) by a bare loop -- draw a batch, zero_grad, forward, loss, backward, step -- timed
as a whole, and (B) by optbench's trainer (per-step timing and loss recording on, one
untimed evaluation at the end), its train_time_s. A and B alternate in each round; the
figures are the medians over rounds of the time per step, and B/A. Telemetry is off here:
benchmarks/bench_step_time_telemetry.py measures that separately. Nothing asserts a time.
"""

import argparse
import dataclasses
import os
import statistics
import sys
import time
from typing import Dict, List

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import optimizers  # noqa: E402
from bench.plan import TrialSpec  # noqa: E402
from bench.problems import PROBLEMS, ModelSpec  # noqa: E402
from bench.trainer import run_trial  # noqa: E402

CASES = {
    "linear": dict(problem="linear", activation="none", batch="full", steps=2000, options=()),
    "curve": dict(problem="curve", activation="tanh", batch="full", steps=1000,
                  options=(("hidden", 32), ("layers", 2), ("points", 200))),
    "lenet": dict(problem="lenet", activation="relu", batch=64, steps=150,
                  options=(("data", "digits"), ("data_dir", ""), ("test_size", 0), ("train_size", 0))),
}  # fmt: skip


def bare_loop(trial: TrialSpec, data) -> float:
    """The tutorial's loop; seconds per step."""
    problem = PROBLEMS[trial.problem]
    torch.manual_seed(trial.seed)
    model = problem.make_model(ModelSpec(trial.activation, 0.0, False, dict(trial.options)))
    optimizer = optimizers.build(trial.optimizer, model.parameters(), trial.lr, {})
    loss_fn = problem.loss_fn()
    x_all, y_all = data.x_train, data.y_train
    n = len(x_all)
    size = n if trial.batch == "full" else int(trial.batch)
    generator = torch.Generator()
    generator.manual_seed(trial.seed)
    order, position = None, n
    start = time.perf_counter()
    for _ in range(trial.steps):
        if size == n:
            x, y = x_all, y_all
        else:
            if position + size > n:
                order, position = torch.randperm(n, generator=generator), 0
            index = order[position : position + size]
            position += size
            x, y = x_all[index], y_all[index]
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / trial.steps


def harness(trial: TrialSpec, data) -> float:
    result = run_trial(trial, PROBLEMS[trial.problem], data)
    return result.outcome.train_time_s / result.outcome.steps


GRID_LRS = (0.01, 0.03, 0.1, 0.3, 0.5)
GRID_SEEDS = 3
GRID_STEPS = 2000


def grid_suite(canary: bool) -> str:
    lrs = ", ".join(str(lr) for lr in GRID_LRS)
    return (
        "name: overhead\n"
        f"problems: {{linear: {{steps: {GRID_STEPS}, eval_every: {GRID_STEPS}}}}}\n"
        f"optimizers: {{sgd: {{lr: [{lrs}]}}}}\n"
        f"repeats: {GRID_SEEDS}\n"
        f"canary: {'true' if canary else 'false'}\n"
    )


def whole_process(pairs: int, canary: bool) -> None:
    import resource
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        suite = os.path.join(directory, "overhead.yaml")
        with open(suite, "w") as handle:
            handle.write(grid_suite(canary))
        commands = {
            "optbench": [sys.executable, "-m", "bench", "run", suite, "--results", os.path.join(directory, "r"), "--new"],
            "plain": [sys.executable, os.path.join(ROOT, "benchmarks", "plain_linear_grid.py"),
                      os.path.join(directory, "plain.json"), "--steps", str(GRID_STEPS),
                      "--lrs", ",".join(str(lr) for lr in GRID_LRS), "--seeds", str(GRID_SEEDS)],
        }  # fmt: skip
        # The same script with optbench's one process-wide change (bench.heap: the collector
        # paused while torch is imported, what it loaded frozen, and frozen again after the
        # first optimizer): against it, what is left is the harness's own work.
        commands["plain, gc frozen"] = commands["plain"] + ["--gc-freeze"]
        # Both sides as an installed program runs: with its modules' bytecode cached (pip
        # compiles a wheel's modules when it installs them). A checkout run with
        # PYTHONDONTWRITEBYTECODE set (this workplace sets it) would compile optbench's ~70
        # modules afresh in every process, ~50 ms of CPU no installed copy spends. One
        # unmeasured run of each side writes the caches and warms the file cache.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        sides = list(commands)
        for side in sides:
            subprocess.run(commands[side], check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        wall: Dict[str, List[float]] = {side: [] for side in sides}
        cpu: Dict[str, List[float]] = {side: [] for side in sides}
        for index in range(pairs):
            order = sides if index % 2 == 0 else sides[::-1]
            for side in order:
                before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
                subprocess.run(
                    commands[side],
                    check=True,
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                wall[side].append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[side].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        print(
            f"15-cell linear grid, {GRID_STEPS} steps per cell, canary {'on' if canary else 'off'}, {pairs} pairs:"
        )
        # Wall time is what a user waits; CPU time (user + system, all the process's threads)
        # is what the process itself spent, and moves far less when others share the machine.
        for name, times in (("wall", wall), ("cpu", cpu)):
            print(f"  {name:4}  optbench run median {statistics.median(times['optbench']):.2f} s")
            for yardstick in ("plain", "plain, gc frozen"):
                ratios = [ours / theirs for ours, theirs in zip(times["optbench"], times[yardstick])]
                print(f"        {yardstick} median {statistics.median(times[yardstick]):.2f} s; optbench over it: "
                      f"median {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--problems", default="linear,curve,lenet")
    parser.add_argument("--whole-process", action="store_true", help="the 15-cell grid as whole processes")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--canary", action="store_true", help="--whole-process: keep the drift canary on")
    args = parser.parse_args()
    if args.whole_process:
        whole_process(args.pairs, args.canary)
        return
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in args.problems.split(","):
        fields = dict(CASES[name])
        trial = TrialSpec(optimizer="sgd", lr=0.01, hyper=(), device="cpu", dropout=0.0, batch_norm=False,
                          implementation="torch", threads=torch.get_num_threads(), seed_index=0, epochs=None, time_limit_s=600.0,
                          eval_every=fields["steps"], log_every=1, **fields)  # fmt: skip
        data = PROBLEMS[name].make_data(trial.seed, dict(trial.options))
        bare_loop(dataclasses.replace(trial, steps=20), data)  # burn-in for both
        harness(dataclasses.replace(trial, steps=20, eval_every=20), data)
        times = {"bare": [], "optbench": []}
        for index in range(args.rounds):
            order = ("bare", "optbench") if index % 2 == 0 else ("optbench", "bare")
            for side in order:
                times[side].append(bare_loop(trial, data) if side == "bare" else harness(trial, data))
        bare, ours = statistics.median(times["bare"]), statistics.median(times["optbench"])
        spread = (max(times["bare"]) - min(times["bare"])) / bare
        print(f"{name:7} bare {bare * 1e6:9.1f} us/step   optbench {ours * 1e6:9.1f} us/step   "
              f"ratio {ours / bare:.3f}   (bare range over rounds: {spread:.1%} of its median)")  # fmt: skip


if __name__ == "__main__":
    main()
