"""The stability verdict: can this trial's timing be compared with another's?

Judged from the trial's own step times, as torch.utils.benchmark and pyperf warn about their
measurements. Two things go wrong on a small, shared machine:
* the steps themselves spread widely (interquartile range over median above SPREAD_LIMIT),
  so one median step time stands for little;
* the median step is steady but the training time is far above median x steps
  (TAIL_LIMIT): a few steps stalled for a long time (the scheduler ran someone else), and
  every sum -- training time, time to target, energy -- carries those stalls.
The limits are set from A/A runs on this project's 2-core machines (docs/PERFORMANCE.md,
"Stability verdict", `benchmarks/bench_threads_under_load.py`): on an idle machine no trial
of 200 steps crossed them (0 of 240; spread at most 0.13, tail ratio at most 1.15), while
with one core kept busy 60% of 2-thread trials did. Trials under MIN_SAMPLES steps are not
judged: at 20 steps an idle machine's own spread reached 0.78 and its tail ratio 1.41 (99th
percentiles; warm-up steps and the loop's fixed costs weigh on so few), so a verdict there
would be a coin toss.
"""

import statistics
from typing import Optional, Sequence, Tuple

from bench.record import Stability

MIN_SAMPLES = 50  # fewer timed steps than this are not judged (see above)
SPREAD_LIMIT = 0.25  # IQR / median of the step times
TAIL_LIMIT = 1.5  # training time / (median step time x steps)


def step_time_summary(step_times: Sequence[float]) -> Tuple[Optional[float], Optional[float]]:
    """(median, interquartile range) of the step times; the IQR needs four of them."""
    times = sorted(step_times)
    if not times:
        return None, None
    iqr = times[(3 * len(times)) // 4] - times[len(times) // 4] if len(times) >= 4 else None
    return statistics.median(times), iqr


def judge(
    median: Optional[float], iqr: Optional[float], samples: int, train_time_s: Optional[float]
) -> Tuple[Stability, Optional[str]]:
    """The verdict and, unless stable, why."""
    if samples < MIN_SAMPLES or not median or iqr is None:
        return Stability.UNKNOWN, f"{samples} timed steps; at least {MIN_SAMPLES} are needed to judge"
    reasons = []
    spread = iqr / median
    if spread > SPREAD_LIMIT:
        reasons.append(f"step times spread {spread:.0%} (IQR over median; limit {SPREAD_LIMIT:.0%})")
    if train_time_s is not None:
        tail = train_time_s / (median * samples)
        if tail > TAIL_LIMIT:
            reasons.append(
                f"training took {tail:.2g}x median step x steps (limit {TAIL_LIMIT:g}x): stalls dominate the sums"
            )
    if reasons:
        return Stability.UNSTABLE, "; ".join(reasons)
    return Stability.STABLE, None
