"""Executors: where a plan's trials run. The runner (bench.runner) alone writes the store.

* local, the default: in the ``optbench run`` process, one trial at a time
  (bench.executors.in_process): the only fair timing on one machine.
* local with ``jobs: N``: N worker processes on this machine (bench.executors.processes), for
  convergence-only suites; every record says its timing was contended.
* dask: dask.distributed workers, an existing scheduler's or a LocalCluster's
  (bench.executors.dask_pool), one trial at a time per worker; imported only when chosen, so
  the device half runs without dask.

The pooled executors share the client's loop (bench.executors.pooled) and the worker's side
(bench.executors.trial_worker). docs/DISTRIBUTED.md says when to use which.
"""

from typing import Any, Callable, Dict, TextIO


def open_pool(choice, client_environment: Dict[str, Any], out: TextIO, local_missing_devices: Callable):
    """The pool (bench.executors.pooled.Pool) for a choice (an ExecutorChoice) that is not the
    in-process default; ExecutorError if it cannot run. Imported here, not at the top: the suite
    reader imports this package for its choice, long before any pool."""
    if choice.kind == "dask":
        from bench.executors.dask_pool import DaskPool  # raises ExecutorError without dask

        return DaskPool(choice, client_environment, out)
    from bench.executors.processes import ProcessPool

    return ProcessPool(choice.jobs, local_missing_devices)
