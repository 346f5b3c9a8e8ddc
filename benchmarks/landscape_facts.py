"""What a landscapes run shows, per function and optimizer: the figures the README's
"Optimizer landscapes" section quotes, read from a run's records.

    optbench run landscapes --run-id facts
    python benchmarks/landscape_facts.py results/landscapes/facts

For every function of the run (a landscape problem with its options: Rosenbrock without
noise, the bowl at condition 100 with noise, ...), two tables: each optimizer at its best
learning rate (bench.ranking's rule over the seeds, as the report chooses it), and every
optimizer at the one learning rate common to all (the report's right-hand panel). Columns:
how many seeds reached the target, the median steps to it over those that did ("never"
where none did), the median final suboptimality f - f* over all seeds (on the saddle, f
itself: its target is f below -1; a diverged seed's is f where the trial stopped), and how
many seeds diverged.

Nothing here asserts anything: these are measurements of one run, for the README, where
the tests assert only what follows from the mathematics (tests/test_landscapes.py).
Needs the analysis half (optbench[report]).
"""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench.report import landscapes, palette  # noqa: E402
from bench.report.data import load_report_data  # noqa: E402


def _row(optimizer, trials):
    reached = trials[trials["steps_to_target"].notna()]
    steps = "never" if reached.empty else "{:.0f}".format(reached["steps_to_target"].median())
    final = trials["final_metric"].median()
    return "  {:<9} lr {:<7g} reached {} of {}  steps to target {:>6}  final {:>10.3g}  diverged {}".format(
        optimizer, trials["lr"].iloc[0], len(reached), len(trials), steps, final,
        int((trials["status"] == "diverged").sum()),
    )  # fmt: skip


def facts(run_dir: str) -> str:
    data = load_report_data(run_dir)
    lines = [f"run: {data.label} ({len(data.trials)} trials)"]
    for function in landscapes.functions(data):
        lines.append("")
        lines.append(function.title)
        lines.append(" at its best learning rate:")
        best = landscapes.best_lrs(function)
        for optimizer in palette.ordered(list(best)):
            lines.append(_row(optimizer, best[optimizer]))
        common = landscapes.common_lr(function)
        lines.append(f" all at lr {common:g}:")
        at_common = function.trials[function.trials["lr"] == common]
        for optimizer in palette.ordered(at_common["optimizer"]):
            lines.append(_row(optimizer, at_common[at_common["optimizer"] == optimizer]))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", help="a landscapes run: results/landscapes/<run-id>")
    print(facts(parser.parse_args().run_dir))


if __name__ == "__main__":
    main()
