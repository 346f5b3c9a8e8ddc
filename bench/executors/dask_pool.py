"""The dask executor: trials spread over dask.distributed workers, an existing scheduler's
(``--scheduler tcp://HOST:8786``) or a LocalCluster of worker processes started here.

Imported only when chosen: the device half runs without dask (a Jetson Nano's Python 3.6 has
no current dask). Each worker runs one timed trial at a time: tasks ask for one unit of the
worker resource ``trial``, which a LocalCluster's workers get and other workers are started
with (``dask worker ADDRESS --resources trial=1``). Before any trial, every worker describes
itself (bench.executors.worker_facts) and its versions are checked against this client's.
dask re-queues the task of a worker that dies; the client records each trial once, when its
result arrives (bench.executors.pooled)."""

import asyncio
import contextlib
import logging
import sys
import time
import uuid
from typing import Any, Dict, List, TextIO

from bench.executors import worker_facts
from bench.executors.choice import ExecutorChoice
from bench.executors.pooled import ExecutorError, Pool, TaskFailed
from bench.executors.trial_worker import TaskResult, TrialTask, run_task
from bench.plan import Plan, TrialSpec

try:
    import distributed
except ImportError as missing:  # bench.executors.open_pool turns this into one clear line
    raise ExecutorError(
        f"executor dask needs dask.distributed, which this Python ({sys.executable}) lacks ({missing}): "
        "pip install 'optbench[dask]' (docs/DISTRIBUTED.md)"
    ) from None

CONNECT_S = 10.0  # to reach the scheduler (distributed retries until then)
WORKERS_WAIT_S = 30.0  # for a first worker to join it
DESCRIBE_S = 60.0  # for each worker to say what it is (its first import of torch takes seconds)
RESOURCE = "trial"


def run_on_worker(task: TrialTask) -> TaskResult:
    """The task dask runs: the trial, and which worker ran it."""
    result = run_task(task)
    return TaskResult(result.record, result.curve, result.trajectory, result.environment,
                      f"{distributed.get_worker().address} ({result.worker})")  # fmt: skip


class DaskPool(Pool):
    remote = True

    def __init__(self, choice: ExecutorChoice, client_environment: Dict[str, Any], out: TextIO):
        self.choice = choice
        self.out = out
        self.cluster = None
        try:
            if choice.scheduler:
                self.client = distributed.Client(choice.scheduler, timeout=CONNECT_S)
            else:
                self.cluster = distributed.LocalCluster(
                    n_workers=choice.jobs, threads_per_worker=1, processes=True, resources={RESOURCE: 1},
                    dashboard_address=":0", silence_logs=logging.ERROR, memory_limit=0,
                )  # fmt: skip
                self.client = distributed.Client(self.cluster)
        except (OSError, TimeoutError, asyncio.TimeoutError) as error:
            where = f"the dask scheduler at {choice.scheduler}" if choice.scheduler else "a dask LocalCluster"
            raise ExecutorError(f"cannot reach {where}: {error}") from None
        try:
            self.workers = self._check_workers(client_environment)
        except BaseException:
            self.close([])
            raise

    def _check_workers(self, client_environment: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
        """address -> facts, for every worker that may run trials; says why each other one may not."""
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_WAIT_S)
        except (OSError, TimeoutError, asyncio.TimeoutError):
            raise ExecutorError(f"no dask worker joined the scheduler at {self.choice.scheduler} "
                                f"within {WORKERS_WAIT_S:g} s: start one with "
                                f"`dask worker {self.choice.scheduler} --resources {RESOURCE}=1`") from None  # fmt: skip
        info = self._workers_info()
        described = {
            address: self.client.submit(worker_facts.describe, workers=[address], allow_other_workers=False, pure=False)
            for address in info
        }  # fmt: skip
        self._wait_described(described)
        usable, refused, mismatched = {}, [], []
        for address, future in described.items():
            if future.status == "error":  # e.g. optbench is not installed there
                error = future.exception()
                refused.append(f"{address} could not describe itself: {type(error).__name__}: {error}")
                continue
            if future.status != "finished":  # it died, or hangs: it gets no trials of this run
                refused.append(f"{address} did not describe itself ({future.status})")
                future.cancel()
                continue
            facts = future.result()
            must, should = worker_facts.differences(client_environment, facts["environment"])
            name = "{} ({})".format(address, facts["tags"]["host"])
            if not info[address].get("resources", {}).get(RESOURCE):
                refused.append(f"{name} has no '{RESOURCE}' resource, so it gets no trials: start it with "
                               f"`dask worker SCHEDULER --resources {RESOURCE}=1`")  # fmt: skip
                continue
            if must:
                mismatched.append(f"{name}: " + "; ".join(must + should))
                if not self.choice.allow_mismatch:
                    continue
            elif should:
                self.out.write(f"warning: worker {name} differs from this client: {'; '.join(should)}\n")
            if not worker_facts.matches(self.choice.workers, facts["tags"]):
                refused.append(f"{name} is not one executor.workers asks for (its tags: {facts['tags']})")
                continue
            usable[address] = facts
        for line in refused:
            self.out.write(f"note: worker {line}\n")
        if mismatched and not self.choice.allow_mismatch:
            raise ExecutorError("dask workers whose Python, torch or optbench differs from this client's "
                                "would run other code than was planned:\n  " + "\n  ".join(mismatched) +
                                "\n(install the same versions there, or pass --allow-mismatch to run anyway: "
                                "each record keeps its worker's versions)")  # fmt: skip
        for line in mismatched:
            self.out.write(f"warning: worker {line} (allowed by --allow-mismatch)\n")
        if not usable:
            raise ExecutorError("no dask worker can run trials:\n  " + "\n  ".join(refused))
        hosts = [f["environment"].get("host") for f in usable.values()]
        for host in sorted({h for h in hosts if hosts.count(h) > 1}):
            self.out.write(f"warning: {hosts.count(host)} workers share the machine {host}: their trials' times "
                           "and energies are contended (marked timing_shared: contended, left out of time and "
                           "energy verdicts); one worker per machine to time\n")  # fmt: skip
        return usable

    def _workers_info(self) -> Dict[str, Dict[str, Any]]:
        """Every worker the scheduler has (address -> its info), on every distributed since 2021.3."""
        try:
            return self.client.scheduler_info(n_workers=-1)["workers"]  # since 2025: else 5 at most
        except TypeError:  # an older scheduler lists them all, and takes no n_workers
            return self.client.scheduler_info()["workers"]

    def _wait_described(self, described: Dict[str, Any]) -> None:
        """Until every worker has described itself, has left, or DESCRIBE_S has passed."""
        deadline = time.monotonic() + DESCRIBE_S
        while time.monotonic() < deadline:
            alive = set(self._workers_info())
            waiting = [f for a, f in described.items() if not f.done() and a in alive]
            if not waiting:
                return
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                distributed.wait(waiting, timeout=1.0)

    def _eligible(self, trial: TrialSpec) -> List[str]:
        return [a for a, facts in self.workers.items()
                if worker_facts.can_run_device(trial.device, facts["tags"], facts["environment"])]  # fmt: skip

    def capacity(self) -> int:
        return 2 * len(self.workers)

    def contended_trial(self, result: TaskResult) -> bool:
        """A trial ran beside others when its machine runs several of this run's workers."""
        host = result.environment.get("host")
        return sum(1 for f in self.workers.values() if f["environment"].get("host") == host) > 1

    def missing_devices(self, plan: Plan) -> Dict[str, str]:
        missing = {}
        for device in sorted({t.device for t in plan.trials}):
            probe = next(t for t in plan.trials if t.device == device)
            if not self._eligible(probe):
                missing[device] = f"no dask worker of this run has it ({len(self.workers)} usable worker(s))"
        return missing

    def submit(self, task: TrialTask) -> Any:
        return self.client.submit(
            run_on_worker, task, key=f"optbench-{task.trial.trial_id}-{uuid.uuid4().hex[:8]}",
            workers=self._eligible(task.trial), allow_other_workers=False, resources={RESOURCE: 1}, pure=False,
        )  # fmt: skip

    def wait(self, handles: List[Any], timeout: float) -> List[Any]:
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            distributed.wait(handles, timeout=timeout, return_when="FIRST_COMPLETED")
        return [h for h in handles if h.done()]

    def result(self, handle: Any) -> TaskResult:
        try:
            return handle.result()
        except distributed.KilledWorker as error:
            raise TaskFailed(f"every worker that ran it died (dask gave up: {error})") from None
        except Exception as error:  # the task raised on the worker: a bug, recorded with its message
            raise TaskFailed(f"the task failed on its worker: {type(error).__name__}: {error}") from None

    def check_alive(self, waiting: List[TrialSpec]) -> None:
        alive = set(self._workers_info())
        stranded = [t for t in waiting if not alive.intersection(self._eligible(t))]
        if stranded:
            raise ExecutorError(f"every checked dask worker that could run {len(stranded)} waiting trial(s) "
                                f"has left (e.g. {stranded[0].label()}); start workers and run again to resume")  # fmt: skip

    def manifest_info(self) -> Dict[str, Any]:
        return {
            "scheduler": self.choice.scheduler or "LocalCluster",
            "checked_workers": {
                a: {"tags": f["tags"], "nvpmodel": f["nvpmodel"], "environment": f["environment"]}
                for a, f in self.workers.items()
            },
        }

    def close(self, unfinished: List[Any]) -> None:
        if unfinished:
            self.client.cancel(unfinished)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
