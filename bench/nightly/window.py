"""The time window: what runs first, and what waits for the next night.

Order: first the trials whose configuration the baseline comparison needs (all their seeds),
then the rest; within each group the cheapest first, by the estimate from earlier nights
(bench.estimate: the median wall time of past trials of the same kind). Cheapest first gets
the most trials compared in a short window; a trial the estimate cannot price gets the
median of the ones it can (nothing at all on a suite's first night).

The rule, checked just before each trial starts: start it only if the night's clock plus its
estimate stays within the window's end. One that does not fit is deferred and the next is
tried (a cheaper one of the other group may still fit). Deferred trials are not failures:
night.json lists them, and the next night continues the run with them.
"""

import datetime
import statistics
from dataclasses import dataclass
from typing import Callable, FrozenSet, Iterator, List, Optional, Sequence

from bench.estimate import Estimator
from bench.nightly.baseline import match_key
from bench.nightly.night import NightClock
from bench.plan import TrialSpec


@dataclass(frozen=True)
class Planned:
    trial: TrialSpec
    estimate_s: float  # what the window counts for it
    known: bool  # False: no earlier trial to estimate from (estimate_s is a stand-in)
    for_baseline: bool  # the baseline comparison needs its configuration


def order(
    trials: Sequence[TrialSpec], estimator: Estimator, baseline: FrozenSet[str] = frozenset()
) -> List[Planned]:
    estimates = [estimator.trial(t) for t in trials]
    known = [e for e in estimates if e is not None]
    stand_in = statistics.median(known) if known else 0.0
    planned = [
        Planned(t, stand_in if e is None else e, e is not None, match_key(t.config()) in baseline)
        for t, e in zip(trials, estimates)
    ]
    # sorted() is stable: equal estimates keep the suite's own order
    return sorted(planned, key=lambda p: (not p.for_baseline, p.estimate_s))


class Window:
    """Hands the runner its trials one at a time (bench.runner.run_plan's ``schedule``),
    deciding at each whether one more fits before ``end``; records what ran and what waits."""

    def __init__(self, estimator: Estimator, baseline: FrozenSet[str], clock: NightClock,
                 end: Optional[datetime.datetime], on_start: Optional[Callable[[Planned], None]] = None):  # fmt: skip
        self.estimator = estimator
        self.baseline = baseline
        self.clock = clock
        self.end = end
        self.on_start = on_start
        self.started = []  # type: List[Planned]
        self.deferred = []  # type: List[Planned]
        self.ordered = []  # type: List[Planned]

    def fits(self, planned: Planned) -> bool:
        if self.end is None:
            return True
        return self.clock.now() + datetime.timedelta(seconds=planned.estimate_s) <= self.end

    def __call__(self, todo: List[TrialSpec]) -> Iterator[TrialSpec]:
        self.ordered = order(todo, self.estimator, self.baseline)
        for planned in self.ordered:
            if not self.fits(planned):
                self.deferred.append(planned)
                continue
            self.started.append(planned)
            if self.on_start is not None:
                self.on_start(planned)
            yield planned.trial
            # the trial has run (the runner asks for the next one after recording it)
            self.clock.spent(planned.estimate_s)
