"""Turning a trial's outcome into its TrialRecord: measured, failed before training, or skipped."""

import datetime
from typing import Any, Dict, Optional, Tuple

import torch

from bench.plan import TrialSpec
from bench.problems import PROBLEMS
from bench.record import SCHEMA_VERSION, Outcome, Status, TrialRecord
from bench.trainer import resolve_device

Where = Tuple[str, str]  # (suite name, run id)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def make(
    where: Where,
    trial: TrialSpec,
    outcome: Outcome,
    started_at: str,
    wall: float,
    telemetry: Optional[Dict[str, Any]],
    timing_shared: Optional[str] = None,
    environment: Optional[Dict[str, Any]] = None,
) -> TrialRecord:
    """``timing_shared``: one of bench.record.TIMING_SHARED where the trial was not timed alone;
    ``environment``: the fingerprint of the machine that ran it, where not the run's own."""
    problem = PROBLEMS[trial.problem]
    return TrialRecord.of(
        outcome, schema=SCHEMA_VERSION, trial_id=trial.trial_id, suite=where[0], run_id=where[1],
        config=trial.config(), seed=trial.seed, started_at=started_at, finished_at=now(),
        metric_name=problem.metric_name, target=problem.target.to_json_dict(), wall_time_s=wall,
        device=str(resolve_device(trial.device)), num_threads=torch.get_num_threads(),
        telemetry=telemetry, timing_shared=timing_shared, environment=environment,
    )  # fmt: skip


def failed(
    where: Where, trial: TrialSpec, started_at: str, wall: float, reason: str, telemetry: Optional[Dict]
) -> TrialRecord:
    """A trial that could not start training (its data would not load)."""
    return make(where, trial, Outcome.unmeasured(Status.ERROR, reason), started_at, wall, telemetry)


def skipped(where: Where, trial: TrialSpec, why: str) -> TrialRecord:
    outcome = Outcome.unmeasured(Status.SKIPPED, f"device {trial.device}: {why}")
    return make(where, trial, outcome, now(), 0.0, None)
