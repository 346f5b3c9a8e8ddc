"""Energy from sampled power (trapezoid rule) or from a cumulative counter, over [t0, t1].

Power is treated as piecewise linear through its samples: the value at a window edge is
interpolated between the samples either side of it, so a trial shorter than the sampling
interval still gets an estimate from its neighbours. Before the first or after the last
sample the nearest value is held, and that stretch is reported as ``extrapolated_s`` so the
caller can refuse a figure that rests on too little.
"""

import bisect
from dataclasses import dataclass
from typing import List, Optional, Sequence


@dataclass(frozen=True)
class Integral:
    value: float  # joules when the samples are watts
    duration_s: float
    extrapolated_s: float  # time in the window before the first / after the last sample
    longest_step_s: float  # widest spacing between samples that the window relies on
    samples_inside: int

    @property
    def mean(self) -> Optional[float]:
        return self.value / self.duration_s if self.duration_s > 0 else None


def interpolate(times: Sequence[float], values: Sequence[float], t: float) -> float:
    if t <= times[0]:
        return values[0]
    if t >= times[-1]:
        return values[-1]
    i = bisect.bisect_right(times, t)
    ta, tb = times[i - 1], times[i]
    va, vb = values[i - 1], values[i]
    if tb == ta:
        return vb
    return va + (vb - va) * (t - ta) / (tb - ta)


def _coverage(times: Sequence[float], t0: float, t1: float):
    extrapolated = max(0.0, min(times[0], t1) - t0) + max(0.0, t1 - max(times[-1], t0))
    longest = 0.0
    for a, b in zip(times, times[1:]):
        if b > t0 and a < t1:  # this step spans part of the window
            longest = max(longest, b - a)
    inside = sum(1 for t in times if t0 <= t <= t1)
    return extrapolated, longest, inside


def trapezoid(times: Sequence[float], values: Sequence[float], t0: float, t1: float) -> Optional[Integral]:
    """Integral of the sampled signal over [t0, t1]; None with no samples or t1 < t0."""
    if not times or t1 < t0:
        return None
    points = [(t0, interpolate(times, values, t0))]
    points.extend((t, v) for t, v in zip(times, values) if t0 < t < t1)
    points.append((t1, interpolate(times, values, t1)))
    area = 0.0
    for (ta, va), (tb, vb) in zip(points, points[1:]):
        area += (tb - ta) * (va + vb) / 2.0
    extrapolated, longest, inside = _coverage(times, t0, t1)
    return Integral(area, t1 - t0, extrapolated, longest, inside)


def counter_difference(
    times: Sequence[float], cumulative: Sequence[float], t0: float, t1: float
) -> Optional[Integral]:
    """Energy from a cumulative counter (already unwrapped): E(t1) - E(t0), interpolated."""
    if not times or t1 < t0:
        return None
    value = interpolate(times, cumulative, t1) - interpolate(times, cumulative, t0)
    extrapolated, longest, inside = _coverage(times, t0, t1)
    return Integral(value, t1 - t0, extrapolated, longest, inside)


def unwrap_counter(previous_raw: int, raw: int, max_range: int) -> int:
    """Increase of a wrapping counter (RAPL energy_uj wraps at max_energy_range_uj)."""
    delta = raw - previous_raw
    if delta < 0:
        delta += max_range
    return delta


def peak(times: Sequence[float], values: Sequence[float], t0: float, t1: float) -> Optional[float]:
    inside = [v for t, v in zip(times, values) if t0 <= t <= t1]
    return max(inside) if inside else None


def mean_of_samples(times: Sequence[float], values: Sequence[float], t0: float, t1: float) -> Optional[float]:
    inside = [v for t, v in zip(times, values) if t0 <= t <= t1]
    return sum(inside) / len(inside) if inside else None


def values_between(times: Sequence[float], values: Sequence[float], t0: float, t1: float) -> List:
    return [v for t, v in zip(times, values) if t0 <= t <= t1]
