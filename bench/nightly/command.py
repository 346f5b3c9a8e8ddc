"""`optbench nightly SUITE`: one night, from the run to the morning summary (docs/NIGHTLY.md).

Exit codes: 0 no regression (or the analysis left for another Python, as planned); 1 a
regression (against the baseline, or new in the history); 2 bad input (the message names
it); 3 not comparable, insufficient data, or could not measure (a required power mode that
the board is not in, or that cannot be read).
"""

import datetime
import os
import shlex
import socket
import sys
from typing import Any, Dict, List, Optional

from bench import estimate, store
from bench.nightly import baseline as baselines
from bench.nightly import night, power, retention, summary
from bench.nightly.window import Window

EXIT_OK, EXIT_REGRESSED, EXIT_BAD_INPUT, EXIT_NOT_COMPARABLE = 0, 1, 2, 3


def _error(message: str, code: int = EXIT_BAD_INPUT) -> int:
    sys.stderr.write(f"optbench nightly: error: {message}\n")
    return code


def _plan(suite_arg: str):
    from bench.commands import _load

    return _load(suite_arg)


def nightly_command(args) -> int:
    from bench.compare.policy import PolicyError, load_policy  # Python 3.6: the device half's too
    from bench.validation import SuiteError

    if args.install_timer or args.uninstall_timer:
        from bench.nightly.install import install_command, uninstall_command

        return install_command(args) if args.install_timer else uninstall_command(args)
    try:
        start = night.parse_now(args.now) if args.now else datetime.datetime.now()
        until = night.parse_until(args.until) if args.until else None
        budget = night.parse_budget(args.budget) if args.budget else None
        if args.run_id and not args.report_only:
            raise night.NightError("--run-id goes with --report-only; a night chooses its own run directory")
        if args.keep < 1:
            raise night.NightError(f"--keep {args.keep}: keep at least the newest run whole (1 or more)")
        base = baselines.read(args.baseline, args.baselines) if args.baseline else None
        if args.policy:  # read now, not after a whole night's run (the compare step reads it again)
            load_policy(args.policy)
    except (night.NightError, baselines.BaselineError, store.StoreError, PolicyError) as error:
        return _error(str(error))
    if args.report_only:
        return _report_only(args, base)
    try:
        plan = _plan(args.suite)
    except SuiteError as error:
        return _error("the suite cannot be used:\n  " + "\n  ".join(error.problems))
    if args.telemetry:
        import dataclasses

        try:
            telemetry = dataclasses.replace(plan.suite.telemetry, sources=tuple(args.telemetry.split(",")))
        except ValueError as error:
            return _error(f"--telemetry {args.telemetry}: {error}")
        plan = dataclasses.replace(plan, suite=dataclasses.replace(plan.suite, telemetry=telemetry))
    board = power.probe()
    if args.require_power_mode:
        refused = power.check_required(args.require_power_mode, board, base.power_modes if base else [])
        if refused:
            return _error(refused + "; the night did not run", EXIT_NOT_COMPARABLE)
    tonight = night.night_of(start, until or night.DEFAULT_BOUNDARY)
    run_dir = _run_night(args, plan, base, board, start, tonight, until, budget)
    if isinstance(run_dir, int):
        return run_dir
    return _analyse(args, run_dir, tonight, base)


def _window_end(start, tonight, until, budget) -> Optional[datetime.datetime]:
    ends = []
    if until is not None:
        ends.append(night.night_end(tonight, until))
    if budget is not None:
        ends.append(start + datetime.timedelta(seconds=budget))
    return min(ends) if ends else None


def _run_night(args, plan, base, board, start, tonight, until, budget):
    from bench.runner import RunError, run_plan, suite_hash

    suite_dir = os.path.join(args.results, plan.suite.name)
    choice = night.choose_run(suite_dir, tonight, suite_hash(plan), new=args.new)
    sys.stderr.write(choice.note + "\n")
    record = night.read_record(choice.run_dir) if os.path.isdir(choice.run_dir) else None
    last = night.last_night(record) or {}
    if last.get("night") == tonight:
        stored = last.get("window_end")  # a night's window is fixed when it first starts
        end = datetime.datetime.strptime(stored, night.TIME_FORMAT) if stored else None
    else:
        end = _window_end(start, tonight, until, budget)
    clock = night.NightClock(start, by_estimate=args.clock == "estimate")
    window = Window(
        estimate.from_previous_runs(suite_dir), base.configurations if base else frozenset(), clock, end
    )
    session = {"started_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "local_start": start.strftime(night.TIME_FORMAT), "clock": args.clock, "kind": choice.kind,
               "board": board.to_json()}  # fmt: skip
    if end is not None:
        sys.stderr.write(f"window: until {end.strftime(night.TIME_FORMAT)} (local)\n")

    def schedule(todo):
        # The run directory is open (and locked) now: record the session before any trial,
        # with the count of records before it, which is how each trial's night is known.
        opened = dict(session, trials_before=len(night.recorded_lines(choice.run_dir)))
        night.write_record(choice.run_dir, night.open_night(
            night.read_record(choice.run_dir), plan.suite.name, tonight,
            end.strftime(night.TIME_FORMAT) if end else None, opened))  # fmt: skip
        yield from window(todo)

    try:
        run_plan(plan, args.results, run_id=os.path.basename(choice.run_dir), schedule=schedule,
                 skip_missing_devices=args.skip_missing_devices)  # fmt: skip
    except (RunError, store.StoreError) as error:
        return _error(str(error))
    deferred = [{"trial_id": p.trial.trial_id, "label": p.trial.label(), "estimate_s": round(p.estimate_s, 3),
                 "for_baseline": p.for_baseline} for p in window.deferred]  # fmt: skip
    closed = night.read_record(choice.run_dir)
    nights = closed["nights"]
    nights[-1] = dict(nights[-1], closed=True, deferred=deferred,
                      closed_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))  # fmt: skip
    night.write_record(choice.run_dir, closed)
    if deferred:
        sys.stderr.write(f"window: {len(deferred)} trial(s) deferred to the next night\n")
    return choice.run_dir


def _report_only(args, base) -> int:
    name = _suite_name(args.suite)
    suite_dir = os.path.join(args.results, name)
    if args.run_id:
        run_dir = os.path.join(suite_dir, args.run_id)
        if night.read_record(run_dir) is None:
            return _error(f"--run-id {args.run_id}: {run_dir} is not a nightly run (no {night.NIGHT_FILE})")
    else:
        runs = night.nightly_runs(suite_dir)
        if not runs:
            return _error(f"--report-only: no nightly run of suite {name} under {suite_dir} (copy the board's results "
                          "directory here first, e.g. with rsync)")  # fmt: skip
        run_dir = runs[-1][0]
    last = night.last_night(night.read_record(run_dir)) or {}
    return _analyse(args, run_dir, str(last.get("night")), base)


def _suite_name(argument: str) -> str:
    from bench.suite import load_suite, suite_by_name
    from bench.validation import SuiteError

    try:
        return load_suite(suite_by_name(argument)).name
    except SuiteError:
        return os.path.splitext(os.path.basename(argument))[0]  # the workstation may not have the file


def later_command(args, run_dir: str) -> str:
    """The command that runs the analysis steps elsewhere, after copying the results."""
    results = os.path.abspath(args.results)
    parts = ["optbench", "nightly", _suite_name(args.suite), "--report-only", "--results", "results",
             "--run-id", os.path.basename(run_dir)]  # fmt: skip
    if args.baseline:
        parts += ["--baseline", args.baseline, "--baselines", args.baselines]
    if args.policy:
        parts += ["--policy", args.policy]
    board = socket.gethostname()  # the machine the night ran on, which holds the results
    return "rsync -a {}:{}/ results/\n{}".format(
        board, shlex.quote(results), " ".join(shlex.quote(p) for p in parts)
    )


def _analyse(args, run_dir: str, tonight: str, base) -> int:
    collected = summary.collect(run_dir, tonight)
    steps = _analysis_steps(args, run_dir, collected)
    protect = [run_dir] + ([base.path] if base else [])
    steps["retention"] = retention.prune(os.path.dirname(run_dir), args.keep, protect)
    if steps.get("left_for_analysis"):
        steps["left_for_analysis"]["command"] = later_command(args, run_dir)
    final = summary.finish(collected, steps.pop("verdict"), **steps)
    paths = summary.write(run_dir, final)
    sys.stdout.write(summary.markdown(final))
    sys.stdout.write(f"summary: {paths[1]} (and {os.path.basename(paths[0])})\n")
    return int(final["exit_code"])


def known_changes(run_dir: str) -> List[str]:
    """History changes an earlier nightly summary of this suite already listed."""
    keys = []  # type: List[str]
    for other, _manifest, _record in night.nightly_runs(os.path.dirname(run_dir)):
        if os.path.realpath(other) == os.path.realpath(run_dir):
            continue
        earlier = summary.read(other) or {}
        keys.extend(((earlier.get("history") or {}).get("keys")) or [])
    return keys


def measured(collected: Dict[str, Any]) -> int:
    """Trials of the run that trained: every record but the skipped ones (a device absent), which
    measured nothing."""
    trials = collected["trials"]
    return int(trials["recorded"]) - int(trials["by_status"].get("skipped", 0))


def combine(compare: Optional[Dict[str, Any]], history: Optional[Dict[str, Any]], trained: int) -> str:
    """One verdict for the night from its compare and history steps."""
    if (compare and compare["verdict"] == "regressed") or (history and history["verdict"] == "regressed"):
        return "regressed"
    if compare and compare["verdict"] in ("not comparable", "insufficient data"):
        return compare["verdict"]
    if trained == 0:
        return "could not measure"
    return "no regression"


def _analysis_steps(args, run_dir: str, collected: Dict[str, Any]) -> Dict[str, Any]:
    """Report, compare and history where this Python has the analysis half; else which steps
    were left, and why. A step that fails is named in the summary; the others still run."""
    from bench.nightly.analysis_gate import missing  # standard library: safe on Python 3.6

    why = missing()
    if why:
        sys.stderr.write(f"optbench nightly: the run is done; the report, compare and history are left for "
                         f"another Python: {why}\n")  # fmt: skip
        steps = ["report"] + (["compare"] if args.baseline else []) + ["history"]
        # A run in which nothing trained is known here already: never a pass, on either Python.
        verdict = "could not measure" if measured(collected) == 0 else "analysis left for another Python"
        return {"verdict": verdict, "left_for_analysis": {"why": why, "steps": steps}}
    from bench.nightly import analysis

    out = {"errors": []}  # type: Dict[str, Any]
    suite_dir = os.path.dirname(run_dir)
    try:
        out["report"] = os.path.abspath(os.path.join(analysis.report(run_dir, args.reports), "index.html"))
    except Exception as error:  # noqa: BLE001 -- a report that fails must not hide the verdict
        out["errors"].append(f"report: {type(error).__name__}: {error}")
    if args.baseline:
        try:
            out["compare"] = analysis.compare(args.baseline, args.baselines, run_dir, args.policy)
        except Exception as error:  # noqa: BLE001 -- e.g. a policy file that cannot be read
            out["errors"].append(f"compare: {type(error).__name__}: {error}")
            out["compare"] = None
    try:
        out["history"] = analysis.history(suite_dir, str(collected["suite"]), known_changes(run_dir))
    except Exception as error:  # noqa: BLE001
        out["errors"].append(f"history: {type(error).__name__}: {error}")
    verdict = combine(out.get("compare"), out.get("history"), measured(collected))
    if args.baseline and out.get("compare") is None and verdict == "no regression":
        verdict = "could not measure"  # asked to compare, and could not: never a pass
    out["verdict"] = verdict
    return out
