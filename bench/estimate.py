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
        # Medians kept until their list grows: the run's ETA asks after every trial, and
        # re-sorting every kind's times each time made a long run's display quadratic.
        self._medians: Dict[Tuple, Optional[float]] = {}
        for record in records:
            self.add(record.config, record.wall_time_s)

    def add(self, config: Dict, seconds: float) -> None:
        key = _key(config)
        self.by_key.setdefault(key, []).append(seconds)
        self.by_problem.setdefault(config["problem"], []).append(seconds)
        self._medians.pop(("kind", key), None)
        self._medians.pop(("problem", config["problem"]), None)

    def trial(self, spec: TrialSpec) -> Optional[float]:
        return self.of_kind(_spec_key(spec), spec.problem)

    def of_kind(self, key: Tuple, problem: str) -> Optional[float]:
        """The estimate of a trial of this kind (_spec_key) of ``problem``."""
        if key in self.by_key:
            return self._median(("kind", key), self.by_key[key])
        if problem in self.by_problem:
            return self._median(("problem", problem), self.by_problem[problem])
        return None

    def of_problem(self, problem: str) -> Optional[float]:
        """The median of the earlier trials of ``problem``, whatever their kind."""
        times = self.by_problem.get(problem)
        return self._median(("problem", problem), times) if times else None

    def _median(self, name: Tuple, times: List[float]) -> Optional[float]:
        if name not in self._medians:
            self._medians[name] = statistics.median(times) if times else None
        return self._medians[name]

    def total(self, specs: Sequence[TrialSpec]) -> Tuple[float, int]:
        """Seconds for the trials that can be estimated, and how many cannot."""
        return self.total_of(count_kinds(specs))

    def total_of(self, kinds: Dict[Tuple, Tuple[str, int]]) -> Tuple[float, int]:
        """``total`` of trials counted by kind: {_spec_key: (problem, how many)}."""
        seconds, unknown = 0.0, 0
        for key, (problem, count) in kinds.items():
            estimate = self.of_kind(key, problem)  # one median per kind, not per trial
            if estimate is None:
                unknown += count
            else:
                seconds += estimate * count
        return seconds, unknown


def kind_of_record(config: Dict) -> Tuple:
    """What the estimate of a recorded trial's duration goes by (_KEYS), from its configuration:
    the same key as its spec's, as Estimator.add and Estimator.trial already rely on."""
    return _key(config)


def count_kinds(specs: Sequence[TrialSpec]) -> Dict[Tuple, Tuple[str, int]]:
    """{kind: (problem, how many of ``specs`` are of it)}."""
    kinds = {}  # type: Dict[Tuple, Tuple[str, int]]
    for spec in specs:
        key = _spec_key(spec)
        kinds[key] = (spec.problem, kinds.get(key, (spec.problem, 0))[1] + 1)
    return kinds


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
