"""What each CLI command does, separate from argument parsing (bench.cli)."""

import dataclasses
import os
import sys
from typing import Dict, Optional

from bench import activations, estimate, learners, optimizers, store
from bench.executors.choice import with_overrides
from bench.plan import MAX_TRIALS, PlanTooLarge, make_plan
from bench.problems import PROBLEMS
from bench.suite import SHIPPED_SUITES, load_suite, suite_by_name, suite_names
from bench.validation import SuiteError

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _load(name: str, yes: bool = False, results: Optional[str] = None):
    path = suite_by_name(name)
    suite = load_suite(path)
    try:
        return make_plan(suite, limit=None if yes else MAX_TRIALS)
    except PlanTooLarge as error:  # the count, and with it the time it would take, at once
        if results is not None:
            error.problems[-1] += "; " + _estimate_too_large(error.by_problem, results, suite.name)
        raise


def _estimate_too_large(by_problem: Dict[str, int], results: str, suite_name: str) -> str:
    """A plan too large to expand, estimated per problem from this suite's earlier trials."""
    estimator = estimate.from_previous_runs(os.path.join(results, suite_name))
    seconds, unknown = 0.0, 0
    for problem, count in by_problem.items():
        median = estimator.of_problem(problem)
        if median is None:
            unknown += count
        else:
            seconds += median * count
    if unknown == sum(by_problem.values()):
        return f"no earlier run of this suite under {results} to estimate its time from"
    tail = f" (+ {unknown:,} trials of problems not run before)" if unknown else ""
    return f"estimate: {estimate.format_duration(seconds)} at the median of this suite's earlier trials of each problem{tail}"


def _report_suite_error(error: SuiteError) -> int:
    count = len(error.problems)
    sys.stderr.write("error: {} mistake{} in the suite:\n".format(count, "" if count == 1 else "s"))
    for problem in error.problems:
        sys.stderr.write("  " + problem + "\n")
    return EXIT_BAD_INPUT


def list_command() -> int:
    out = sys.stdout
    out.write("problems:\n")
    for problem in PROBLEMS.values():
        out.write(f"  {problem.name:<13} {problem.summary}\n")
    out.write("optimizers:\n")
    for spec in optimizers.OPTIMIZERS.values():
        hyper = ", ".join(f"{k}={v}" for k, v in spec.hyper.items())
        out.write(f"  {spec.name:<13} {spec.summary} ({hyper})\n")
    out.write("activations (this torch):\n")
    for name in activations.available():
        out.write(f"  {name:<13} {activations.SUMMARIES[name]}\n")
    out.write("implementations:\n")
    for name, summary in learners.IMPLEMENTATIONS.items():
        out.write(f"  {name:<13} {summary}\n")
    out.write("suites shipped with optbench (`optbench run NAME`; a ./suites/NAME.yaml comes first):\n")
    for name in suite_names(SHIPPED_SUITES):
        try:
            about = " ".join(load_suite(os.path.join(SHIPPED_SUITES, name + ".yaml")).description.split())
        except SuiteError as error:
            about = "cannot be used: " + error.problems[0]
        out.write(f"  {name:<13} {about}\n")
    return EXIT_OK


def plan_command(suite_name: str, results: str, list_trials: bool, yes: bool = False) -> int:
    try:
        plan = _load(suite_name, yes, results)
    except SuiteError as error:
        return _report_suite_error(error)
    out = sys.stdout
    suite = plan.suite
    out.write(f"suite {suite.name} ({suite.path}): {len(plan.trials)} trials\n")
    if suite.description:
        out.write(f"  {suite.description.strip()}\n")
    per_problem = {}  # type: Dict[str, List[Any]]
    for trial in plan.trials:
        per_problem.setdefault(trial.problem, []).append(trial)
    rows = [
        (
            "problem",
            "trials",
            "optimizers (lrs)",
            "activation",
            "batch",
            "dropout",
            "bn",
            "impl",
            "device",
            "threads",
            "budget",
        )
    ]
    for name, trials in per_problem.items():
        lrs = {}  # type: Dict[str, set]
        for t in trials:
            lrs.setdefault(t.optimizer, set()).add(t.lr)
        first = trials[0]
        budget = f"{first.steps} steps" if first.steps else f"{first.epochs:g} epochs"
        rows.append((
            name, str(len(trials)),
            " ".join(f"{o}({len(v)})" for o, v in lrs.items()),
            _values(trials, "activation"), _values(trials, "batch"), _values(trials, "dropout"),
            _values(trials, "batch_norm"), _values(trials, "implementation"), _values(trials, "device"),
            _values(trials, "threads"), f"{budget}, {first.time_limit_s:g}s max",
        ))  # fmt: skip
    out.write(_table(rows) + "\n")
    for name, trials in per_problem.items():  # implementation tensorflow's own settings
        tensorflow = [t for t in trials if t.implementation == "tensorflow"]
        if tensorflow:
            out.write("{} tensorflow: tf_updates {}; tf_function {}\n".format(
                name, _values(tensorflow, "tf_updates"), _values(tensorflow, "tf_function")))  # fmt: skip
    out.write("seeds: {}\n".format(", ".join(str(s) for s in suite.seeds)))
    for note in plan.notes:
        out.write(f"note: {note}\n")
    estimator = estimate.from_previous_runs(os.path.join(results, suite.name))
    seconds, unknown = estimator.total(plan.trials)
    if unknown == len(plan.trials):
        out.write(f"estimate: none yet (no earlier run of this suite under {results})\n")
    else:
        tail = f" (+ {unknown} trials with no comparable earlier trial)" if unknown else ""
        out.write(f"estimate: {estimate.format_duration(seconds)}{tail}\n")
    if list_trials:
        for trial in plan.trials:
            out.write(f"  {trial.trial_id}  {trial.label()}\n")
    return EXIT_OK


def _values(trials, attribute: str) -> str:
    seen = []  # type: List[Any]
    for t in trials:
        value = getattr(t, attribute)
        if value not in seen:
            seen.append(value)
    return ",".join(str(v) for v in seen)


def _table(rows) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_command(args) -> int:
    from bench import summary
    from bench.runner import RunError, run_plan

    try:
        plan = _load(args.suite, args.yes, args.results)
    except SuiteError as error:
        return _report_suite_error(error)
    if args.telemetry:
        try:
            telemetry = dataclasses.replace(plan.suite.telemetry, sources=tuple(args.telemetry.split(",")))
        except ValueError as error:
            sys.stderr.write(f"error: --telemetry {args.telemetry}: {error}\n")
            return EXIT_BAD_INPUT
        plan = dataclasses.replace(plan, suite=dataclasses.replace(plan.suite, telemetry=telemetry))
    try:
        executor = with_overrides(
            plan.suite.executor, args.executor, args.jobs, args.scheduler, args.allow_mismatch
        )
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    plan = dataclasses.replace(plan, suite=dataclasses.replace(plan.suite, executor=executor))
    if args.new and (args.resume or args.run_id):
        sys.stderr.write("error: --new starts a fresh run; it cannot be combined with --resume or --run-id\n")
        return EXIT_BAD_INPUT
    try:
        run_dir, records = run_plan(
            plan, args.results, run_id=args.run_id, new=args.new,
            skip_missing_devices=args.skip_missing_devices, resume=args.resume,
        )  # fmt: skip
    except (RunError, store.StoreError) as error:
        sys.stderr.write(f"error: {error}\n")
        return EXIT_BAD_INPUT
    except OSError as error:  # the disk filled, or the directory turned read-only, mid-run
        where = error.filename or "the results"
        sys.stderr.write(f"\nerror: cannot write {where}: {error.strerror}; every trial recorded before it is kept: "
                         "make room (or fix the permission) and run again to resume\n")  # fmt: skip
        return EXIT_BAD_INPUT
    sys.stdout.write(summary.render(records) + "\n")
    sys.stdout.write(f"results: {run_dir}\n")
    return EXIT_OK
