"""The worker's side of a pooled run: a trial comes in, its record and rows go back.

A worker (a ``--jobs`` process or a dask worker) never touches the results directory: it runs
the trial with bench.executors.in_process and returns what the client's RunWriter appends.
Per process it keeps what the local runner keeps per run: the data cache, the kinds already
burned in, a warm-up done once, and a telemetry recorder of its own (this machine's power
while it trains; its samples stay in memory, the per-trial figures go into the record)."""

import os
import socket
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from bench.environment import fingerprint
from bench.executors import in_process
from bench.plan import TrialSpec
from bench.telemetry.config import TelemetryConfig


@dataclass(frozen=True)
class TrialTask:
    trial: TrialSpec
    where: Tuple[str, str]  # (suite name, run id)
    slowdown: float  # the suite's testing aid (docs/COMPARE.md)
    warmup_s: float  # train untimed this long before this worker's first trial
    telemetry: Optional[TelemetryConfig]  # None: no telemetry


@dataclass(frozen=True)
class TaskResult:
    record: Dict[str, Any]  # TrialRecord.to_json_dict(): plain JSON, checked again by the client
    curve: List[Tuple[Any, ...]]
    trajectory: List[Tuple[Any, ...]]
    environment: Dict[str, Any]  # bench.environment.fingerprint() of the machine that ran it
    worker: str  # which worker: "host pid N" (a dask worker's address is added by dask_pool)


class _WorkerState:
    """What one worker process keeps between trials."""

    def __init__(self):
        self.data = in_process.DataCache()
        self.warmed = set()  # type: set
        self.warmed_up = False
        self.recorder = None
        self.telemetry = None  # type: Optional[TelemetryConfig]  # the recorder's configuration
        self.environment = None  # type: Optional[Dict[str, Any]]


_STATE = None  # type: Optional[_WorkerState]


def _open_telemetry(state: _WorkerState, config: Optional[TelemetryConfig]) -> None:
    """This worker's own recorder, for ``config`` (None: none); its idle baseline measured once."""
    if state.recorder is not None:
        state.recorder.close()
        state.recorder = None
    state.telemetry = config
    if config is not None:
        from bench.telemetry import open_recorder

        state.recorder = open_recorder(config)
        state.recorder.start()
        state.recorder.measure_idle_baseline()


def run_task(task: TrialTask) -> TaskResult:
    """Run one trial in this process (one at a time: the executors see to that)."""
    global _STATE
    if _STATE is None:
        _STATE = _WorkerState()
    state = _STATE
    if state.environment is None:
        state.environment = fingerprint()
    if task.telemetry != state.telemetry:  # a dask worker outlives runs; a run may sample otherwise
        _open_telemetry(state, task.telemetry)
    if task.warmup_s and not state.warmed_up:
        in_process.warm_up(task.trial, task.warmup_s, state.data)
    state.warmed_up = True
    in_process.burn_in(task.trial, state.data, state.warmed)
    record, curve, trajectory = in_process.one_trial(
        task.where, task.slowdown, state.recorder, state.data, task.trial
    )
    return TaskResult(
        record.to_json_dict(),
        curve,
        trajectory,
        state.environment,
        f"{socket.gethostname()} pid {os.getpid()}",
    )
