"""Change points in one nightly series: steps (a level that moved and stayed) and slow creep.

A series is one number per night, in night order (the median over seeds of one metric of one
configuration on one machine). Lower is better unless said otherwise.

Steps. ruptures' Pelt proposes breaks; a statistical test keeps only the real ones.
* Cost model ``l2`` (squared deviations from each segment's mean): what moves when code gets
  slower is the level of the series, and night-to-night noise is roughly the same on both
  sides. ``l2``'s cost is in the series' own squared units, so a penalty in units of the
  noise variance means the same thing on every series; ``rbf``'s cost is in kernel units
  (bounded, bandwidth-dependent) and would need its own calibration per series length.
* ``jump=1`` (ruptures' default, 5, would put breaks only on multiples of 5 nights) and
  ``min_size=3``: a new level is proposed once it has held three nights.
* Penalty ``PENALTY_FACTOR * sigma^2 * log(n)``, where ``sigma`` is the series' own
  no-change noise, estimated robustly: the median absolute deviation of the first
  differences, scaled to a standard deviation (x 1.4826) and divided by sqrt(2) (a
  difference of two independent nights has twice the variance of one). A step is one large
  difference and creep shifts every difference alike, so neither inflates the estimate.
* Each proposed break is confirmed by a one-sided Mann-Whitney U test (scipy, exact for
  small samples without ties) between the nights of the segment before and of the segment
  after, in the direction the level moved, at ``alpha`` (0.01); by a minimum effect (5% of
  the level), required of the segments' medians and of the medians of the ``window`` nights
  on either side of the break; and by two flat levels fitting the two segments better than
  one straight line. The last two keep a ramp from being read as a staircase: across a break
  Pelt puts into a creep, neighbouring nights differ by little and a line fits as well. The
  unconfirmed break with the largest p-value is dropped and its neighbours re-tested, until
  every remaining break holds.

Creep. The steps found are taken out (each night after a step divided by its ratio); then
the recent level (median of the last ``window`` nights) is compared with the best level (the
best median of any ``window`` consecutive nights before them). Flagged when it is worse by
the minimum effect and a one-sided Mann-Whitney test of the recent nights against the best
ones holds at ``alpha``. The best window is chosen for being best, so that test alone would
be optimistic; the calibration below measures the whole rule.

Calibration (docs/HISTORY.md gives the script and the other penalties): 60 nights,
Gaussian noise with standard deviation ``noise`` of the level, 1000 series of each kind,
with these defaults (penalty factor 3):

    noise   flat: any flag   10% step at night 40: flagged there (±1)   0.3%/night creep: flagged
    1%      0.0%             100.0%                                       100.0%
    2%      0.2%              99.9%                                       100.0%
    3%      2.4%              96.2%                                        95.7%
    5%      5.9%              78.8%                                        69.1%

Pelt alone proposes a break in 2.9% of flat series at factor 3 (59% at factor 1, where the
false flags at 3% noise double to 4.8%); factor 6 measured alike on flat and step series.
"""

import math
import statistics
from dataclasses import dataclass
from enum import Enum
from typing import List, Optional, Sequence

PENALTY_FACTOR = 3.0
MIN_SIZE = 3
WINDOW = 6
ALPHA = 0.01
MIN_EFFECT = 0.05
# A series with no measurable noise (a deterministic loss) still needs a positive penalty:
# this fraction of its level stands in for sigma.
NOISE_FLOOR = 1e-6
# The fewest nights in which a break can be confirmed at all: a one-sided Mann-Whitney test
# of 4 nights against 5 reaches p = 1/126 = 0.008 < 0.01 when they do not overlap; 4 + 4
# (1/70) and 3 + 5 (1/56) cannot.
MIN_NIGHTS = 9


class Kind(Enum):
    STEP = "step"
    CREEP = "creep"


@dataclass(frozen=True)
class Settings:
    alpha: float = ALPHA
    min_effect: float = MIN_EFFECT  # a fraction of the level
    penalty_factor: float = PENALTY_FACTOR
    min_size: int = MIN_SIZE
    window: int = WINDOW


@dataclass(frozen=True)
class Change:
    """One flagged change. ``index`` is the first night at the new level (a step) or the
    first of the recent nights (creep); ``since`` the first night of the level compared
    against: the segment before a step, or the best nights for creep."""

    kind: Kind
    index: int
    since: int
    level_before: float
    level_after: float
    ratio: float  # a step: after / before; creep: recent / best with the steps since taken out
    p_value: float


def _ratio(before: float, after: float) -> float:
    return after / before if before else math.inf


def noise_sigma(values: Sequence[float]) -> float:
    """Robust standard deviation of the night-to-night noise (see the module docstring)."""
    diffs = [b - a for a, b in zip(values, values[1:])]
    if not diffs:
        return 0.0
    centre = statistics.median(diffs)
    return 1.4826 * statistics.median(abs(d - centre) for d in diffs) / math.sqrt(2)


def candidate_breaks(values: Sequence[float], settings: Settings = Settings()) -> List[int]:
    """Pelt's breaks: the index of the first night of each new segment."""
    import numpy
    import ruptures

    n = len(values)
    if n < 2 * settings.min_size:
        return []
    level = abs(statistics.median(values)) or 1.0
    signal = numpy.asarray(values, dtype=float) / level  # a penalty in the same units
    sigma = max(noise_sigma(list(signal)), NOISE_FLOOR)
    penalty = settings.penalty_factor * sigma**2 * math.log(n)
    algo = ruptures.Pelt(custom_cost=_prefix_l2_cost(), min_size=settings.min_size, jump=1)
    return [b for b in algo.fit(signal).predict(pen=penalty) if b < n]


def _prefix_l2_cost():
    """ruptures' ``l2`` cost (a segment's squared deviations from its mean) from prefix sums.

    Pelt asks for the cost of ~n^2/2 segments; ruptures' own CostL2 computes each with a numpy
    variance (about 10 microseconds a call, 24 ms a 60-night series: 16 s for the 650 series
    of a 1,000-trial suite). Sums of x and x^2 make each call a few float operations. The
    signal is centred first, so the subtraction below loses no precision that matters against
    the penalty (tests/test_history_changepoints.py checks the breaks against ruptures' l2).
    """
    from itertools import accumulate

    from ruptures.base import BaseCost

    class PrefixL2(BaseCost):
        model = "prefix-l2"
        min_size = 1

        def fit(self, signal):
            self.signal = signal  # Pelt.predict reads its length from here
            values = [float(v) for v in signal.reshape(-1)]
            mean = math.fsum(values) / len(values)
            centred = [v - mean for v in values]
            self.sums = [0.0] + list(accumulate(centred))
            self.squares = [0.0] + list(accumulate(v * v for v in centred))
            return self

        def error(self, start, end):
            total = self.sums[end] - self.sums[start]
            # Never below zero, which a variance cannot be (rounding could make it -1e-18).
            return max(self.squares[end] - self.squares[start] - total * total / (end - start), 0.0)

    return PrefixL2()


def _one_sided_p(after: Sequence[float], before: Sequence[float], higher: bool) -> float:
    from scipy.stats import mannwhitneyu

    if len(set(after) | set(before)) == 1:
        return 1.0  # all equal: nothing moved (scipy would warn)
    alternative = "greater" if higher else "less"
    return float(mannwhitneyu(after, before, alternative=alternative).pvalue)


def _sse(values: Sequence[float]) -> float:
    mean = statistics.fmean(values)
    return sum((v - mean) ** 2 for v in values)


def _line_sse(values: Sequence[float]) -> float:
    """Squared residuals of the least-squares straight line through ``values`` (night order)."""
    m = len(values)
    x_mean, y_mean = (m - 1) / 2, statistics.fmean(values)
    sxx = sum((x - x_mean) ** 2 for x in range(m))
    slope = sum((x - x_mean) * (y - y_mean) for x, y in enumerate(values)) / sxx
    return sum((y - y_mean - slope * (x - x_mean)) ** 2 for x, y in enumerate(values))


def _moved(before: float, after: float, min_effect: float) -> bool:
    if before == 0:
        return after != 0
    return abs(after / before - 1.0) >= min_effect


def steps(values: Sequence[float], settings: Settings = Settings()) -> List[Change]:
    """Confirmed steps, in night order."""
    breaks = candidate_breaks(values, settings)
    while True:
        judged = []  # (p-value or None where confirmed, break)
        bounds = [0] + breaks + [len(values)]
        for i, b in enumerate(breaks):
            before, after = values[bounds[i] : b], values[b : bounds[i + 2]]
            level_before, level_after = statistics.median(before), statistics.median(after)
            near_before = values[max(bounds[i], b - settings.window) : b]
            near_after = values[b : min(bounds[i + 2], b + settings.window)]
            p = _one_sided_p(after, before, higher=level_after > level_before)
            held = (
                p < settings.alpha
                and _sse(before) + _sse(after) < _line_sse(before + after)
                and _moved(level_before, level_after, settings.min_effect)
                and _moved(statistics.median(near_before), statistics.median(near_after), settings.min_effect)
            )
            change = Change(
                Kind.STEP, b, bounds[i], level_before, level_after, _ratio(level_before, level_after), p
            )
            judged.append((p, held, change))
        failed = [(p, change.index) for p, held, change in judged if not held]
        if not failed:
            return [change for _, _, change in judged]
        breaks.remove(max(failed)[1])


def creep(
    values: Sequence[float],
    found: Sequence[Change],
    settings: Settings = Settings(),
    higher_is_better: bool = False,
) -> Optional[Change]:
    """Slow creep in the worse direction that the steps ``found`` do not account for; None if none.

    The steps are taken out first (each night after a step divided by its ratio), so that
    the recent nights are compared with the best ones as if no step had happened."""
    k, n = settings.window, len(values)
    if n < 2 * k:
        return None
    adjusted = list(values)
    for step in found:
        if step.level_before and step.level_after and math.isfinite(step.ratio):
            adjusted[step.index :] = [v / step.ratio for v in adjusted[step.index :]]
    recent = adjusted[n - k :]
    windows = [(statistics.median(adjusted[s : s + k]), s) for s in range(0, n - 2 * k + 1)]
    best_level, best_start = max(windows) if higher_is_better else min(windows)
    recent_level = statistics.median(recent)
    worse = recent_level < best_level if higher_is_better else recent_level > best_level
    if not worse or not _moved(best_level, recent_level, settings.min_effect):
        return None
    p = _one_sided_p(recent, adjusted[best_start : best_start + k], higher=not higher_is_better)
    if p >= settings.alpha:
        return None
    # The levels as measured; the ratio without the steps.
    best_raw, recent_raw = (
        statistics.median(values[best_start : best_start + k]),
        statistics.median(values[n - k :]),
    )
    return Change(Kind.CREEP, n - k, best_start, best_raw, recent_raw, _ratio(best_level, recent_level), p)


def changes(
    values: Sequence[float], settings: Settings = Settings(), higher_is_better: bool = False
) -> List[Change]:
    """Every flagged change of one series: its steps, then creep if any."""
    values = [float(v) for v in values]
    found = steps(values, settings)
    crept = creep(values, found, settings, higher_is_better)
    return found + ([crept] if crept else [])
