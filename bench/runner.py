"""Running a plan: every trial through the trainer, with telemetry, into the results store."""

import dataclasses
import datetime
import hashlib
import json
import os
import sys
import time
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, TextIO, Tuple

import torch

from bench import canary, estimate, store, trial_records
from bench.environment import fingerprint
from bench.plan import Plan, TrialSpec
from bench.problems import PROBLEMS, ProblemData
from bench.progress import Progress
from bench.record import SCHEMA_VERSION, TrialRecord
from bench.trainer import TrialResult, run_trial

BURN_IN_STEPS = 5
WARM_UP_CHUNK_STEPS = 200  # warm-up trains in short trials: each preallocates its step buffers


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
    if run_id:
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


class _DataCache:
    """Trials of one problem and seed share their data; keep only the latest problem's."""

    def __init__(self):
        self.cache = {}  # type: Dict[Tuple, ProblemData]

    def get(self, trial: TrialSpec) -> ProblemData:
        key = (trial.problem, trial.seed, trial.options)
        if key not in self.cache:
            self.cache = {k: v for k, v in self.cache.items() if k[0] == trial.problem}
            self.cache[key] = PROBLEMS[trial.problem].make_data(trial.seed, dict(trial.options))
        return self.cache[key]


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
    missing = missing_devices(plan)
    if missing and not (skip_missing_devices or plan.suite.on_missing_device == "skip"):
        lines = [f"{d}: {why}" for d, why in missing.items()]
        raise RunError("the suite asks for devices this machine lacks:\n  " + "\n  ".join(lines) +
                       "\n(pass --skip-missing-devices, or set on_missing_device: skip in the suite, "
                       "to record those trials as skipped)")  # fmt: skip
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
        recorder = _open_telemetry(plan, run_dir)
        return run_dir, _run_trials(plan, writer, recorder, missing, resumed, out, schedule)
    finally:
        writer.close()


def _run_trials(plan, writer, recorder, missing, resumed, out, schedule=None) -> List[TrialRecord]:
    run_dir = writer.run_dir
    todo = [t for t in plan.trials if t.trial_id not in writer.done]
    if resumed:
        out.write(f"resuming {run_dir}: {len(plan.trials) - len(todo)} of {len(plan.trials)} trials already recorded\n")  # fmt: skip
    else:
        out.write(f"writing {run_dir}\n")
    for note in plan.notes:
        out.write(f"note: {note}\n")
    if recorder is not None:
        recorder.start()
        writer.write_manifest(
            telemetry=recorder.manifest_info(), idle_baseline=recorder.measure_idle_baseline()
        )
    data = _DataCache()
    runnable = [t for t in todo if t.device not in missing]
    if plan.suite.warmup_s and runnable:
        out.write(f"warming up for {plan.suite.warmup_s:g} s (untimed, unrecorded)\n")
        _warm_up(runnable[0], plan.suite.warmup_s, data)
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
                _burn_in(trial, data, warmed)
                record, curve, trajectory = _one_trial(plan, writer, recorder, data, trial)
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


def _burn_in(trial: TrialSpec, data_cache, warmed: set) -> None:
    """A few untimed steps before the first trial of each kind, so that lazy initialisation
    (kernel selection, allocator growth, first-call imports) is not billed to that trial."""
    kind = (trial.problem, trial.device, trial.implementation, trial.batch, trial.batch_norm, trial.threads,
            trial.tf_updates, trial.tf_function)  # fmt: skip
    if kind in warmed:
        return
    warmed.add(kind)
    try:
        data = data_cache.get(trial)
    except (OSError, ValueError):
        return  # the trial itself will record the error
    run_trial(dataclasses.replace(trial, steps=BURN_IN_STEPS, epochs=None, eval_every=BURN_IN_STEPS),
              PROBLEMS[trial.problem], data)  # fmt: skip


def _warm_up(trial: TrialSpec, seconds: float, data_cache) -> None:
    """Train the first trial's configuration, unrecorded, until ``seconds`` pass: the board
    reaches its working temperature and clocks before anything is measured."""
    try:
        data = data_cache.get(trial)
    except (OSError, ValueError):
        return
    chunk = dataclasses.replace(trial, steps=WARM_UP_CHUNK_STEPS, epochs=None, eval_every=WARM_UP_CHUNK_STEPS)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        remaining = deadline - time.perf_counter()
        run_trial(
            dataclasses.replace(chunk, time_limit_s=max(remaining, 0.01)), PROBLEMS[trial.problem], data
        )


def _where(plan: Plan, writer) -> trial_records.Where:
    return plan.suite.name, os.path.basename(writer.run_dir)


def _one_trial(plan, writer, recorder, data_cache, trial: TrialSpec):
    where = _where(plan, writer)
    problem = PROBLEMS[trial.problem]
    cooling = recorder.wait_cool() if recorder is not None else None  # not part of the trial's time
    started_at = trial_records.now()
    wall_start = time.perf_counter()
    if recorder is not None:
        recorder.trial_begin(trial.trial_id)
    try:
        data = data_cache.get(trial)
    except (OSError, ValueError) as error:
        result = None
        reason = f"loading data: {type(error).__name__}: {error}"
    else:
        result = run_trial(trial, problem, data, slowdown=plan.suite.slowdown)
    telemetry = None
    if recorder is not None:
        train_start = result.train_start if result and result.train_start is not None else wall_start
        train_end = result.train_end if result and result.train_end is not None else time.perf_counter()
        telemetry = recorder.trial_end(trial.trial_id, train_start, train_end)
        if result is not None and result.train_start is not None:
            _training_energy(recorder, telemetry, result)
        if cooling is not None:
            telemetry["cooldown"] = cooling
    wall = time.perf_counter() - wall_start
    if result is None:
        return trial_records.failed(where, trial, started_at, wall, reason, telemetry), [], []
    record = trial_records.make(where, trial, result.outcome, started_at, wall, telemetry)
    curve = [(trial.trial_id, p.step, p.time_s, p.loss, p.eval_loss, p.metric) for p in result.curve]
    trajectory = [(trial.trial_id,) + point for point in result.trajectory or ()]
    return record, curve, trajectory


def _training_energy(recorder, telemetry: Dict[str, Any], result: TrialResult) -> None:
    """Energy of the training alone, as the timings count it. The recorder integrates power
    over the whole window from the first to the last timed step, which also holds the
    untimed evaluations and checks between segments; sum over the timed segments instead."""

    def over_segments(until: float) -> Optional[float]:
        total = 0.0
        for start, end in result.segments:
            if end > until:
                break
            energy = recorder.energy_between(start, end)
            if energy is None:
                return None
            total += energy
        return total

    if telemetry.get("energy_j") is not None:
        telemetry["energy_train_j"] = over_segments(result.train_end)
    if result.target_clock is not None:
        telemetry["energy_to_target_j"] = over_segments(result.target_clock)
