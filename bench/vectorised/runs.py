"""A vectorised suite's trials through the runner: batch by batch, a record per trial.

bench.runner hands its trials here when the suite says ``vectorise: true``; each batch's
trials are recorded (and shown in the progress display) when the batch ends, so an
interruption loses at most the batch in flight. Trials on a missing device go back to the
runner, which records them as skipped.
"""

import dataclasses
import os
import time
from typing import Iterable, List

from bench import trial_records
from bench.heap import freeze_long_lived
from bench.plan import Plan, TrialSpec
from bench.problems import PROBLEMS
from bench.record import BATCHED
from bench.trainer import TrialResult
from bench.vectorised.grouping import batch_key, batches
from bench.vectorised.trainer import run_batch

BURN_IN_STEPS = 5  # as bench.runner's: untimed steps before the first batch of each kind


def run_vectorised(
    plan: Plan, writer, recorder, data_cache, trials: Iterable[TrialSpec], missing, progress
) -> List[TrialSpec]:
    """Train and record ``trials`` in batches; returns those left to the runner (on devices
    this machine lacks). The trials are all taken from ``trials`` before the first batch
    runs: a batch needs every trial of its configuration."""
    left, runnable = [], []
    for trial in trials:
        (left if trial.device in missing else runnable).append(trial)
    where = (plan.suite.name, os.path.basename(writer.run_dir))
    warmed = set()
    for batch in batches(runnable):
        _burn_in(batch, data_cache, warmed)
        recorded = _run_one_batch(where, recorder, data_cache, batch)
        writer.append_many(recorded)
        for trial, (record, _, _) in zip(batch, recorded):
            progress.begin(trial)
            progress.end(trial, record)
    return left


def _run_one_batch(where, recorder, data_cache, batch: List[TrialSpec]):
    started_at = trial_records.now()
    wall_start = time.perf_counter()
    if recorder is not None:
        recorder.trial_begin(batch[0].trial_id)
    try:
        datas = [data_cache.get(trial) for trial in batch]
    except (OSError, ValueError) as error:
        reason = f"loading data: {type(error).__name__}: {error}"
        wall = time.perf_counter() - wall_start
        return [(trial_records.failed(where, t, started_at, wall, reason, None), [], []) for t in batch]
    results = run_batch(batch, PROBLEMS[batch[0].problem], datas)
    wall = time.perf_counter() - wall_start
    return [
        _recorded(where, recorder, trial, result, started_at, wall) for trial, result in zip(batch, results)
    ]


def _recorded(where, recorder, trial: TrialSpec, result: TrialResult, started_at: str, wall: float):
    telemetry = None
    if recorder is not None and result.train_start is not None:
        from bench.executors.in_process import training_energy  # the runner's own rule for a trial's energy

        # The batch's power over this trial's window: shared with the other trials, as the
        # record's timing is (and left out of time and energy verdicts for that reason).
        telemetry = recorder.trial_end(trial.trial_id, result.train_start, result.train_end)
        training_energy(recorder, telemetry, result)
    record = trial_records.make(
        where, trial, result.outcome, started_at, wall, telemetry, timing_shared=BATCHED
    )
    trial_id = trial.trial_id  # once, not per point (bench.executors.in_process says why)
    curve = [(trial_id, p.step, p.time_s, p.loss, p.eval_loss, p.metric) for p in result.curve]
    trajectory = [(trial_id,) + point for point in result.trajectory or ()]
    return record, curve, trajectory


def _burn_in(batch: List[TrialSpec], data_cache, warmed: set) -> None:
    """A few untimed steps of the batch's configuration, once per kind, so that lazy
    initialisation is not billed to the first batch (bench.executors.in_process.burn_in's reason)."""
    kind = dataclasses.replace(batch_key(batch[0]), steps=None, epochs=None, time_limit_s=0.0)
    if kind in warmed:
        return
    warmed.add(kind)
    try:
        datas = [data_cache.get(trial) for trial in batch]
    except (OSError, ValueError):
        return  # the batch itself will record the error
    short = [
        dataclasses.replace(t, steps=BURN_IN_STEPS, epochs=None, eval_every=BURN_IN_STEPS) for t in batch
    ]
    run_batch(short, PROBLEMS[batch[0].problem], datas)
    freeze_long_lived()  # as bench.executors.in_process.burn_in does, for its reason
