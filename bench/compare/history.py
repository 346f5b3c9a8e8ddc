"""The history of a suite's nights: one series per (metric, configuration, machine), and the
changes in each (bench.compare.changepoints).

Every run of a suite (``results/<suite>/<run-id>/`` with a manifest) is a night, ordered by
its manifest's ``started_at``. A series value is the median over the configuration's seeds
in that run. Time and energy metrics leave out nights that cannot speak for the code: where
a seed's trial was throttled (its telemetry says so), where a seed's timing was unstable
(bench.stability), and where the power mode (the manifest's ``telemetry.nvpmodel``) differs
from the series' most common one. Quality metrics (final loss) are not clock-dependent and
keep every night. Each left-out night is counted, by reason, in the changes' rows.

The drift canary (bench/canary.py) is a series of its own per machine: metric ``canary``,
a night's value the run's canary level; a step in a time metric that coincides with a canary
step in the same direction is marked ``machine_moved`` (bench.compare.history_canary).
"""

import json
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench import store
from bench.analysis import require_pandas
from bench.analysis.choice import LABEL_AXES
from bench.compare import changepoints, night_cache
from bench.compare.history_canary import CANARY, canary_nights, mark_machine_moved


class HistoryError(Exception):
    """Input that history cannot read: the message names the path and why."""


@dataclass(frozen=True)
class Metric:
    name: str
    column: str  # in bench.analysis.load's trials frame
    clocked: bool  # a time or energy: subject to the throttled / unstable / power-mode exclusions
    higher_is_better: bool = False


METRICS = {
    m.name: m
    for m in (
        Metric("step_time", "step_time_median_s", True),
        Metric("train_time", "train_time_s", True),
        Metric("time_to_target", "time_to_target_s", True),
        Metric("final_loss", "final_loss", False),
        Metric("energy", "energy_train_j", True),  # only where the machine measured power
        # From the runs' manifests, not their trials: the reference workload's time (bench/canary.py).
        Metric(CANARY, "", True),
    )
}
DEFAULT_METRICS = tuple(METRICS)
# What load_series reads of a night's trials (and all night_cache keeps of them).
TRIAL_COLUMNS = (
    ["status", "configuration", "problem", "optimizer", "lr", "throttled", "stability", "timing_shared"]
    + LABEL_AXES
    + [m.column for m in METRICS.values() if m.column]  # the canary is read from the manifests
)

# Why a night is left out of a time or energy series, in the order they are checked.
# SHARED: the configuration's trials were timed beside others (parallel jobs, a vectorised
# batch; TrialRecord.timing_shared): their times are not their own.
POWER_MODE, THROTTLED, SHARED, UNSTABLE = "power_mode", "throttled", "timing_shared", "unstable"
REASONS = (POWER_MODE, THROTTLED, SHARED, UNSTABLE)

SERIES_KEY = ["suite", "metric", "configuration_key", "machine"]
# configuration_key (bench.ranking's) names the series exactly: two configurations can share
# a label (the label shows only the axes the suite varies).
CHANGE_COLUMNS = [
    "suite", "metric", "configuration", "configuration_key", "machine", "kind", "night", "since_night", "run_before", "run_after",
    "commit_before", "commit_after", "level_before", "level_after", "ratio", "p_value", "regression", "nights",
    "excluded_power_mode", "excluded_throttled", "excluded_timing_shared", "excluded_unstable", "machine_moved", "canary_ratio",
]  # fmt: skip


def find_runs(
    results_dir: str, suite: Optional[str] = None, until: Optional[str] = None
) -> Dict[str, List[Tuple[str, Dict[str, Any]]]]:
    """Per suite, its runs as (run directory, manifest), in the order they started.

    ``results_dir`` is a results directory (``<suite>/<run-id>/`` below it) or one suite's
    directory (run directories right below it). ``until``: a run directory; the runs that
    started after it are left out, as if they had not happened yet."""
    if not os.path.isdir(results_dir):
        raise HistoryError(f"{results_dir}: not a directory")

    def runs_in(suite_dir: str) -> List[Tuple[str, Dict[str, Any]]]:
        found = []
        for name in sorted(os.listdir(suite_dir)):
            run_dir = os.path.join(suite_dir, name)
            if os.path.isfile(os.path.join(run_dir, store.MANIFEST)):
                try:
                    found.append((run_dir, store.read_manifest(run_dir)))
                except store.StoreError as error:
                    raise HistoryError(str(error)) from None
        # ISO 8601 times in UTC sort as text; the directory name breaks ties.
        return sorted(found, key=lambda run: (str(run[1].get("started_at") or ""), os.path.basename(run[0])))

    direct = runs_in(results_dir)
    if direct:  # a suite's own directory
        suites = {}  # type: Dict[str, List[Tuple[str, Dict[str, Any]]]]
        for run_dir, manifest in direct:
            suites.setdefault(str(manifest.get("suite")), []).append((run_dir, manifest))
    else:
        names = sorted(n for n in os.listdir(results_dir) if os.path.isdir(os.path.join(results_dir, n)))
        suites = {name: runs_in(os.path.join(results_dir, name)) for name in names}
    suites = {name: runs for name, runs in suites.items() if runs}
    if suite is not None:
        if suite not in suites:
            known = ", ".join(sorted(suites)) or "none"
            raise HistoryError(f"{results_dir}: no runs of suite {suite!r} (suites with runs: {known})")
        suites = {suite: suites[suite]}
    if not suites:
        raise HistoryError(f"{results_dir}: no runs (no <suite>/<run-id>/manifest.json below it)")
    if until is not None:
        suites = {name: runs_until(runs, until) for name, runs in suites.items()}
    return suites


def runs_until(runs: List[Tuple[str, Dict[str, Any]]], until: str) -> List[Tuple[str, Dict[str, Any]]]:
    """``runs`` (as find_runs orders them) up to and including the run directory ``until``;
    all of them when ``until`` is not among them."""
    target = os.path.realpath(until)
    for position, (run_dir, _) in enumerate(runs):
        if os.path.realpath(run_dir) == target:
            return runs[: position + 1]
    return runs


def machine_label(manifest: Dict[str, Any]) -> str:
    """The machine a run ran on: host, board (or CPU) and core count. Software versions are
    not part of it: a new torch is one of the things history is there to catch."""
    env = manifest.get("environment") or {}
    gpus = env.get("gpus") or []
    gpu = ", ".join(sorted(str(g.get("name") if isinstance(g, dict) else g) for g in gpus))
    parts = [str(env.get("host")), str(env.get("board") or env.get("cpu")), f"{env.get('cpu_count')} cores"]
    return " / ".join(parts + ([gpu] if gpu else []))


def power_mode(manifest: Dict[str, Any]) -> Optional[str]:
    mode = (manifest.get("telemetry") or {}).get("nvpmodel")
    if isinstance(mode, dict):
        return str(mode.get("name") or mode.get("id"))
    return None if mode is None else str(mode)


def _label(row, axes: Sequence[str]) -> str:
    extra = "".join(f", {axis} {row[axis]}" for axis in axes)
    return f"{row['problem']} {row['optimizer']} lr {row['lr']:g}{extra}"


def load_series(
    results_dir: str,
    suite: Optional[str] = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    until: Optional[str] = None,
):
    """The tidy series frame: one row per (suite, metric, configuration, machine, night) with
    ``value`` (median over seeds), ``run_id``, ``git_commit``, ``started_at``, ``power_mode``
    and ``excluded`` (a reason from REASONS, or None).

    ``until``: as find_runs takes it (the report of an older run shows the history up to that
    run, and later nights do not decide its power-mode majority)."""
    pd = require_pandas()
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise HistoryError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join(METRICS)}")
    frames = []
    for suite_name, runs in find_runs(results_dir, suite, until).items():
        if CANARY in metrics:
            frames.append(_exclude(canary_nights(suite_name, runs, machine_label, power_mode), clocked=True))
        nights = []
        for night, (run_dir, manifest) in enumerate(runs):
            try:
                trials = night_cache.trials(run_dir, TRIAL_COLUMNS)
            except store.StoreError as error:
                raise HistoryError(str(error)) from None
            if trials.empty:
                continue
            env = manifest.get("environment") or {}
            trials = trials[trials["status"] != "skipped"].assign(
                night=night, run_id=manifest.get("run_id") or os.path.basename(run_dir),
                git_commit=env.get("git_commit"), started_at=manifest.get("started_at"),
                machine=machine_label(manifest), power_mode=power_mode(manifest) or "",
            )  # fmt: skip
            nights.append(trials)
        if not nights:
            continue
        trials = pd.concat(nights, ignore_index=True)
        trials["throttled"] = trials["throttled"].eq(True)  # null: not measured
        trials["unstable"] = trials["stability"].eq("unstable")
        # Absent from records before schema 4 (and from their cached nights): timed alone.
        trials["shared"] = trials["timing_shared"].notna() if "timing_shared" in trials else False
        axes = {
            problem: [a for a in LABEL_AXES if group[a].astype(str).nunique() > 1]
            for problem, group in trials.groupby("problem")
        }
        keys = ["configuration", "machine", "night"]
        grouped = trials.groupby(keys, sort=True)
        firsts = grouped.first()
        # Once per (configuration, machine, night), not per metric: with many nights, labelling
        # row by row took seconds.
        labels = [_label(row, axes[row["problem"]]) for row in firsts.to_dict("records")]
        for name in metrics:
            if name == CANARY:
                continue  # from the manifests, above
            metric = METRICS[name]
            frame = pd.DataFrame({
                "value": grouped[metric.column].median(),
                "seeds": grouped[metric.column].count(),
                "throttled": grouped["throttled"].any(),
                "unstable": grouped["unstable"].any(),
                "shared": grouped["shared"].any(),
            }).reset_index()  # fmt: skip
            for column in ("run_id", "git_commit", "started_at", "power_mode", "problem", "optimizer"):
                frame[column] = firsts[column].to_numpy()
            frame["configuration_label"] = labels
            frame = frame[frame["value"].notna()]
            if frame.empty:
                continue  # not measured here (energy without a power source)
            frame.insert(0, "metric", name)
            frame.insert(0, "suite", suite_name)
            frames.append(_exclude(frame, metric.clocked))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(
            columns=["suite", "metric", "configuration", "machine", "night", "value", "excluded"]
        )
    series = pd.concat(frames, ignore_index=True)
    return series.rename(
        columns={"configuration": "configuration_key", "configuration_label": "configuration"}
    )


def _exclude(frame, clocked: bool):
    """The frame with its ``excluded`` column: the reason each night is left out, or None."""
    frame["excluded"] = None
    if clocked and not frame.empty:
        majority = frame.groupby(["configuration", "machine"])["power_mode"].agg(_most_common)
        usual = [majority[(c, m)] for c, m in zip(frame["configuration"], frame["machine"])]
        frame["excluded"] = [
            _reason(mode != normal, throttled, shared, unstable)
            for mode, normal, throttled, shared, unstable in zip(
                frame["power_mode"], usual, frame["throttled"], frame["shared"], frame["unstable"]
            )
        ]
    return frame


def _reason(other_mode: bool, throttled: bool, shared: bool, unstable: bool) -> Optional[str]:
    if other_mode:
        return POWER_MODE
    if throttled:
        return THROTTLED
    if shared:
        return SHARED
    return UNSTABLE if unstable else None


def _most_common(values) -> Optional[str]:
    counts = Counter(values.where(values.notna(), None))
    return counts.most_common(1)[0][0] if counts else None


def find_changes(series, settings: Optional[changepoints.Settings] = None):
    """The changes frame (CHANGE_COLUMNS): one row per flagged change of each series. Its
    ``attrs`` hold ``series`` (how many were examined), ``short`` (how many had fewer than
    changepoints.MIN_NIGHTS nights left), ``excluded`` (nights left out of every
    series, by reason) and ``nights`` (the most nights of any suite)."""
    pd = require_pandas()
    settings = settings or changepoints.Settings()
    rows = []
    before_nights = []  # per row: the last night at the old level (a step), for mark_machine_moved
    examined = short = 0
    excluded = Counter()  # type: Counter
    for (suite, metric, key, machine), group in series.groupby(SERIES_KEY, sort=True):
        group = group.sort_values("night")
        kept = group[group["excluded"].isna()].reset_index(drop=True)
        counts = group["excluded"].value_counts()
        excluded.update({reason: int(counts.get(reason, 0)) for reason in REASONS})
        if len(kept) < changepoints.MIN_NIGHTS:
            short += 1
            continue
        examined += 1
        better_high = METRICS[metric].higher_is_better
        for change in changepoints.changes(kept["value"].tolist(), settings, higher_is_better=better_high):
            before = kept.iloc[change.index - 1 if change.kind is changepoints.Kind.STEP else change.since]
            after = kept.iloc[change.index]
            rows.append({
                "suite": suite, "metric": metric, "configuration": group["configuration"].iloc[0],
                "configuration_key": key, "machine": machine, "kind": change.kind.value,
                "night": int(after["night"]), "since_night": int(kept.iloc[change.since]["night"]),
                "run_before": before["run_id"], "run_after": after["run_id"],
                "commit_before": before["git_commit"], "commit_after": after["git_commit"],
                "level_before": change.level_before, "level_after": change.level_after,
                "ratio": change.ratio, "p_value": change.p_value,
                "regression": (change.ratio < 1) if better_high else (change.ratio > 1),
                "nights": len(kept),
                **{f"excluded_{reason}": int(counts.get(reason, 0)) for reason in REASONS},
            })  # fmt: skip
            before_nights.append(int(before["night"]))
    mark_machine_moved(rows, before_nights)
    changes = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    changes.attrs.update(
        series=examined,
        short=short,
        excluded=dict(excluded),
        nights=int(series["night"].max()) + 1 if len(series) else 0,
    )
    return changes


def history(
    results_dir: str,
    suite: Optional[str] = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    settings: Optional[changepoints.Settings] = None,
):
    """Every flagged change in the history of ``suite`` (every suite where None): the frame
    of ``find_changes``. Raises HistoryError for a directory with no readable runs."""
    return find_changes(load_series(results_dir, suite, metrics), settings)


def as_json(changes) -> str:
    return json.dumps(changes.to_dict("records"), indent=2, default=str)
