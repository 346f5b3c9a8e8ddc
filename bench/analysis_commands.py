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


def _side(argument: str, baselines: str):
    from bench.compare import sides

    return sides.resolve([part for part in argument.split(",") if part], baselines)


def compare_command(args) -> int:
    try:
        from bench.compare import drift, gate, output, policy, sides
    except ImportError as error:
        from bench.analysis import MISSING_MESSAGE

        sys.stderr.write(f"error: {MISSING_MESSAGE} ({error})\n")
        return EXIT_BAD_INPUT
    try:
        baseline = _side(args.baseline, args.baselines)
        candidate = _side(args.candidate, args.baselines)
        # The suite's own policy: the candidate's (the suite as it is now), else the baseline's.
        suite = candidate if candidate.regressions is not None else baseline
        rules = policy.load_policy(args.policy, args.check, args.alpha, args.allow_different, args.ignore,
                                   suite_block=suite.regressions, suite_where=suite.regressions_from)  # fmt: skip
    except (policy.PolicyError, sides.SideError, store.StoreError) as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    if baseline.kind != candidate.kind:
        sys.stderr.write(f"error: the baseline is {baseline.kind} ({baseline.label}) and the candidate "
                         f"{candidate.kind} ({candidate.label}): compare runs with runs, pytest-benchmark "
                         "files with pytest-benchmark files\n")  # fmt: skip
        return EXIT_BAD_INPUT
    try:
        comparison = gate.compare(baseline, candidate, rules, args.normalise_by_canary)
    except drift.DriftError as error:  # normalising asked for, and a side has no canary
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    if args.confirm and comparison.verdict == gate.Verdict.REGRESSED:
        comparison = _confirmed(comparison, baseline, candidate, rules, args)
    shown = {"text": output.text, "markdown": output.markdown}.get(args.format)
    sys.stdout.write((shown(comparison, args.all) if shown else output.as_json(comparison)) + "\n")
    if args.github_json:
        with open(args.github_json, "w", encoding="utf-8") as handle:
            handle.write(output.github_benchmark(comparison) + "\n")
    return comparison.exit_code


def _confirmed(comparison, baseline, candidate, rules, args):
    """The comparison after --confirm's re-run; where the re-run cannot be made, the first
    verdict stands and the output says why."""
    from dataclasses import replace

    from bench.compare import confirm

    worktree = None
    try:
        plan, worktree = confirm.make_plan(baseline, candidate, args.confirm, args.confirm_dir,
                                           args.baseline_checkout, args.baseline_python)  # fmt: skip
        return confirm.confirm(comparison, baseline, candidate, rules, plan)
    except confirm.ConfirmError as error:
        return replace(
            comparison, notes=comparison.notes + (f"confirm: not done, the first verdict stands: {error}",)
        )
    finally:
        if worktree is not None:
            worktree.remove()


def baseline_command(args) -> int:
    from bench.compare import sides

    if args.baseline_command == "list":
        found = sides.list_baselines(args.baselines)
        if not found:
            sys.stdout.write(f"no saved baselines in {args.baselines}/\n")
        for entry in found:
            detail = entry.get("problem") or "{} trials from {}".format(entry["trials"], entry["runs"])
            sys.stdout.write(f"{entry['name']:<20} {detail}\n")
        return EXIT_OK
    if args.baseline_command != "save":
        sys.stderr.write("error: optbench baseline save RUN_DIR --name NAME, or optbench baseline list\n")
        return EXIT_BAD_INPUT
    if not args.name or "/" in args.name or args.name.startswith("."):
        sys.stderr.write(f"error: --name {args.name!r}: a plain name, without '/'\n")
        return EXIT_BAD_INPUT
    try:
        side = sides.from_runs(args.runs)
    except (sides.SideError, store.StoreError) as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    path = sides.baseline_path(args.name, args.baselines)
    sides.save_baseline(side, path, args.name)
    sys.stdout.write(f"baseline {args.name}: {len(side.trials)} trials from {side.label} in {path}\n")
    return EXIT_OK
