"""The gate's false-alarm rate, measured: A/A pairs of real runs on this machine.

    python benchmarks/bench_gate_aa.py --pairs 100            # the A/A rate at the defaults
    python benchmarks/bench_gate_aa.py --pairs 10 --slowdown 0.02 0.2
    python benchmarks/bench_gate_aa.py --pairs 100 --confirm 1   # and with `compare --confirm 1`

Runs a small suite (linear and LeNet with two optimizers each, 5 seeds: the fewest with
which the exact rank test can reach alpha 0.01; a second of warm-up, as tests/test_compare.py
uses) twice per pair, in this process and back to back, and
compares the two with the default policy: any "regressed" verdict between two runs of the
same code is a false alarm. With --slowdown, each pair's second run busy-waits that
fraction of every step (the suite's testing aid), and the rate of "regressed" is the gate's
power against that slowdown. With --confirm ROUNDS, each pair that "regressed" goes through
`optbench compare --confirm ROUNDS` (bench.compare.confirm: both runs' cells re-run interleaved
by this code) and counts as regressed only if it holds. A benchmark prints numbers; nothing
asserts a time.
"""

import argparse
import os
import sys
import tempfile
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import suite as suite_module  # noqa: E402
from bench.compare import confirm, gate, sides  # noqa: E402
from bench.compare.policy import Policy  # noqa: E402
from bench.plan import make_plan  # noqa: E402
from bench.runner import run_plan  # noqa: E402

SUITE = """
name: aa
problems:
  linear: {steps: 150, lr: {sgd: 0.5, adam: 0.05}}
  lenet: {steps: 60, batch: 16, options: {train_size: 128, test_size: 64}}
optimizers: {sgd: {lr: 0.1}, adam: {lr: 0.002}}
seeds: [0, 1, 2, 3, 4]
budget: {eval_every: 30}
warmup: 1
telemetry: {sources: none}
slowdown: %s
"""


def run(workdir: str, name: str, slowdown: float) -> str:
    path = os.path.join(workdir, f"aa-{slowdown}.yaml")
    with open(path, "w") as handle:
        handle.write(SUITE % slowdown)
    plan = make_plan(suite_module.load_suite(path))
    with open(os.devnull, "w") as quiet:
        run_dir, _ = run_plan(plan, os.path.join(workdir, "results"), run_id=name, out=quiet)
    return run_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--slowdown", type=float, nargs="*", default=[0.0])
    parser.add_argument(
        "--confirm", type=int, default=0, metavar="ROUNDS", help="confirm regressions by re-running"
    )
    args = parser.parse_args()
    policy = Policy.default()
    with tempfile.TemporaryDirectory() as workdir:
        for slowdown in args.slowdown:
            overall, cells, started = Counter(), Counter(), time.perf_counter()
            step_cells = []  # (pair, ratio, p) of every judged step-time cell
            for pair in range(args.pairs):
                a = run(workdir, f"{slowdown}-{pair}-a", 0.0)
                b = run(workdir, f"{slowdown}-{pair}-b", slowdown)
                side_a, side_b = sides.from_runs([a]), sides.from_runs([b])
                result = gate.compare(side_a, side_b, policy)
                if args.confirm and result.verdict == gate.Verdict.REGRESSED:
                    overall["regressed before --confirm"] += 1
                    where = os.path.join(workdir, f"confirm-{slowdown}-{pair}")
                    plan = confirm.Plan(confirm.this_optbench(), confirm.this_optbench(), args.confirm, where)
                    with open(os.devnull, "w") as quiet:
                        result = confirm.confirm(result, side_a, side_b, policy, plan, out=quiet)
                overall[result.verdict.value] += 1
                for cell in result.cells:
                    cells[(cell.metric, cell.verdict.value)] += 1
                    if cell.metric == "step_time" and cell.ratio is not None:
                        step_cells.append((pair, cell.ratio, cell.p_worse))
            what = "A/A" if slowdown == 0 else f"A/B, candidate slowed {slowdown:.0%}"
            what += f", --confirm {args.confirm}" if args.confirm else ""
            print(f"{what}: {args.pairs} pairs in {time.perf_counter() - started:.0f} s; policy alpha {policy.alpha:g}, "
                  + ", ".join(str(c) for c in policy.checks))  # fmt: skip
            print("  pairs: " + ", ".join(f"{n} {v}" for v, n in sorted(overall.items())))
            regressed = overall.get("regressed", 0)
            print(f"  rate of 'regressed': {regressed}/{args.pairs} = {regressed / args.pairs:.1%}")
            for metric in sorted({m for m, _ in cells}):
                counts = {v: n for (m, v), n in cells.items() if m == metric}
                print(f"  {metric:<16} " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
            _step_time_thresholds(step_cells, args.pairs, policy.alpha)


def _step_time_thresholds(step_cells, pairs: int, alpha: float) -> None:
    """How the step-time verdicts would have gone at other minimum effects: the data for
    choosing the default (the A/A pairs' 'regressed' rate from step time alone)."""
    if not step_cells:
        return
    ratios = sorted(r for _, r, _ in step_cells)
    pick = lambda q: ratios[min(len(ratios) - 1, int(q * (len(ratios) - 1)))]  # noqa: E731
    print(f"  step-time ratios over {len(ratios)} judged cells: 1%/5%/50%/95%/99% "
          f"{pick(0.01):.3f} / {pick(0.05):.3f} / {pick(0.5):.3f} / {pick(0.95):.3f} / {pick(0.99):.3f}")  # fmt: skip
    for effect in (0.05, 0.10, 0.15, 0.20, 0.25):
        flagged = {pair for pair, ratio, p in step_cells if p <= alpha and ratio >= 1 + effect}
        print(f"  step_time:{effect:.0%} -> {len(flagged)}/{pairs} pairs 'regressed' on step time")


if __name__ == "__main__":
    main()
