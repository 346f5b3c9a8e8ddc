"""Per-trial figures from the samples in [train_start, train_end]: a JSON-able dict.

Every figure is a flat key (``energy_j``, ``power_peak_w``, ...). ``source[key]`` names where
it came from; a figure that could not be measured is None and ``unmeasured[key]`` says why.
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from . import energy
from .registry import SourceSpec
from .samples import Gap, SampleStore
from .throttle import assess

# A power figure is refused when more of the trial than this lacks samples (source lost,
# trial outside the sampled span): max(one interval, this fraction of the trial).
MAX_UNCOVERED_FRACTION = 0.1


@dataclass(frozen=True)
class ActiveSource:
    name: str
    interval_s: float
    power_scope: Optional[str]
    trip_points_c: Dict[str, float]
    spec: SourceSpec  # what the registry says it measures


@dataclass(frozen=True)
class IdleBaseline:
    source: str
    power_w: float
    duration_s: float
    samples: int

    def to_json(self) -> Dict[str, Any]:
        return {
            "source": self.source,
            "power_w": self.power_w,
            "duration_s": self.duration_s,
            "samples": self.samples,
        }


def gap_seconds(gaps: Sequence[Gap], source: str, t0: float, t1: float, now: float) -> float:
    return sum(g.overlap(t0, t1, now) for g in gaps if g.source == source)


def source_energy(
    store: SampleStore, src: ActiveSource, t0: float, t1: float, gaps: Sequence[Gap], now: float
) -> Optional[Dict[str, Any]]:
    """Energy, mean and peak power of one source over [t0, t1]; None if it has no power data.

    A cumulative counter (RAPL, NVML) beats integrating sampled power: it misses nothing
    between samples. Otherwise the trapezoid rule over the instantaneous power samples.
    """
    times, counter = store.window(src.name, "energy_j.total", t0, t1, margin=1)
    if times:
        result = energy.counter_difference(times, counter, t0, t1)
        steps = [
            (counter[i + 1] - counter[i]) / (times[i + 1] - times[i])
            for i in range(len(times) - 1)
            if times[i + 1] > times[i] and t0 <= times[i + 1] and times[i] <= t1
        ]
        peak = max(steps) if steps else None
        method = f"energy counter difference, sampled every {src.interval_s} s"
    else:
        times, power = store.window(src.name, "power_w.total", t0, t1, margin=1)
        if not times:
            return None
        result = energy.trapezoid(times, power, t0, t1)
        peak = energy.peak(times, power, t0, t1)
        method = f"trapezoid over power sampled every {src.interval_s} s"
    figures = {
        "energy_j": None,
        "power_mean_w": None,
        "power_peak_w": peak,
        "scope": src.power_scope,
        "method": method,
        "reason": None,
    }  # type: Dict[str, Any]
    duration = t1 - t0
    uncovered = result.extrapolated_s + gap_seconds(gaps, src.name, t0, t1, now)
    if result.longest_step_s > 3 * src.interval_s:  # samples stopped without a recorded gap
        uncovered += result.longest_step_s
    # A recorded gap is also a long step between samples (and an extrapolated edge): counted
    # twice, it could exceed the trial itself, which the reason below would then misstate.
    uncovered = min(uncovered, duration)
    allowed = max(src.interval_s, MAX_UNCOVERED_FRACTION * duration)
    if uncovered > allowed:
        figures["reason"] = (
            f"{src.name} had no power samples for {uncovered:.2f} s of the {duration:.2f} s trial"
        )
        return figures
    figures["energy_j"] = result.value
    figures["power_mean_w"] = result.mean
    return figures


def _zone_temperatures(store, sources, t0, t1):
    peaks, means, where = {}, {}, {}
    for src in sources:
        for name in store.names(src.name, "temp_c."):
            zone = name[len("temp_c.") :]
            if zone in peaks:
                continue  # an earlier (more board-specific) source already gave this zone
            times, values = store.window(src.name, name, t0, t1, margin=1)
            if not times:
                continue
            integral = energy.trapezoid(times, values, t0, t1)
            peaks[zone] = _peak_near(times, values, t0, t1)
            edges = [energy.interpolate(times, values, t0)]
            means[zone] = integral.mean if integral.mean is not None else edges[0]
            where[zone] = src.name
    return peaks, means, where


def _peak_of(store, sources, name, t0, t1):
    """(peak, source) of the first source with samples of ``name`` around the trial."""
    for src in sources:
        times, values = store.window(src.name, name, t0, t1, margin=1)
        if times:
            return _peak_near(times, values, t0, t1), src
    return None, None


def _peak_near(times, values, t0, t1):
    """Largest sample inside [t0, t1]; for a trial shorter than the interval, the larger of
    the samples either side of it (an upper bound, not an interpolation)."""
    inside = energy.values_between(times, values, t0, t1)
    return max(inside) if inside else max(values)


def _clock_series(store, sources, t0, t1):
    """unit -> (loads, clock/max ratios), aligned on sample time, from the first source."""
    series = {}
    for src in sources:
        if "GPU" not in series:
            lt, lv = store.window(src.name, "gpu_load_pct", t0, t1)
            ft, fv = store.window(src.name, "gpu_freq_mhz", t0, t1)
            mt, mv = store.window(src.name, "gpu_freq_max_mhz", t0, t1)
            load, cap = dict(zip(lt, lv)), dict(zip(mt, mv))
            pairs = [(load[t], f / cap[t]) for t, f in zip(ft, fv) if t in load and cap.get(t)]
            if pairs:
                series["GPU"] = ([p[0] for p in pairs], [p[1] for p in pairs])
        if "CPU" not in series:
            lt, lv = store.window(src.name, "cpu_load_pct", t0, t1)
            rt, rv = store.window(src.name, "cpu_freq_ratio", t0, t1)
            load = dict(zip(lt, lv))
            pairs = [(load[t], r) for t, r in zip(rt, rv) if t in load]
            if pairs:
                series["CPU"] = ([p[0] for p in pairs], [p[1] for p in pairs])
    return series


def trial_figures(
    store: SampleStore,
    sources: List[ActiveSource],
    t0: float,
    t1: float,
    idle: Optional[IdleBaseline],
    now: float,
) -> Dict[str, Any]:
    gaps = store.gaps()
    out = {
        "window_s": t1 - t0,
        # On telemetry.csv's clock: where this trial lies among the run's samples.
        "window_start_s": t0,
        "window_end_s": t1,
        "sources": [s.name for s in sources],
        "samples": {s.name: store.sample_count(s.name, t0, t1) for s in sources},
        "energy_j": None,
        "energy_above_idle_j": None,
        "power_mean_w": None,
        "power_peak_w": None,
        "idle_power_w": idle.power_w if idle else None,
        "energy_by_source": {},
        "temp_peak_c": {},
        "temp_mean_c": {},
        "throttled": None,
        "throttle_evidence": [],
        "throttle_checks": [],
        "rss_peak_bytes": None,
        "ram_used_peak_bytes": None,
        "swap_used_peak_bytes": None,
        "gpu_shared_peak_bytes": None,
        "gpu_mem_used_peak_bytes": None,
        "source": {},
        "unmeasured": {},
        "gaps": [],
    }  # type: Dict[str, Any]
    source_notes, unmeasured = out["source"], out["unmeasured"]
    if not sources:
        reason = "no telemetry source active"
        for key in ("energy_j", "power_mean_w", "throttled", "rss_peak_bytes"):
            unmeasured[key] = reason
        return out

    # -- energy and power: the first source (in registry order) with power data names it
    headline = None
    for src in sources:
        figures = source_energy(store, src, t0, t1, gaps, now)
        if figures is None:
            continue
        out["energy_by_source"][src.name] = figures
        if headline is None:
            headline = (src, figures)
    if headline is None:
        for key in ("energy_j", "power_mean_w", "power_peak_w", "energy_above_idle_j"):
            unmeasured[key] = "no active source measures power ({})".format(
                ", ".join(s.name for s in sources)
            )
    else:
        src, figures = headline
        for key in ("energy_j", "power_mean_w", "power_peak_w"):
            out[key] = figures[key]
            source_notes[key] = "{}: {}; {}".format(src.name, figures["scope"], figures["method"])
            if figures[key] is None:
                unmeasured[key] = figures["reason"] or "no power sample inside the trial"
        if out["energy_j"] is None:
            unmeasured["energy_above_idle_j"] = unmeasured["energy_j"]
        elif idle is None:
            unmeasured["energy_above_idle_j"] = "no idle baseline measured (idle_baseline_s is 0)"
        elif idle.source != src.name:
            unmeasured["energy_above_idle_j"] = f"idle baseline came from {idle.source}, not {src.name}"
        else:
            out["energy_above_idle_j"] = out["energy_j"] - idle.power_w * (t1 - t0)
            source_notes["energy_above_idle_j"] = (
                f"energy_j minus {idle.power_w:.3f} W idle x {t1 - t0:.3f} s"
            )

    # -- temperatures and throttling
    peaks, means, where = _zone_temperatures(store, sources, t0, t1)
    out["temp_peak_c"], out["temp_mean_c"] = peaks, means
    if where:
        source_notes["temp_c"] = where
    else:
        unmeasured["temp_c"] = "no active source reads temperatures"
    trips = {}
    for src in reversed(sources):  # earlier sources win
        trips.update(src.trip_points_c)
    reasons = []
    for src in sources:
        bits = src.spec.reason_bits
        if bits is not None:
            reasons.append((bits, store.window(src.name, bits.reading, t0, t1)[1]))
    verdict = assess(_clock_series(store, sources, t0, t1), peaks, trips, reasons)
    out["throttled"] = verdict.throttled
    out["throttle_evidence"] = list(verdict.evidence)
    out["throttle_checks"] = list(verdict.checks)
    if verdict.throttled is None:
        able = [
            "{} ({})".format(s.name, ", ".join(s.spec.throttle_evidence))
            for s in sources
            if s.spec.throttle_evidence
        ]
        if able:
            unmeasured["throttled"] = "no throttle data during the trial from " + "; ".join(able)
        else:
            unmeasured["throttled"] = "no active source gives throttle evidence ({})".format(
                ", ".join(s.name for s in sources)
            )

    # -- memory
    for key, name, note in (
        ("rss_peak_bytes", "rss_bytes", "RSS of this process and its children, sampled"),
        ("ram_used_peak_bytes", "ram_used_bytes", "system RAM in use"),
        ("swap_used_peak_bytes", "swap_used_bytes", "swap in use"),
        ("gpu_shared_peak_bytes", "gpu_shared_bytes", "GPU share of system RAM (jtop)"),
        ("gpu_mem_used_peak_bytes", "gpu_mem_used_bytes", "GPU memory in use, all processes"),
    ):
        value, src = _peak_of(store, sources, name, t0, t1)
        out[key] = value
        if src is not None:
            extra = " (CPU and GPU share it)" if src.spec.shared_memory else ""
            source_notes[key] = f"{src.name}: {note}{extra}, every {src.interval_s} s"
        else:
            unmeasured[key] = "no active source reports " + name

    out["gaps"] = [
        dict(g.to_json(), overlap_s=g.overlap(t0, t1, now))
        for g in gaps
        if g.overlap(t0, t1, now) > 0 or (g.end_s is None and g.start_s <= t1)
    ]
    return out
