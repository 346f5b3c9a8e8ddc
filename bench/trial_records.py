"""Turning a trial's outcome into its TrialRecord: measured, failed before training, or skipped."""

import datetime
from typing import Any, Dict, Optional, Tuple

import torch

from bench.plan import TrialSpec
from bench.problems import PROBLEMS
from bench.record import SCHEMA_VERSION, Status, TrialRecord, without_non_finite
from bench.trainer import TrialResult, resolve_device

Where = Tuple[str, str]  # (suite name, run id)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _common(where: Where, trial: TrialSpec, started_at: str) -> Dict[str, Any]:
    problem = PROBLEMS[trial.problem]
    return {
        "schema": SCHEMA_VERSION,
        "trial_id": trial.trial_id,
        "suite": where[0],
        "run_id": where[1],
        "config": trial.config(),
        "seed": trial.seed,
        "started_at": started_at,
        "finished_at": now(),
        "metric_name": problem.metric_name,
        "target": problem.target.to_json_dict(),
        "num_threads": torch.get_num_threads(),
        "device": str(resolve_device(trial.device)),
    }


def from_result(
    where: Where,
    trial: TrialSpec,
    result: TrialResult,
    started_at: str,
    wall: float,
    telemetry: Optional[Dict],
) -> TrialRecord:
    fields = _common(where, trial, started_at)
    fields.update(
        status=result.status.value, reason=result.reason, steps=result.steps, epochs=result.epochs,
        final_loss=result.final_loss, best_loss=result.best_loss, final_metric=result.final_metric,
        optimum_loss=result.optimum_loss, suboptimality=result.suboptimality,
        steps_to_target=result.steps_to_target, time_to_target_s=result.time_to_target_s,
        wall_time_s=wall, train_time_s=result.train_time_s, eval_time_s=result.eval_time_s,
        step_time_median_s=result.step_time_median_s, step_time_iqr_s=result.step_time_iqr_s,
        step_time_samples=result.step_time_samples, memory=result.memory, data=result.data,
        learned=without_non_finite(result.learned), telemetry=without_non_finite(telemetry),
    )  # fmt: skip
    return TrialRecord(**fields)


def _nothing_measured() -> Dict[str, Any]:
    return dict(
        steps=0, epochs=0.0, final_loss=None, best_loss=None, final_metric=None, optimum_loss=None,
        suboptimality=None, steps_to_target=None, time_to_target_s=None, train_time_s=0.0,
        eval_time_s=0.0, step_time_median_s=None, step_time_iqr_s=None, step_time_samples=0,
        memory={}, data={}, learned=None,
    )  # fmt: skip


def failed(
    where: Where, trial: TrialSpec, started_at: str, wall: float, reason: str, telemetry: Optional[Dict]
) -> TrialRecord:
    """A trial that could not start training (its data would not load)."""
    fields = _common(where, trial, started_at)
    fields.update(
        _nothing_measured(), status=Status.ERROR.value, reason=reason, wall_time_s=wall,
        telemetry=without_non_finite(telemetry),
    )  # fmt: skip
    return TrialRecord(**fields)


def skipped(where: Where, trial: TrialSpec, why: str) -> TrialRecord:
    fields = _common(where, trial, now())
    fields.update(
        _nothing_measured(), status=Status.SKIPPED.value, reason=f"device {trial.device}: {why}",
        wall_time_s=0.0, telemetry=None,
    )  # fmt: skip
    return TrialRecord(**fields)
