"""``local`` with ``jobs: N``: N worker processes on this machine, for convergence-only suites.

Trials that share a machine's cores, caches and memory bandwidth time each other: every record
of such a run is marked ``timing_shared: "contended"``, and the report and ``optbench compare``
leave those times and energies out of their verdicts. The processes are spawned, not forked:
a fork of a process whose torch has started its thread pools can hang in the child."""

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import sys
from typing import Any, Dict, List

from bench.executors.pooled import ExecutorError, Pool
from bench.executors.trial_worker import TaskResult, TrialTask, run_task
from bench.plan import Plan

_BROKEN = "a worker process died (killed? out of memory?), and the process pool with it"


class ProcessPool(Pool):
    contended = True

    def __init__(self, jobs: int, missing_devices):
        self.jobs = jobs
        self._closed = False
        self._missing_devices = missing_devices  # bench.runner's: this machine's devices
        kwargs = {"max_workers": jobs}  # type: Dict[str, Any]
        if sys.version_info >= (3, 7):  # noqa: UP036 -- the device half runs on 3.6
            kwargs["mp_context"] = multiprocessing.get_context("spawn")  # novermin
        self._executor = concurrent.futures.ProcessPoolExecutor(**kwargs)
        # Start every process now. Python 3.6's pool takes no context and forks: safe only
        # before this process has trained anything or started torch's threads (run_plan opens
        # the pool before it loads any data).
        self._executor.submit(int).result()

    def capacity(self) -> int:
        return self.jobs + 1  # one queued, so a finishing worker starts the next at once

    def missing_devices(self, plan: Plan) -> Dict[str, str]:
        return self._missing_devices(plan)

    def submit(self, task: TrialTask) -> Any:
        try:
            return self._executor.submit(run_task, task)
        except concurrent.futures.process.BrokenProcessPool:
            raise ExecutorError(_BROKEN) from None

    def wait(self, handles: List[Any], timeout: float) -> List[Any]:
        done, _ = concurrent.futures.wait(handles, timeout, concurrent.futures.FIRST_COMPLETED)
        return [h for h in handles if h in done]

    def result(self, handle: Any) -> TaskResult:
        try:
            return handle.result()
        except concurrent.futures.process.BrokenProcessPool:
            # The pool fails every trial in flight, not only the dead process's: none is the
            # trial's own failure, so none is recorded; the next run gives them out again.
            raise ExecutorError(_BROKEN) from None

    def manifest_info(self) -> Dict[str, Any]:
        return {"processes": self.jobs}

    def close(self, unfinished: List[Any]) -> None:
        if self._closed:
            return
        self._closed = True
        for handle in unfinished:
            handle.cancel()
        if unfinished:
            # Interrupted (Ctrl-C, SIGTERM) or stopped: the trials in flight have nowhere to be
            # recorded, and waiting for them would hold a stop for a whole trial (up to its
            # time limit). The pool keeps no public handle on its processes. SIGKILL: a process
            # forked on Python 3.6 inherited optbench's SIGTERM handler, and would go on.
            for process in list((getattr(self._executor, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError):
                    os.kill(process.pid, signal.SIGKILL)
        self._executor.shutdown(wait=True)
