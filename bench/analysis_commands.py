"""The analysis half's commands, `show` and `report`: imported only when one of them runs,
so the device half's commands never load pandas, seaborn or matplotlib."""

import sys
from typing import Optional

from bench import store
from bench.cli import EXIT_BAD_INPUT, EXIT_OK


def show_command(run_dir: str, every_configuration: bool) -> int:
    """The analysis half's first view: medians and IQRs over seeds, with pandas."""
    from bench.analysis import load, summary  # pandas itself is imported by load.load

    try:
        trials, _ = load.load(run_dir)
    except (ImportError, store.StoreError) as error:  # no pandas here; not a readable run
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    if trials.empty:
        sys.stderr.write(f"error: {run_dir}: no trials recorded yet\n")
        return EXIT_BAD_INPUT
    table = summary.per_configuration(trials) if every_configuration else summary.best_per_problem(trials)
    columns = ["problem", "optimizer", "lr", "activation", "batch"]
    columns += ["threads"] if table["threads"].nunique() > 1 else []
    columns += ["seeds", "final_loss_median", "final_loss_iqr", "final_metric_median", "time_to_target_median_s",
                "reached_share", "diverged_share", "unstable_share"]  # fmt: skip
    columns += [c for c in ("energy_train_median_j", "energy_to_target_median_j") if table[c].notna().any()]
    sys.stdout.write(table[columns].to_string(index=False, float_format=lambda v: format(v, ".4g")) + "\n")
    counts = trials["status"].value_counts()
    sys.stdout.write("trials: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + "\n")
    unstable = int((trials["stability"] == "unstable").sum())
    if unstable:
        sys.stdout.write(
            f"timing: {unstable} of {len(trials)} trials unstable (unstable_share): their step times spread "
            "widely or stalls dominate their sums; compare their times with care, or rerun on a quiet machine\n"
        )
    return EXIT_OK


def report_command(run_dir: str, out: Optional[str], baseline: Optional[str]) -> int:
    try:
        from bench.report.build import ReportError, build_report
    except ImportError as error:  # pandas, seaborn, matplotlib or jinja2 missing here
        from bench.analysis import MISSING_MESSAGE

        sys.stderr.write(f"error: {MISSING_MESSAGE} ({error})\n")
        return EXIT_BAD_INPUT
    try:
        out_dir = build_report(run_dir, out, baseline)
    except ReportError as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    sys.stdout.write(f"report: {out_dir}/index.html (and report.md, tables/, figures/)\n")
    return EXIT_OK
