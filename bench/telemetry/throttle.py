"""Did the hardware slow itself down during a trial? A verdict with its evidence.

Three kinds of evidence, each only where the data exist:
* a clock held below the maximum of the current power mode while under load (on a Jetson the
  devfreq/cpufreq maximum *is* the nvpmodel mode's cap, and the governor raises the clock to
  it under full load, so a lower clock at >= 90% load means something capped it);
* a zone's temperature at or over its passive trip point (where the kernel starts throttling);
* a slowdown-reason mask with a throttling bit set, for sources whose registry entry declares
  one (NVML's clock-event reasons).
No check possible -> None, never a made-up "not throttled".
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from .registry import ReasonBits

LOADED_PCT = 90.0  # "under load": the governor should be at the mode's maximum
CLOCK_SHORTFALL = 0.9  # median clock below 90% of the maximum counts as held down


@dataclass(frozen=True)
class Verdict:
    throttled: Optional[bool]
    evidence: Tuple[str, ...]
    checks: Tuple[str, ...]  # what was looked at, so "False" can be read for what it means


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def clock_evidence(unit: str, loads: Sequence[float], ratios: Sequence[float]) -> Optional[str]:
    """loads[i] (%) and ratios[i] (clock / max) from the same sample."""
    loaded = [r for load, r in zip(loads, ratios) if load >= LOADED_PCT]
    if len(loaded) < 2:
        return None
    held = _median(loaded)
    if held < CLOCK_SHORTFALL:
        return f"{unit} clock at {100 * held:.0f}% of its maximum while >= {LOADED_PCT:.0f}% loaded (median of {len(loaded)} samples)"
    return None


def assess(
    clock_series: Dict[str, Tuple[List[float], List[float]]],
    peak_temps: Dict[str, float],
    trip_points: Dict[str, float],
    reason_masks: Sequence[Tuple[ReasonBits, Sequence[float]]] = (),
) -> Verdict:
    """clock_series: unit -> (loads, ratios); peak_temps/trip_points by zone name;
    reason_masks: (what the bits mean, the masks sampled during the trial) per source."""
    evidence = []
    checks = []
    for unit, (loads, ratios) in sorted(clock_series.items()):
        if ratios:
            checks.append(unit + " clock vs maximum under load")
            found = clock_evidence(unit, loads, ratios)
            if found:
                evidence.append(found)
    lowered = {zone.lower(): trip for zone, trip in trip_points.items()}
    for zone, peak in sorted(peak_temps.items()):
        trip = lowered.get(zone.lower())
        if trip is None:
            continue
        checks.append(f"{zone} temperature vs trip point {trip:.1f} C")
        if peak >= trip:
            evidence.append(f"{zone} reached {peak:.1f} C, at or over its passive trip point {trip:.1f} C")
    for bits, masks in reason_masks:
        if not masks:
            continue
        checks.append(bits.what)
        seen = set()
        for mask in masks:
            seen.update(bits.describe(int(mask)))
        if seen:
            hits = sum(1 for m in masks if bits.describe(int(m)))
            evidence.append(
                "{} reported {} in {} of {} samples".format(
                    bits.label, ", ".join(sorted(seen)), hits, len(masks)
                )
            )
    if evidence:
        return Verdict(True, tuple(evidence), tuple(checks))
    if checks:
        return Verdict(False, (), tuple(checks))
    return Verdict(None, (), ())
