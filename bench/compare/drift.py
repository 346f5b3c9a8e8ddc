"""Did the machine move? The drift canary's measurements (bench/canary.py) of two sides, set
side by side: the machine's speed ratio candidate / baseline, with an interval and a verdict.

Each run's manifest holds a list of canary measurements (start and end of each session).
A measurement's parts (``matmul``, ``train``) each carry the per-iteration times of their
repeats. For one side (its runs pooled, as the gate pools a window's seeds):
* a part's level is the median of its per-iteration times over every repeat of every
  measurement; the part's ratio is the candidate's level over the baseline's;
* the canary ratio is the geometric mean of the parts' ratios, so each part weighs the same
  whatever its absolute time (one is 300 microseconds an iteration, the other 150);
* its 95% interval is a two-level percentile bootstrap: measurements resampled within each
  side, then repeats within each measurement. The measurements level carries what moved
  during a run (its start and end disagree), the repeats level what moved within one.

The verdict: **the machine held still** when the ratio is within THRESHOLD of 1; **the
machine moved** when it is off by THRESHOLD or more and its interval excludes 1; **the canary
cannot tell** when it is off by that much but the interval includes 1 (a side's measurements
disagree: the machine moved during a run, or between the runs of a window); **no canary**
where a side's runs lack it (made before optbench measured it, or with ``canary: false``) or the two sides
measured different canary versions. THRESHOLD rests on the canary's A/A spread measured here
(docs/PERFORMANCE.md, "Drift canary").
"""

import enum
import math
import random
import statistics
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

# A ratio this far from 1 is "the machine moved" (when its interval also excludes 1). In 48
# pairs of consecutive A/A runs here the canary ratio was off 1 by at most 4.1% (p95 3.6%), and
# a run's own start and end by 4.3% at the 95th percentile (docs/PERFORMANCE.md, "Drift
# canary"); half the gate's 10% step-time effect, so a move that could cross the gate is told.
THRESHOLD = 0.05
RESAMPLES = 2000  # as the gate's bootstrap (bench.compare.stats)


class DriftError(ValueError):
    """Normalising by the canary asked for where it cannot be done; the message says why."""


class Verdict(enum.Enum):
    MOVED = "the machine moved"
    STILL = "the machine held still"
    UNSURE = "the canary cannot tell"
    NONE = "no canary"


@dataclass(frozen=True)
class Drift:
    verdict: Verdict
    ratio: Optional[float]  # candidate / baseline canary time: above 1, the candidate's machine was slower
    interval: Tuple[float, float]  # bootstrap 95% interval of the ratio
    parts: Tuple[Tuple[str, float], ...]  # each part's own ratio
    measurements: Tuple[int, int]  # canary measurements on each side
    threshold: float
    note: str = ""  # for "no canary": why

    def describe(self) -> str:
        """One line for a reader of the comparison."""
        if self.verdict is Verdict.NONE:
            return (
                f"canary: {self.verdict.value} ({self.note}): machine drift cannot be told from a code change"
            )
        low, high = self.interval
        parts = ", ".join(f"{name} {ratio:.3f}" for name, ratio in self.parts)
        figures = (f"ratio {self.ratio:.3f} [{low:.3f}, {high:.3f}] ({parts}); "
                   f"{self.measurements[0]} against {self.measurements[1]} measurements")  # fmt: skip
        if self.verdict is Verdict.MOVED:
            change = "slower" if self.ratio > 1 else "faster"
            return f"canary: {self.verdict.value}: the candidate's reference workload ran {abs(self.ratio - 1):.1%} {change}; {figures}"  # fmt: skip
        if self.verdict is Verdict.STILL:
            return f"canary: {self.verdict.value} (within {self.threshold:.0%}); {figures}"
        return f"canary: {self.verdict.value}: a side's measurements disagree (the machine moved during a run?); {figures}"

    def as_dict(self) -> Dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "ratio": self.ratio,
            "interval": [None if math.isnan(v) else v for v in self.interval],
            "parts": dict(self.parts),
            "measurements": list(self.measurements),
            "threshold": self.threshold,
            "note": self.note,
        }


def measurements(machines: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every canary measurement of a side's runs (each run's machine dict carries its
    manifest's ``canary`` list; bench.compare.sides)."""
    found = []
    for machine in machines:
        for entry in machine.get("canary") or []:
            if isinstance(entry, dict) and entry.get("parts"):
                found.append(entry)
    return found


def _repeat_medians(entry: Dict[str, Any], part: str) -> List[float]:
    return entry["parts"][part]["repeat_medians_s"]


def speed(entry: Dict[str, Any]) -> float:
    """One measurement as one number: the geometric mean of its parts' median per-iteration
    times (seconds). What ``optbench history`` watches (bench.compare.history_canary)."""
    medians = [entry["parts"][p]["median_s"] for p in sorted(entry["parts"])]
    return math.exp(statistics.fmean(math.log(m) for m in medians))


def _ratio(base: List[Dict[str, Any]], cand: List[Dict[str, Any]], parts: Sequence[str]) -> Dict[str, float]:
    ratios = {}
    for part in parts:
        b = statistics.median([t for e in base for t in _repeat_medians(e, part)])
        c = statistics.median([t for e in cand for t in _repeat_medians(e, part)])
        ratios[part] = c / b
    return ratios


def _combined(ratios: Dict[str, float]) -> float:
    return math.exp(statistics.fmean(math.log(r) for r in ratios.values()))


def _resample(
    entries: List[Dict[str, Any]], parts: Sequence[str], rng: random.Random
) -> List[Dict[str, Any]]:
    """Measurements drawn with replacement, each with its repeats drawn with replacement."""
    drawn = []
    for entry in rng.choices(entries, k=len(entries)):
        drawn.append({"parts": {
            part: {"repeat_medians_s": rng.choices(_repeat_medians(entry, part), k=len(_repeat_medians(entry, part)))}
            for part in parts
        }})  # fmt: skip
    return drawn


def between(baseline_machines: Sequence[Dict[str, Any]], candidate_machines: Sequence[Dict[str, Any]],
            threshold: float = THRESHOLD, seed: int = 0) -> Drift:  # fmt: skip
    """The machine's drift from the baseline's runs to the candidate's."""
    base, cand = measurements(baseline_machines), measurements(candidate_machines)
    counts = (len(base), len(cand))
    missing = [name for name, entries in (("baseline", base), ("candidate", cand)) if not entries]
    if missing:
        note = "none in the {}'s runs".format(" nor the ".join(missing))
        return Drift(Verdict.NONE, None, (math.nan, math.nan), (), counts, threshold, note)
    versions = ({e.get("version") for e in base}, {e.get("version") for e in cand})
    parts = sorted(set.intersection(*(set(e["parts"]) for e in base + cand)))
    if len(versions[0] | versions[1]) > 1 or not parts:
        note = "the sides measured different canary versions: {} (baseline) vs {} (candidate)".format(
            *(", ".join(str(v) for v in sorted(vs, key=str)) for vs in versions)
        )
        return Drift(Verdict.NONE, None, (math.nan, math.nan), (), counts, threshold, note)
    ratios = _ratio(base, cand, parts)
    ratio = _combined(ratios)
    rng = random.Random(seed)  # the same runs give the same interval
    draws = sorted(
        _combined(_ratio(_resample(base, parts, rng), _resample(cand, parts, rng), parts))
        for _ in range(RESAMPLES)
    )
    interval = (draws[int(0.025 * (RESAMPLES - 1))], draws[int(math.ceil(0.975 * (RESAMPLES - 1)))])
    if abs(ratio - 1) < threshold:
        verdict = Verdict.STILL
    elif interval[0] <= 1 <= interval[1]:
        verdict = Verdict.UNSURE  # a large move measured, but not by all of a side's measurements
    else:
        verdict = Verdict.MOVED

    return Drift(verdict, ratio, interval, tuple(sorted(ratios.items())), counts, threshold)


def normalising_ratio(drift: Drift) -> float:
    """The factor the candidate's times are divided by (``--normalise-by-canary``)."""
    if drift.ratio is None:
        raise DriftError(f"--normalise-by-canary: {drift.verdict.value} ({drift.note}); compare without it")
    return drift.ratio
