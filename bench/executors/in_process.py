"""One trial, in this process: its data (cached per problem), an untimed burn-in before the
first trial of each kind, the trial itself with its telemetry, and its record.

Every executor ends here: the local runner calls it for each trial, and the worker processes
of ``--jobs`` and the dask workers call it for the trials they are given
(bench.executors.trial_worker)."""

import dataclasses
import time
from typing import Any, Dict, List, Optional, Tuple

from bench import trial_records
from bench.heap import freeze_long_lived
from bench.plan import TrialSpec
from bench.problems import PROBLEMS, ProblemData
from bench.record import TrialRecord
from bench.trainer import TrialResult, run_trial

BURN_IN_STEPS = 5
WARM_UP_CHUNK_STEPS = 200  # warm-up trains in short trials: each preallocates its step buffers

# (record, curve rows, trajectory rows): what the store's RunWriter.append takes.
TrialOutput = Tuple[TrialRecord, List[Tuple[Any, ...]], List[Tuple[Any, ...]]]


class DataCache:
    """Trials of one problem and seed share their data; keep only the latest problem's."""

    def __init__(self):
        self.cache = {}  # type: Dict[Tuple, ProblemData]

    def get(self, trial: TrialSpec) -> ProblemData:
        key = (trial.problem, trial.seed, trial.options)
        if key not in self.cache:
            self.cache = {k: v for k, v in self.cache.items() if k[0] == trial.problem}
            self.cache[key] = PROBLEMS[trial.problem].make_data(trial.seed, dict(trial.options))
        return self.cache[key]


def burn_in(trial: TrialSpec, data_cache: DataCache, warmed: set) -> None:
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
    # What the first trial of a kind imported lazily (the first optimizer: torch._dynamo and
    # sympy) lives until exit: out of the collector's way, as bench.heap says why.
    freeze_long_lived()


def warm_up(trial: TrialSpec, seconds: float, data_cache: DataCache) -> None:
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


def one_trial(
    where: trial_records.Where, slowdown: float, recorder, data_cache: DataCache, trial: TrialSpec
) -> TrialOutput:
    """Run ``trial`` here; ``recorder`` (or None) measures its telemetry."""
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
        result = run_trial(trial, problem, data, slowdown=slowdown)
    telemetry = None
    if recorder is not None:
        train_start = result.train_start if result and result.train_start is not None else wall_start
        train_end = result.train_end if result and result.train_end is not None else time.perf_counter()
        telemetry = recorder.trial_end(trial.trial_id, train_start, train_end)
        if result is not None and result.train_start is not None:
            training_energy(recorder, telemetry, result)
        if cooling is not None:
            telemetry["cooldown"] = cooling
    wall = time.perf_counter() - wall_start
    if result is None:
        return trial_records.failed(where, trial, started_at, wall, reason, telemetry), [], []
    record = trial_records.make(where, trial, result.outcome, started_at, wall, telemetry)
    trial_id = trial.trial_id  # a property that hashes the configuration: once, not per point
    curve = [(trial_id, p.step, p.time_s, p.loss, p.eval_loss, p.metric) for p in result.curve]
    trajectory = [(trial_id,) + point for point in result.trajectory or ()]
    return record, curve, trajectory


def training_energy(recorder, telemetry: Dict[str, Any], result: TrialResult) -> None:
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
