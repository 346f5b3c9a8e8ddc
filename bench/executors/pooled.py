"""The client's loop for pooled executors (``--jobs N``, dask): trials go out to the pool,
results come back as they finish, and this process alone appends them to the store.

So a pooled run is as crash-safe and resumable as a local one: a record is written (and
synced) when its result arrives; a trial in flight when the client dies is simply not
recorded, and the next run gives it out again. A trial whose worker died is re-queued by the
pool (dask does), and recorded once, when it comes back."""

import dataclasses
import os
from typing import Any, Callable, Dict, Iterable, List, Optional, TextIO

from bench import estimate, trial_records
from bench.executors.trial_worker import TaskResult, TrialTask
from bench.plan import Plan, TrialSpec
from bench.progress import Progress
from bench.record import CONTENDED, TrialRecord

WAIT_S = 2.0  # how often the client looks up from waiting, to check that the pool is alive


class ExecutorError(Exception):
    """The executor cannot run the plan (no scheduler, no usable worker, a version mismatch)."""


class TaskFailed(Exception):
    """A trial's task ended without a result (its worker died too often, or the task raised)."""


class Pool:
    """What the loop needs of an executor; bench.executors.processes and dask_pool implement it."""

    contended = False  # several trials share one machine: their times and energies are not fair
    remote = False  # trials run on other machines: each record carries its worker's fingerprint

    def capacity(self) -> int:
        """How many tasks to keep submitted: enough to keep every worker busy, no more, so that
        a lazy schedule (a nightly window) still decides trial by trial."""
        raise NotImplementedError

    def missing_devices(self, plan: Plan) -> Dict[str, str]:
        raise NotImplementedError

    def submit(self, task: TrialTask) -> Any:
        raise NotImplementedError

    def wait(self, handles: List[Any], timeout: float) -> List[Any]:
        """The handles among ``handles`` that have finished, waiting up to ``timeout`` for one."""
        raise NotImplementedError

    def result(self, handle: Any) -> TaskResult:
        """The finished task's result; TaskFailed if it has none."""
        raise NotImplementedError

    def contended_trial(self, result: TaskResult) -> bool:
        """Whether this trial ran beside others on its machine."""
        return self.contended

    def check_alive(self, waiting: List[TrialSpec]) -> None:
        """Called while nothing finishes: ExecutorError if the waiting trials can never run."""

    def manifest_info(self) -> Dict[str, Any]:
        return {}

    def close(self, unfinished: List[Any]) -> None:
        raise NotImplementedError


def run_pooled(
    plan: Plan,
    writer,
    pool: Pool,
    todo: List[TrialSpec],
    missing: Dict[str, str],
    out: TextIO,
    schedule: Optional[Callable[[List[TrialSpec]], Iterable[TrialSpec]]] = None,
) -> int:
    """Run ``todo`` on ``pool``, appending each result as it arrives; returns how many trials
    were recorded (all of ``todo`` when the run finished)."""
    where = (plan.suite.name, os.path.basename(writer.run_dir))
    telemetry = None if plan.suite.telemetry.off else plan.suite.telemetry
    progress = Progress(plan, todo, out, estimate.from_previous_runs(os.path.dirname(writer.run_dir)))
    source = iter(todo if schedule is None else schedule(list(todo)))
    pending = {}  # type: Dict[Any, TrialSpec]
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < pool.capacity():
                trial = next(source, None)
                if trial is None:
                    exhausted = True
                elif trial.device in missing:
                    _append(writer, progress, trial, (trial_records.skipped(where, trial, missing[trial.device]), [], []))  # fmt: skip
                else:
                    task = TrialTask(trial, where, plan.suite.slowdown, plan.suite.warmup_s, telemetry)
                    pending[pool.submit(task)] = trial
            if not pending:
                break
            done = pool.wait(list(pending), WAIT_S)
            if not done:
                pool.check_alive(list(pending.values()))
            for handle in done:
                trial = pending.pop(handle)
                _append(writer, progress, trial, _output(pool, handle, trial, where))
    finally:
        pool.close(list(pending))
    return progress.done


def _output(pool: Pool, handle: Any, trial: TrialSpec, where):
    try:
        result = pool.result(handle)
    except TaskFailed as failure:
        # A failed trial is data: recorded with the reason, and not given out again on resume.
        return trial_records.failed(where, trial, trial_records.now(), 0.0, str(failure), None), [], []
    record = TrialRecord.from_json_dict(result.record)
    return _marked(record, pool, result), result.curve, result.trajectory


def _marked(record: TrialRecord, pool: Pool, result: TaskResult) -> TrialRecord:
    """The record with what the pool knows and the worker did not: whether its timing was
    shared with other trials, and (on a dask worker) the fingerprint of the machine that ran it."""
    return dataclasses.replace(
        record,
        timing_shared=CONTENDED if pool.contended_trial(result) else None,
        environment=result.environment if pool.remote else None,
    )


def _append(writer, progress: Progress, trial: TrialSpec, output) -> None:
    record, curve, trajectory = output
    writer.append(record, curve, trajectory)
    progress.begin(trial)
    progress.end(trial, record)
