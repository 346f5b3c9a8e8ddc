"""Running a plan: every trial through the trainer, with telemetry, into the results store."""

import datetime
import hashlib
import json
import os
import sys
import time
import warnings
from typing import Callable, Dict, Iterable, List, Optional, TextIO, Tuple

import torch

from bench import canary, estimate, executors, store, trial_records
from bench.environment import fingerprint
from bench.executors import in_process
from bench.executors.pooled import ExecutorError, run_pooled
from bench.plan import Plan, TrialSpec
from bench.problems import PROBLEMS
from bench.progress import Progress
from bench.record import SCHEMA_VERSION, TrialRecord


class RunError(Exception):
    """The run cannot start (a missing device or data set, a locked run directory)."""


def missing_devices(plan: Plan) -> Dict[str, str]:
    """Devices the plan asks for that this machine lacks, with the reason."""
    missing = {}
    for device in sorted({t.device for t in plan.trials}):
        if device.startswith("cuda"):
            if not torch.cuda.is_available():
                missing[device] = f"this torch has no usable CUDA device (torch {torch.__version__}, cuda {torch.version.cuda})"  # fmt: skip
            elif ":" in device and int(device.split(":")[1]) >= torch.cuda.device_count():
                missing[device] = f"only {torch.cuda.device_count()} CUDA device(s)"
    return missing


def suite_hash(plan: Plan) -> str:
    ids = sorted(t.trial_id for t in plan.trials)
    return hashlib.sha256(json.dumps(ids).encode("utf-8")).hexdigest()[:16]


def choose_run_dir(
    plan: Plan, results: str, run_id: Optional[str], new: bool, resume: bool = False
) -> Tuple[str, bool]:
    """The run directory, and whether it resumes an earlier run of this suite.

    By default the latest run of the suite is resumed when it is unfinished and was made by
    the same resolved suite; ``resume`` insists on resuming it; ``new`` never resumes."""
    suite_dir = os.path.join(results, plan.suite.name)
    if run_id is not None:
        # The run's own directory: a '/' made nested ones, and '..' one outside the suite's.
        if not run_id or run_id in (".", "..") or "/" in run_id or os.sep in run_id:
            raise RunError(f"--run-id {run_id!r}: expected a plain name (not empty, no '/', not '.' or '..'): "
                           f"the run's directory in {suite_dir}")  # fmt: skip
        path = os.path.join(suite_dir, run_id)
        return path, os.path.exists(os.path.join(path, store.MANIFEST))
    if not new:
        latest = store.latest_run(suite_dir)
        if latest:
            try:
                manifest = store.read_manifest(latest)
            except store.StoreError:
                manifest = {}
            if manifest.get("suite_hash") == suite_hash(plan) and (resume or not manifest.get("finished_at")):
                return latest, True
        if resume:
            raise RunError(f"--resume: no earlier run of suite {plan.suite.name} under {suite_dir} was made by "
                           "this suite as it is now; run without --resume to start one")  # fmt: skip
    for run_dir, why in store.unreadable_runs(suite_dir).items():
        # Never resumed into, never silently passed over: its trials stay where they are.
        warnings.warn(f"{run_dir} is not resumed: {why}; starting a new run beside it", stacklevel=2)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    path, n = os.path.join(suite_dir, stamp), 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(suite_dir, f"{stamp}-{n}")
    return path, False


def preflight_data(plan: Plan) -> None:
    """Load each problem's data once before any trial, so a missing data set stops the run
    with its own message instead of failing every trial of that problem."""
    seen = set()
    for trial in plan.trials:
        key = (trial.problem, trial.options)
        if key in seen:
            continue
        seen.add(key)
        try:
            PROBLEMS[trial.problem].make_data(trial.seed, dict(trial.options))
        except (OSError, ValueError) as error:
            raise RunError(f"{plan.suite.path}: problems.{trial.problem}.options: {error}") from None


def _open_telemetry(plan: Plan, run_dir: str):
    if plan.suite.telemetry.off:
        return None
    from bench.telemetry import open_recorder

    samples = os.path.join(run_dir, "telemetry.csv")
    return open_recorder(plan.suite.telemetry, clock=time.perf_counter, samples_path=samples)


def run_plan(
    plan: Plan,
    results: str,
    run_id: Optional[str] = None,
    new: bool = False,
    skip_missing_devices: bool = False,
    out: TextIO = sys.stderr,
    resume: bool = False,
    schedule: Optional[Callable[[List[TrialSpec]], Iterable[TrialSpec]]] = None,
) -> Tuple[str, List[TrialRecord]]:
    """Run the plan's unrecorded trials. ``schedule`` (optional) is given them, in plan order,
    once the run directory is open, and returns the ones to run, in the order to run them; it
    is iterated lazily, so it can decide at each trial whether to start one more (a nightly
    time window, bench.nightly). The run is finished only when every trial is recorded."""
    choice = plan.suite.executor
    pool = None
    if not choice.in_process:
        try:  # before any data is loaded here: see bench.executors.processes
            pool = executors.open_pool(choice, fingerprint(), out, missing_devices)
        except ExecutorError as error:
            raise RunError(str(error)) from None
    try:
        return _run_plan(plan, results, run_id, new, skip_missing_devices, out, resume, schedule, pool)
    finally:
        if pool is not None:
            pool.close([])


def _run_plan(plan, results, run_id, new, skip_missing_devices, out, resume, schedule, pool):
    missing = missing_devices(plan) if pool is None else pool.missing_devices(plan)
    if missing and not (skip_missing_devices or plan.suite.on_missing_device == "skip"):
        lines = [f"{d}: {why}" for d, why in missing.items()]
        raise RunError("the suite asks for devices this machine lacks:\n  " + "\n  ".join(lines) +
                       "\n(pass --skip-missing-devices, or set on_missing_device: skip in the suite, "
                       "to record those trials as skipped)")  # fmt: skip
    if not pool or not pool.remote:  # a worker's data is the worker's: its trials say if it is missing
        preflight_data(plan)
    run_dir, resumed = choose_run_dir(plan, results, run_id, new, resume)
    manifest = {
        "schema": SCHEMA_VERSION,
        "suite": plan.suite.name,
        "suite_path": plan.suite.path,
        "suite_document": plan.suite.document,
        "suite_hash": suite_hash(plan),
        "plan_notes": list(plan.notes),
        "trials_planned": len(plan.trials),
        "run_id": os.path.basename(run_dir),
        "environment": fingerprint(),
        "slowdown": plan.suite.slowdown,  # a testing aid: nonzero only in runs made to test a gate
        "canary": [],  # the drift canary's measurements, start and end of each session (_measure_canary)
        "started_at": trial_records.now(),
        "finished_at": None,
    }
    try:
        writer = store.RunWriter(run_dir, manifest)
    except store.StoreError as error:
        raise RunError(str(error)) from None
    except OSError as error:  # a read-only results directory, a full disk, no permission
        raise RunError(f"cannot write the run directory {run_dir}: {error.strerror}") from None
    try:
        if pool is not None:
            return run_dir, _run_pooled_trials(plan, writer, pool, missing, resumed, out, schedule)
        recorder = _open_telemetry(plan, run_dir)
        return run_dir, _run_trials(plan, writer, recorder, missing, resumed, out, schedule)
    finally:
        writer.close()


def _announce(plan, writer, resumed, out) -> List:
    """The trials still to run; says where the run is written (or resumed) and the plan's notes."""
    todo = [t for t in plan.trials if t.trial_id not in writer.done]
    if resumed:
        out.write(f"resuming {writer.run_dir}: {len(plan.trials) - len(todo)} of {len(plan.trials)} trials already recorded\n")  # fmt: skip
    else:
        out.write(f"writing {writer.run_dir}\n")
    for note in plan.notes:
        out.write(f"note: {note}\n")
    return todo


def _run_pooled_trials(plan, writer, pool, missing, resumed, out, schedule) -> List[TrialRecord]:
    """The trials on a pool of workers (bench.executors.pooled); this process alone writes them.

    No drift canary and no telemetry here: the canary vouches for the one machine that timed
    the trials, and each worker measures its own machine's telemetry per trial."""
    run_dir = writer.run_dir
    todo = _announce(plan, writer, resumed, out)
    choice = plan.suite.executor
    out.write(f"executor: {choice.describe()}\n")
    if pool.contended:
        out.write(f"warning: {choice.jobs} trials at a time share this machine: their times and energies are "
                  "contended (each record says timing_shared: contended, and compare and the report leave "
                  "them out of time and energy verdicts); use the default, one at a time, to time\n")  # fmt: skip
    if plan.suite.vectorise:
        out.write(
            "note: vectorise is for the local executor; on the pool's workers each trial runs on its own\n"
        )
    writer.write_manifest(executor=dict(choice.to_json(), **pool.manifest_info()))
    finished = False
    try:
        finished = run_pooled(plan, writer, pool, todo, missing, out, schedule) == len(todo)
    except ExecutorError as error:  # every worker that could go on has left: what is recorded stays
        raise RunError(f"{error} (every finished trial is recorded in {run_dir})") from None
    finally:
        writer.write_manifest(finished_at=trial_records.now() if finished else None)
    return store.read_trials(run_dir)


def _run_trials(plan, writer, recorder, missing, resumed, out, schedule=None) -> List[TrialRecord]:
    run_dir = writer.run_dir
    todo = _announce(plan, writer, resumed, out)
    if recorder is not None:
        recorder.start()
        writer.write_manifest(
            telemetry=recorder.manifest_info(), idle_baseline=recorder.measure_idle_baseline()
        )
    data = in_process.DataCache()
    runnable = [t for t in todo if t.device not in missing]
    if plan.suite.warmup_s and runnable:
        out.write(f"warming up for {plan.suite.warmup_s:g} s (untimed, unrecorded)\n")
        in_process.warm_up(runnable[0], plan.suite.warmup_s, data)
    canary_on = plan.suite.canary and bool(runnable)  # nothing to run: no machine to vouch for
    if canary_on:
        _measure_canary(plan, writer, "start")
    progress = Progress(plan, todo, out, estimate.from_previous_runs(os.path.dirname(run_dir)))
    warmed = set()
    try:
        scheduled = todo if schedule is None else schedule(list(todo))
        if plan.suite.vectorise:  # many trials as one computation; those it leaves run below
            from bench.vectorised.runs import run_vectorised

            scheduled = run_vectorised(plan, writer, recorder, data, scheduled, missing, progress)
        for trial in scheduled:
            progress.begin(trial)
            if trial.device in missing:
                record, curve = trial_records.skipped(_where(plan, writer), trial, missing[trial.device]), []
                trajectory = []
            else:
                in_process.burn_in(trial, data, warmed)
                record, curve, trajectory = in_process.one_trial(
                    _where(plan, writer), plan.suite.slowdown, recorder, data, trial
                )
            writer.append(record, curve, trajectory)
            progress.end(trial, record)
        # Only after the last trial: an interrupted session gets no end measurement (see
        # _measure_canary), and its resumption measures its own start.
        if canary_on:
            _measure_canary(plan, writer, "end")
    finally:
        warnings = recorder.run_warnings() if recorder is not None else []
        if recorder is not None:
            recorder.close()
        writer.write_manifest(
            finished_at=trial_records.now() if progress.done == len(todo) else None, warnings=warnings
        )
        for warning in warnings:
            out.write(f"warning: {warning}\n")
    return store.read_trials(run_dir)


def _measure_canary(plan: Plan, writer, when: str) -> None:
    """Time the drift canary (bench/canary.py) and append it to the manifest's ``canary``
    list, which a resumed run keeps: each session adds its own start and end.

    Not measured when a run is interrupted: Ctrl-C must exit at once, and the canary's fixed
    work, 0.27 s here, takes longer on a slower core (about 3 s estimated for a Jetson Nano's
    Cortex-A57: a tenth of this VM's matrix throughput); a second Ctrl-C during it would also
    cut short the manifest's final write. The resumed session measures its own start."""
    entry = canary.measure(
        when, session=writer.manifest.get("resumed", 0), slowdown=plan.suite.canary_slowdown
    )
    writer.write_manifest(canary=list(writer.manifest.get("canary") or []) + [entry])


def _where(plan: Plan, writer) -> trial_records.Where:
    return plan.suite.name, os.path.basename(writer.run_dir)
