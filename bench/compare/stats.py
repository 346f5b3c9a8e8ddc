"""The statistics of the gate: a one-sided rank test, the smallest p it can reach, and a
bootstrap interval for the ratio of medians. Standard library only, exact where it is cheap.

The rank test is Mann-Whitney's U, computed as a permutation test of U over every split of
the pooled samples when there are at most EXACT_SPLITS of them (ties then need no
correction: the permutation distribution carries them), else its normal approximation with
the tie correction. One-sided: "is the candidate larger (worse) than the baseline".
"""

import bisect
import itertools
import math
from typing import List, Sequence, Tuple

import numpy

EXACT_SPLITS = 20000  # C(n1 + n2, n1) up to this: 5 + 5 seeds is 252, 8 + 8 is 12,870
BOOTSTRAP_RESAMPLES = 2000


def _u_statistic(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """Pairs in which the candidate is larger, ties counting one half. By bisection in the
    sorted baseline: per-step samples are hundreds a side, where pairs would be 10^5."""
    ordered = sorted(baseline)
    u = 0.0
    for c in candidate:
        below = bisect.bisect_left(ordered, c)
        u += below + 0.5 * (bisect.bisect_right(ordered, c) - below)
    return u


def splits(n1: int, n2: int) -> int:
    return math.comb(n1 + n2, n1)


def smallest_p(n1: int, n2: int) -> float:
    """The smallest one-sided p-value any data of these sizes can give: 1 / C(n1 + n2, n1).
    Where it exceeds alpha, the test can never say "regressed": the verdict is "insufficient
    data", not a pass."""
    if n1 == 0 or n2 == 0:
        return 1.0
    try:
        return 1.0 / splits(n1, n2)
    except OverflowError:  # C(n1 + n2, n1) beyond a float (e.g. 600 + 600 rounds): p as small as 0
        return 0.0


def p_larger(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """One-sided p-value that the candidate's values are larger than the baseline's."""
    n1, n2 = len(baseline), len(candidate)
    if n1 == 0 or n2 == 0:
        return 1.0
    observed = _u_statistic(baseline, candidate)
    pooled = list(baseline) + list(candidate)
    if splits(n1, n2) <= EXACT_SPLITS:
        at_least = total = 0
        for chosen in itertools.combinations(range(n1 + n2), n2):
            picked = set(chosen)
            cand = [pooled[i] for i in chosen]
            base = [pooled[i] for i in range(n1 + n2) if i not in picked]
            total += 1
            at_least += _u_statistic(base, cand) >= observed - 1e-9
        return at_least / total
    return _normal_p(observed, pooled, n1, n2)


def _normal_p(u: float, pooled: List[float], n1: int, n2: int) -> float:
    n = n1 + n2
    counts = {}  # type: dict
    for value in pooled:
        counts[value] = counts.get(value, 0) + 1
    ties = sum(t**3 - t for t in counts.values())
    variance = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    z = (u - n1 * n2 / 2.0 - 0.5) / math.sqrt(variance)  # continuity correction
    return 0.5 * math.erfc(z / math.sqrt(2))


def ratio_interval(
    baseline: Sequence[float], candidate: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> Tuple[float, float]:
    """Percentile bootstrap interval of median(candidate) / median(baseline); vectorised, as
    per-step samples make each resample hundreds of values."""
    if not baseline or not candidate:
        return math.nan, math.nan
    rng = numpy.random.default_rng(seed)  # the same data gives the same interval

    def medians(values: Sequence[float]) -> "numpy.ndarray":
        values = numpy.asarray(values, dtype=float)
        picks = rng.integers(0, len(values), size=(BOOTSTRAP_RESAMPLES, len(values)))
        return numpy.median(values[picks], axis=1)

    b, c = medians(baseline), medians(candidate)
    with numpy.errstate(divide="ignore", invalid="ignore"):
        ratios = sorted(numpy.where(b != 0, c / numpy.where(b != 0, b, 1.0), math.inf).tolist())
    tail = (1.0 - confidence) / 2.0
    low = ratios[int(math.floor(tail * (len(ratios) - 1)))]
    high = ratios[int(math.ceil((1.0 - tail) * (len(ratios) - 1)))]
    return low, high
