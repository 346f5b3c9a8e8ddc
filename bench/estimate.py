"""Duration estimates from earlier runs' trial records (for `plan` and the run's ETA)."""

import os
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from bench import store
from bench.plan import TrialSpec
from bench.record import TrialRecord

_KEYS = ("problem", "batch", "implementation", "device", "threads", "steps", "epochs")


def _key(config: Dict) -> Tuple:
    """What a trial's duration depends on most: problem, batch, implementation, device,
    threads, budget."""
    return tuple(str(config.get(k)) for k in _KEYS)


def _spec_key(spec: TrialSpec) -> Tuple:
    return tuple(str(getattr(spec, k)) for k in _KEYS)


class Estimator:
    """Median wall time of past trials of the same kind (see _key), else of the same
    problem; None where nothing comparable has run yet."""

    def __init__(self, records: Sequence[TrialRecord] = ()):
        self.by_key: Dict[Tuple, List[float]] = {}
        self.by_problem: Dict[str, List[float]] = {}
        for record in records:
            self.add(record.config, record.wall_time_s)

    def add(self, config: Dict, seconds: float) -> None:
        self.by_key.setdefault(_key(config), []).append(seconds)
        self.by_problem.setdefault(config["problem"], []).append(seconds)

    def trial(self, spec: TrialSpec) -> Optional[float]:
        times = self.by_key.get(_spec_key(spec)) or self.by_problem.get(spec.problem)
        return statistics.median(times) if times else None

    def total(self, specs: Sequence[TrialSpec]) -> Tuple[float, int]:
        """Seconds for the trials that can be estimated, and how many cannot."""
        kinds: Dict[Tuple, List[TrialSpec]] = {}
        for spec in specs:
            kinds.setdefault(_spec_key(spec), []).append(spec)
        seconds, unknown = 0.0, 0
        for group in kinds.values():
            estimate = self.trial(group[0])  # one median per kind, not per trial
            if estimate is None:
                unknown += len(group)
            else:
                seconds += estimate * len(group)
        return seconds, unknown


def from_previous_runs(suite_dir: str) -> Estimator:
    records = []  # type: List[TrialRecord]
    if os.path.isdir(suite_dir):
        for name in sorted(os.listdir(suite_dir)):
            try:
                records.extend(store.read_trials(os.path.join(suite_dir, name)))
            except (store.StoreError, OSError):
                continue  # an unreadable old run only weakens the estimate
    return Estimator(records)


def format_duration(seconds: float) -> str:
    if seconds < 0.5:
        return "under 1s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
