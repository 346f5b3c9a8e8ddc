"""The drift canary's A/A spread, measured: one suite run many times in a row on this machine.

    python benchmarks/bench_canary_aa.py --runs 20

Each run is `python -m bench run` in its own process, as a nightly job makes it, of the
gate's A/A suite (benchmarks/bench_gate_aa.py: linear and LeNet, two optimizers, 5 seeds, a
second of warm-up). Then, for every pair of consecutive runs (the same code: any change is
the machine's):
* the canary's own spread: each run's end against its start (bench.compare.drift.speed);
* the canary ratio between the two runs (bench.compare.drift.between) and its verdict;
* each matched cell's step-time ratio, as measured and divided by the canary ratio, with the
  correlation of the two logarithms (does the canary see what moved the trials?);
* the gate's step-time verdicts at the default policy, without and with normalisation.
A benchmark prints numbers; nothing asserts a time.
"""

import argparse
import glob
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import bench_gate_aa  # noqa: E402 -- beside this file

from bench.compare import drift, gate, sides  # noqa: E402
from bench.compare.policy import Policy  # noqa: E402

# The gate's A/A suite, unslowed: the canary's spread is measured beside the same workload.
SUITE = bench_gate_aa.SUITE.replace("name: aa\n", "name: canary-aa\n") % 0.0


def quantiles(values, qs=(0.5, 0.9, 0.95, 1.0)) -> str:
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(round(q * (len(values) - 1))))]  # noqa: E731
    return " / ".join(f"{pick(q):.3f}" for q in qs)


def correlation(xs, ys) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", help="keep the results here instead of a temporary directory")
    args = parser.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix="canary-aa-")
    suite = os.path.join(workdir, "canary-aa.yaml")
    with open(suite, "w") as handle:
        handle.write(SUITE)
    env = dict(os.environ, PYTHONPATH=ROOT)
    started = time.perf_counter()
    for run in range(args.runs):
        subprocess.run([sys.executable, "-m", "bench", "run", suite, "--results", os.path.join(workdir, "results"),
                        "--run-id", f"run-{run:02d}"], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)  # fmt: skip
    elapsed = time.perf_counter() - started
    run_dirs = sorted(glob.glob(os.path.join(workdir, "results", "canary-aa", "run-*")))
    side = [sides.from_runs([d]) for d in run_dirs]
    manifests = []
    for run_dir in run_dirs:
        with open(os.path.join(run_dir, "manifest.json")) as handle:
            manifests.append(json.load(handle))
    costs = [e["cost_s"] for m in manifests for e in m["canary"]]
    print(f"{len(run_dirs)} runs in {elapsed:.0f} s; canary cost per measurement (s), median / p90 / max: "
          f"{statistics.median(costs):.3f} / {quantiles(costs, (0.9,))} / {max(costs):.3f}")  # fmt: skip

    within = []
    for m in manifests:
        by = {e["when"]: drift.speed(e) for e in m["canary"]}
        within.append(abs(by["end"] / by["start"] - 1))
    print(f"canary within a run, |end / start - 1|, median / p90 / p95 / max: {quantiles(within)}")

    policy = Policy.default()
    moved, between, parts, logs, raw_cells, norm_cells = 0, [], {}, {}, [], []
    regressed_raw = regressed_norm = 0
    for a, b in zip(side, side[1:]):
        found = drift.between(a.machines, b.machines)
        moved += found.verdict is drift.Verdict.MOVED
        between.append(abs(found.ratio - 1))
        for name, ratio in found.parts:
            parts.setdefault(name, []).append(abs(ratio - 1))
        plain = gate.compare(a, b, policy)
        scaled = gate.compare(a, b, policy, normalise_by_canary=True)
        regressed_raw += any(
            c.metric == "step_time" and c.verdict is gate.Verdict.REGRESSED for c in plain.cells
        )
        regressed_norm += any(
            c.metric == "step_time" and c.verdict is gate.Verdict.REGRESSED for c in scaled.cells
        )
        for cell in plain.cells:
            if cell.metric == "step_time" and cell.ratio:
                raw_cells.append(cell.ratio)
                norm_cells.append(cell.ratio / found.ratio)
                logs.setdefault(cell.problem, []).append((math.log(found.ratio), math.log(cell.ratio),
                                                          dict(found.parts)))  # fmt: skip
    pairs = len(side) - 1
    print(f"canary between consecutive runs, |ratio - 1|, median / p90 / p95 / max: {quantiles(between)}; "
          f"'the machine moved' in {moved} of {pairs} pairs")  # fmt: skip
    for name, values in sorted(parts.items()):
        print(f"  part {name}: {quantiles(values)}")
    print(f"step-time ratio of matched cells, 5% / 50% / 95% quantiles: as measured {quantiles(raw_cells, (0.05, 0.5, 0.95))}, "
          f"divided by the canary {quantiles(norm_cells, (0.05, 0.5, 0.95))}")  # fmt: skip
    spread = lambda rs: statistics.pstdev(math.log(r) for r in rs)  # noqa: E731
    print(
        f"  standard deviation of log ratio: as measured {spread(raw_cells):.3f}, divided {spread(norm_cells):.3f}"
    )
    for problem, rows in sorted(logs.items()):
        canary_log = [c for c, _, _ in rows]
        step_log = [s for _, s, _ in rows]
        per_part = ", ".join(f"{p} {correlation([math.log(r[2][p]) for r in rows], step_log):.2f}"
                             for p in sorted(rows[0][2]))  # fmt: skip
        print(f"  {problem}: correlation of log step-time ratio with log canary ratio {correlation(canary_log, step_log):.2f} "
              f"(by part: {per_part}) over {len(rows)} cells")  # fmt: skip
    print(f"pairs with a step-time cell 'regressed' at the default policy: {regressed_raw} of {pairs} as measured, "
          f"{regressed_norm} of {pairs} normalised by the canary")  # fmt: skip
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
