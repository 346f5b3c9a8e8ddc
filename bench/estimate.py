"""Duration estimates from earlier runs' trial records (for `plan` and the run's ETA)."""

import os
import statistics
from typing import Dict, Optional, Sequence, Tuple

from bench import store
from bench.plan import TrialSpec
from bench.record import TrialRecord


def _key(problem: str, config: Dict) -> Tuple:
    return (problem, str(config.get("batch")), config.get("implementation"), config.get("device"))


class Estimator:
    """Median wall time of past trials, by (problem, batch, implementation, device), then
    by problem alone; None where nothing comparable has run yet."""

    def __init__(self, records: Sequence[TrialRecord] = ()):
        self.by_key = {}  # type: Dict[Tuple, List[float]]
        self.by_problem = {}  # type: Dict[str, List[float]]
        for record in records:
            self.add(record.config, record.wall_time_s)

    def add(self, config: Dict, seconds: float) -> None:
        problem = config["problem"]
        self.by_key.setdefault(_key(problem, config), []).append(seconds)
        self.by_problem.setdefault(problem, []).append(seconds)

    def trial(self, spec: TrialSpec) -> Optional[float]:
        times = self.by_key.get(_key(spec.problem, spec.config())) or self.by_problem.get(spec.problem)
        return statistics.median(times) if times else None

    def total(self, specs: Sequence[TrialSpec]) -> Tuple[float, int]:
        """Seconds for the trials that can be estimated, and how many cannot."""
        seconds, unknown = 0.0, 0
        for spec in specs:
            estimate = self.trial(spec)
            if estimate is None:
                unknown += 1
            else:
                seconds += estimate
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
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
