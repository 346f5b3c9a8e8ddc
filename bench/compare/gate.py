"""The gate: for each matched configuration and checked metric, a verdict, then one for all.

A cell regresses only when both hold: a one-sided rank test over its seeds (runs of a window
pooled) says the candidate is worse at alpha, and the candidate's median is worse by at least
the check's minimum effect. Where the samples are too few for the test ever to reach alpha,
the cell is "insufficient data": never a silent pass. Timing and energy leave out trials
whose timing was unstable or that throttled, and say how many.
"""

import enum
import math
import statistics
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench import ranking
from bench.compare import drift, fingerprint, sides, stats
from bench.compare.policy import Check, Policy
from bench.record import TIMING_SHARED


class Verdict(enum.Enum):
    REGRESSED = "regressed"
    IMPROVED = "improved"
    NO_CHANGE = "no change"
    INSUFFICIENT = "insufficient data"
    NOT_COMPARABLE = "not comparable"


# One documented exit code per overall verdict (docs/COMPARE.md); 2 is bad input, as everywhere.
EXIT_CODES = {
    Verdict.NO_CHANGE: 0, Verdict.IMPROVED: 0, Verdict.REGRESSED: 1, Verdict.INSUFFICIENT: 3,
    Verdict.NOT_COMPARABLE: 3,
}  # fmt: skip


# A side that lost more than this share of a cell's trials to unstable timing or throttling ran
# on a busy machine: the trials left are a biased remainder, not a sample (an A/A pair here,
# its candidate run beside other jobs, "regressed" 7% on the 3 of 8 trials left).
BUSY_SHARE = 0.25


@dataclass(frozen=True)
class Cell:
    problem: str
    label: str  # the configuration, shortly
    metric: str
    verdict: Verdict
    baseline_median: Optional[float]
    candidate_median: Optional[float]
    ratio: Optional[float]  # candidate / baseline, as measured (not oriented)
    interval: Tuple[float, float]  # bootstrap 95% interval of the ratio
    p_worse: Optional[float]
    samples: Tuple[int, int]
    excluded: Tuple[int, int]  # trials left out of a time or energy metric: unstable, throttled, timed shared
    larger_is_better: bool = False  # accuracy: its medians are shown as measured
    note: str = ""
    samples_of: str = "seeds"  # or "steps": one trial's step times, where seeds cannot reach alpha
    match: str = ""  # the cell's match key (bench.compare.sides.match_key)


@dataclass(frozen=True)
class Comparison:
    baseline: str
    candidate: str
    verdict: Verdict
    cells: Tuple[Cell, ...]
    not_comparable: Tuple[str, ...]  # what differs between the machines or settings
    unmatched: Tuple[int, int]  # configurations only one side has
    policy: Policy
    notes: Tuple[str, ...] = ()  # what else the reader must know (a --confirm re-run's account)
    canary: Optional[drift.Drift] = None  # did the machine move between the sides (bench.compare.drift)
    normalised_by: Optional[float] = None  # the candidate's times were divided by this canary ratio

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]


def _config_text(match: str) -> str:
    import json

    config = json.loads(match)
    if "benchmark" in config:  # a pytest-benchmark benchmark: its own name says it
        return config["benchmark"]
    parts = [config.get("optimizer", "?"), f"lr={config.get('lr', 0):g}"]
    for key in ("activation", "batch", "dropout", "batch_norm", "implementation"):
        value = config.get(key)
        if value not in (None, "none", "full", 0.0, False, "torch"):
            parts.append(f"{key}={value}")
    return " ".join(parts)


def _timed_alone(rows):
    """Rows whose time and energy figures are their own: not timed beside other trials
    (TrialRecord.timing_shared; a missing column, as in older baselines, is timed alone)."""
    if "timing_shared" not in rows:
        return rows
    return rows[~rows["timing_shared"].isin(TIMING_SHARED)]


def _values(rows, check: Check) -> Tuple[List[float], int, int]:
    """The metric's values over the rows (seeds, and runs of a window), oriented so that
    larger is worse; how many rows were left out for unstable timing or throttling, and how
    many because they were timed beside other trials (a time or energy metric only)."""
    rows = rows[rows["status"] != "skipped"]
    excluded = shared = 0
    if check.metric.kind in ("time", "energy"):
        alone = _timed_alone(rows)
        shared = len(rows) - len(alone)
        rows = alone
        bad = (rows["stability"] == "unstable") | (rows["throttled"] == True)  # noqa: E712 -- None is not True
        excluded = int(bad.sum())
        rows = rows[~bad]
    values = []
    for row in rows.to_dict("records"):
        failed = row["status"] not in ranking.SCORED
        value = row.get(check.metric.column)
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if check.metric.name in ("time_to_target", "steps_to_target") and not failed:
            values.append(math.inf if missing else float(value))  # never reached: slower than any
        elif check.metric.kind == "quality":
            if failed or missing:
                values.append(math.inf)  # a diverged seed is the worst result, not no result
            else:
                values.append(-float(value) if _higher_is_better(check, row) else float(value))
        elif not failed and not missing:
            values.append(float(value))
    return values, excluded, shared


def _step_samples(rows) -> List[float]:
    """The step times of the rows' trials whose timing was judged stable, pooled. A trial of
    under 50 steps is not judged (bench/stability.py): its steps are too few to stand for the
    trial, and a smoke run's 20 steps a trial would otherwise turn machine noise into verdicts."""
    steady = (rows["stability"] == "stable") & (rows["throttled"] != True)  # noqa: E712 -- None is not True
    kept = _timed_alone(rows[rows["status"].isin(ranking.SCORED) & steady])
    pooled = []  # type: List[float]
    for times in kept["step_times_s"]:
        if isinstance(times, list):
            pooled.extend(times)
    return pooled


def _higher_is_better(check: Check, row: Dict[str, Any]) -> bool:
    return check.metric.name == "final_metric" and ranking.higher_is_better(row["target"] or {})


def _median(values: List[float]) -> Optional[float]:
    return statistics.median(values) if values else None


def _shared_note(base_shared: int, cand_shared: int) -> str:
    if not (base_shared or cand_shared):
        return ""
    counts = ((base_shared, "baseline"), (cand_shared, "candidate"))
    return "; left out, timed beside other trials (parallel jobs or a vectorised batch): " + ", ".join(
        f"{n} {side}" for n, side in counts if n
    )


def judge_cell(
    base_rows, cand_rows, check: Check, alpha: float, match: str = "", time_scale: Optional[float] = None
) -> Cell:
    """``time_scale``: divide the candidate's time values by it (--normalise-by-canary)."""
    base, base_out, base_shared = _values(base_rows, check)
    cand, cand_out, cand_shared = _values(cand_rows, check)
    if time_scale and check.metric.kind == "time":
        cand = [v / time_scale for v in cand]
    problem = str(base_rows["problem"].iloc[0])
    label = _config_text(str(base_rows["configuration"].iloc[0]))
    sign = -1.0 if _higher_is_better(check, base_rows.iloc[0]) else 1.0  # undo the orientation to show
    b_med, c_med = _median(base), _median(cand)
    shown = (None if b_med is None else sign * b_med, None if c_med is None else sign * c_med)
    common = dict(problem=problem, label=label, metric=check.metric.name, baseline_median=shown[0],
                  candidate_median=shown[1], samples=(len(base), len(cand)), excluded=(base_out + base_shared, cand_out + cand_shared),
                  larger_is_better=sign < 0, match=match)  # fmt: skip
    busy = [name for name, out, kept in (("baseline", base_out, base), ("candidate", cand_out, cand))
            if out > BUSY_SHARE * (out + len(kept))]  # fmt: skip
    if busy:
        note = "the machine was busy during the {}: {} of the trials timed unstable or throttled".format(
            " and the ".join(busy),
            " and ".join(f"{o} of {o + len(k)}" for o, k in ((base_out, base), (cand_out, cand))),
        ) + _shared_note(base_shared, cand_shared)
        return Cell(verdict=Verdict.INSUFFICIENT, ratio=None, interval=(math.nan, math.nan), p_worse=None, note=note, **common)  # fmt: skip
    if stats.smallest_p(len(base), len(cand)) > alpha and check.metric.name == "step_time":
        base_steps, cand_steps = _step_samples(base_rows), _step_samples(cand_rows)
        if time_scale:
            cand_steps = [v / time_scale for v in cand_steps]
        if stats.smallest_p(len(base_steps), len(cand_steps)) <= alpha:
            # Too few seeds for the test: the trials' own steps are the samples instead. They see
            # only the noise within each run, not the drift between runs; the minimum effect
            # (set above that drift, docs/PERFORMANCE.md) is what guards against it.
            base, cand = base_steps, cand_steps
            b_med, c_med = _median(base), _median(cand)
            shown = (b_med, c_med)
            common.update(baseline_median=b_med, candidate_median=c_med, samples=(len(base), len(cand)),
                          samples_of="steps")  # fmt: skip
    if stats.smallest_p(len(base), len(cand)) > alpha:
        note = f"{len(base)} against {len(cand)} values: the test cannot reach alpha {alpha:g} (at best p = {stats.smallest_p(len(base), len(cand)):.2g})"
        note += _shared_note(base_shared, cand_shared)
        return Cell(verdict=Verdict.INSUFFICIENT, ratio=None, interval=(math.nan, math.nan), p_worse=None, note=note, **common)  # fmt: skip
    finite = all(math.isfinite(v) for v in base + cand)
    ratio = (shown[1] / shown[0]) if finite and shown[0] else None
    interval = (
        stats.ratio_interval([sign * v for v in base], [sign * v for v in cand])
        if finite
        else (math.nan, math.nan)
    )
    p_worse = stats.p_larger(base, cand)
    p_better = stats.p_larger(cand, base)
    worse_by = _worse_by(b_med, c_med)
    verdict = Verdict.NO_CHANGE
    if p_worse <= alpha and worse_by >= check.min_effect:
        verdict = Verdict.REGRESSED
    elif p_better <= alpha and -worse_by >= check.min_effect:
        verdict = Verdict.IMPROVED
    return Cell(verdict=verdict, ratio=ratio, interval=interval, p_worse=p_worse, **common)


def _worse_by(base: float, cand: float) -> float:
    """The candidate's relative change in the bad direction (values oriented: larger is worse)."""
    if base == cand:
        return 0.0
    if math.isinf(cand) and not math.isinf(base):
        return math.inf
    if math.isinf(base) and not math.isinf(cand):
        return -math.inf
    if base == 0:
        return math.inf if cand > base else -math.inf
    return (cand - base) / abs(base)


def compare(
    baseline: sides.Side, candidate: sides.Side, policy: Policy, normalise_by_canary: bool = False
) -> Comparison:
    """``normalise_by_canary``: divide the candidate's time metrics by the canary ratio before
    the test (drift.DriftError where a side has no canary)."""
    canary = drift.between(baseline.machines, candidate.machines)
    scale = drift.normalising_ratio(canary) if normalise_by_canary else None
    differing = fingerprint.differences(baseline.machines, candidate.machines, policy.allow_different)
    differing += fingerprint.setting_differences(baseline.trials, candidate.trials, policy.allow_different)
    base_trials = baseline.trials.assign(
        match=[sides.match_key(c, policy.ignore) for c in baseline.trials["configuration"]]
    )
    cand_trials = candidate.trials.assign(
        match=[sides.match_key(c, policy.ignore) for c in candidate.trials["configuration"]]
    )
    base_groups = {k: g for k, g in base_trials.groupby("match", sort=False)}
    cand_groups = {k: g for k, g in cand_trials.groupby("match", sort=False)}
    matched = [k for k in base_groups if k in cand_groups]
    unmatched = (len(set(base_groups) - set(cand_groups)), len(set(cand_groups) - set(base_groups)))
    cells = []
    if not differing:
        for key in matched:
            for check in _measured(policy.checks, baseline, candidate):
                cell = judge_cell(base_groups[key], cand_groups[key], check, policy.alpha, key, scale)
                if cell.samples != (
                    0,
                    0,
                ):  # a metric neither side measured (energy without power) is not a cell
                    cells.append(cell)
    verdict = overall(cells, differing, missing=unmatched[0])
    return Comparison(
        baseline.label, candidate.label, verdict, tuple(cells), tuple(differing), unmatched, policy,
        canary=canary, normalised_by=scale,
    )  # fmt: skip


def _measured(checks, baseline: sides.Side, candidate: sides.Side) -> List[Check]:
    """The checks both sides measure: a step benchmark has no loss, target or memory."""
    return [c for c in checks
            if all(not side.only_metrics or c.metric.name in side.only_metrics for side in (baseline, candidate))]  # fmt: skip


def overall(cells: Sequence[Cell], differing: Sequence[str], missing: int) -> Verdict:
    """``missing``: baseline configurations the candidate did not run (new ones it ran are
    simply not compared)."""
    if differing:
        return Verdict.NOT_COMPARABLE
    verdicts = {c.verdict for c in cells}
    if Verdict.REGRESSED in verdicts:
        return Verdict.REGRESSED
    if not cells or missing or Verdict.INSUFFICIENT in verdicts:
        return Verdict.INSUFFICIENT  # what could not be checked is not a pass
    return Verdict.IMPROVED if Verdict.IMPROVED in verdicts else Verdict.NO_CHANGE
