"""Which executor runs a suite's trials: the suite's ``executor:`` key, then the command line.

    executor: local                      # the default: in this process, one trial at a time
    executor: {kind: local, jobs: 4}     # parallel processes: convergence only, timings contended
    executor: {kind: dask, scheduler: tcp://host:8786, workers: {device: cuda}}

Like ``canary``, none of it is part of the trial ids: a run started locally resumes on dask.
"""

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from bench.validation import Checker, short

KINDS = ("local", "dask")
EXECUTOR_KEYS = ("kind", "jobs", "scheduler", "workers", "allow_mismatch")
# What a dask worker says about itself (bench.executors.worker_facts), and what ``workers:`` may
# ask of it: cells go only to workers whose tags match.
TAGS = ("device", "board", "power_mode", "host")


@dataclass(frozen=True)
class ExecutorChoice:
    kind: str = "local"
    jobs: int = 1  # local: worker processes; dask without a scheduler: the LocalCluster's workers
    scheduler: Optional[str] = None  # dask: an existing scheduler's address; None: a LocalCluster
    workers: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()  # tag -> allowed values (dask)
    allow_mismatch: bool = False  # dask: a worker whose versions differ is a warning, not an error

    @property
    def in_process(self) -> bool:
        """The default: every trial timed alone, in the ``optbench run`` process itself."""
        return self.kind == "local" and self.jobs == 1

    @property
    def contended(self) -> bool:
        """Several trials share this machine at once: their times and energies are not fair."""
        return self.kind == "local" and self.jobs > 1

    def describe(self) -> str:
        if self.kind == "local":
            return "local" if self.jobs == 1 else f"local, {self.jobs} processes"
        return (
            f"dask, scheduler {self.scheduler}" if self.scheduler else f"dask, a LocalCluster of {self.jobs}"
        )

    def to_json(self) -> Dict[str, Any]:
        return {
            "kind": self.kind, "jobs": self.jobs, "scheduler": self.scheduler,
            "workers": {tag: list(values) for tag, values in self.workers},
            "allow_mismatch": self.allow_mismatch,
        }  # fmt: skip


def read_executor(check: Checker, raw: Any) -> Optional[ExecutorChoice]:
    """The suite's ``executor:`` (a kind, or a mapping), every mistake recorded in ``check``."""
    if isinstance(raw, str):
        raw = {"kind": raw}
    raw = check.mapping("executor", raw)
    if raw is None:
        return None
    mistakes = len(check.problems)
    check.unknown_keys("executor", raw, EXECUTOR_KEYS)
    kind = check.choice("executor.kind", raw.get("kind", "local"), list(KINDS))
    jobs = check.integer("executor.jobs", raw.get("jobs", 1), minimum=1)
    scheduler = raw.get("scheduler")
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler.strip():
            check.fail("executor.scheduler", f"expected an address (tcp://HOST:8786), got {short(scheduler)}")
        elif kind == "local":
            check.fail("executor.scheduler", "a scheduler is for kind: dask, not local")
        elif "jobs" in raw:
            check.fail("executor.jobs", "jobs sizes a LocalCluster; with a scheduler the workers are its own")
    workers = _read_tags(check, raw.get("workers", {}))
    if workers and kind != "dask":
        check.fail("executor.workers", "worker tags route cells to dask workers: set kind: dask")
    allow = check.boolean("executor.allow_mismatch", raw.get("allow_mismatch", False))
    if len(check.problems) > mistakes:
        return None
    return ExecutorChoice(kind, jobs, scheduler, workers, allow)


def _read_tags(check: Checker, raw: Any) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    raw = check.mapping("executor.workers", raw)
    if raw is None:
        return ()
    check.unknown_keys("executor.workers", raw, TAGS)
    tags = []
    for tag in TAGS:
        if tag not in raw:
            continue
        values = raw[tag] if isinstance(raw[tag], list) else [raw[tag]]
        if not values or not all(isinstance(v, str) and v for v in values):
            check.fail(
                f"executor.workers.{tag}", f"expected a name or a list of names, got {short(raw[tag])}"
            )
            continue
        tags.append((tag, tuple(values)))
    return tuple(tags)


def with_overrides(
    choice: ExecutorChoice,
    kind: Optional[str] = None,
    jobs: Optional[int] = None,
    scheduler: Optional[str] = None,
    allow_mismatch: bool = False,
) -> ExecutorChoice:
    """The suite's choice with the command line's ``--executor``, ``--jobs``, ``--scheduler`` and
    ``--allow-mismatch`` on top; ValueError says what cannot be combined."""
    if scheduler and kind == "local":
        raise ValueError("--scheduler is for --executor dask, not local")
    if scheduler and jobs is not None:
        raise ValueError("--jobs sizes a LocalCluster (or local processes); with --scheduler the workers are the scheduler's")  # fmt: skip
    if jobs is not None and jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if scheduler:
        kind = "dask"
    new_kind = kind or choice.kind
    if kind is not None and kind != choice.kind:
        # Another kind: the suite's settings for its own kind do not carry over.
        choice = ExecutorChoice(kind=new_kind, allow_mismatch=choice.allow_mismatch)
    return ExecutorChoice(
        kind=new_kind,
        jobs=jobs if jobs is not None else (1 if scheduler else choice.jobs),
        scheduler=scheduler or (choice.scheduler if new_kind == "dask" else None),
        workers=choice.workers,
        allow_mismatch=allow_mismatch or choice.allow_mismatch,
    )
