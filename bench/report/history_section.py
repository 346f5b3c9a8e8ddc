"""The report's History section: the nights of the run's suite on its machine, up to and
including the run, the changes `optbench history` flags in them, and a trend figure per
flagged series.

The suite's nights are the runs beside the reported one (``results/<suite>/<run-id>/``);
bench.compare.history loads and judges them, this module only chooses what the report shows.
Runs that started after the reported one are not counted (the report of an older run shows
the history as it stood that night), nor runs on other machines (their series are other
series, and not this run's business).
"""

import math
import os
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple

from bench.compare import changepoints, history
from bench.compare.history_command import commits_text, direction_text, left_out_text, night_text, runs_text
from bench.report.data import ReportData
from bench.report.figures import FigureItem
from bench.report.figures.trend import trend_item
from bench.report.tables import Column, Table, number, text

SECTION = "history"
# Trend figures drawn at most: regressions first, then improvements, the largest moves first.
# Eight 8x4-inch figures are about one screen height each of scrolling; a nightly report with
# more flagged series than that has a table to read first.
MAX_FIGURES = 8
REASON_TEXT = {
    history.POWER_MODE: "in another power mode", history.THROTTLED: "throttled",
    history.SHARED: "timed beside other trials",
    history.UNSTABLE: "with unstable timing",
}  # fmt: skip

CHANGE_TABLE_COLUMNS = (
    Column("metric", "metric", text), Column("configuration", "configuration", text),
    Column("kind", "kind", text), Column(None, "night", night_text), Column(None, "runs", runs_text),
    Column(None, "commits", commits_text), Column("level_before", "before", number(".4g")),
    Column("level_after", "after", number(".4g")), Column("ratio", "ratio", number(".3f")),
    Column("p_value", "p", number(".2g")), Column(None, "direction", direction_text),
    Column(None, "left out", left_out_text),
)  # fmt: skip


@dataclass(frozen=True)
class HistorySection:
    sentence: str  # what the history covers, or why there is none: always shown
    table: Optional[Table] = None  # the flagged changes (tables/history.csv); None when none
    figures: List[FigureItem] = field(default_factory=list)  # trends of the first flagged series
    more: str = ""  # the flagged series left without a figure, or ""


def build(data: ReportData) -> HistorySection:
    suite = str(data.manifest.get("suite"))
    suite_dir = os.path.dirname(os.path.abspath(data.run_dir))
    try:
        import ruptures  # noqa: F401  (the detection needs it; optbench[report] installs it)
    except ImportError:
        return HistorySection("History needs ruptures: pip install 'optbench[report]'.")
    try:
        runs = history.find_runs(suite_dir, suite)[suite]
    except history.HistoryError as error:
        return HistorySection(f"History could not be read: {error}.")
    counted = history.runs_until(runs, data.run_dir)
    machine = history.machine_label(data.manifest)
    here = [run for run in counted if history.machine_label(run[1]) == machine]
    not_counted = _not_counted(len(runs) - len(counted), len(counted) - len(here))
    if len(here) < changepoints.MIN_NIGHTS:
        return HistorySection(
            f"History needs {changepoints.MIN_NIGHTS} nights; this suite has {len(here)} on this machine "
            f"up to this run{f' ({not_counted})' if not_counted else ''}."
        )
    try:
        series = history.load_series(suite_dir, suite, until=data.run_dir)
    except history.HistoryError as error:
        return HistorySection(f"History could not be read: {error}.")
    series = series[series["machine"] == machine]
    if series.empty:  # every trial of every night skipped
        return HistorySection("History has no measured trial in this suite's nights on this machine.")
    changes = history.find_changes(series)
    sentence = _coverage(series, machine, not_counted, changes)
    if changes.empty:
        return HistorySection(f"{sentence} No change flagged over {series['night'].nunique()} nights.")
    sentence += " " + change_tally(changes)
    table = Table("history", "Changes flagged in this suite's nights", SECTION, changes, CHANGE_TABLE_COLUMNS)
    keys = flagged_series(changes)
    figures = [
        trend_item(f"history-{position + 1}", _rows(series, key), _rows(changes, key), SECTION)
        for position, key in enumerate(keys[:MAX_FIGURES])
    ]
    more = ""
    if len(keys) > MAX_FIGURES:
        more = (f"{len(keys) - MAX_FIGURES} more flagged series without a figure here: they are in the "
                "table above (and tables/history.csv), as optbench history lists them.")  # fmt: skip
    return HistorySection(sentence, table, figures, more)


SeriesKey = Tuple[str, str, str]  # metric, configuration_key, machine


def _code_regression(changes):
    """Per change, whether it is one the code may have made: in the regression direction, and
    not the canary's own series (that is the machine), as optbench history counts them."""
    return changes["regression"].astype(bool) & (changes["metric"] != history.CANARY)


def change_tally(changes) -> str:
    """'N changes flagged, R in the regression direction ...', as optbench history sums them up."""
    code = _code_regression(changes)
    canary = int((changes["metric"] == history.CANARY).sum())
    moved = int((code & changes["machine_moved"].eq(True)).sum())
    return (
        f"{len(changes)} change{'s' * (len(changes) != 1)} flagged, {int(code.sum())} in the regression direction"
        + (f" ({moved} where the machine moved too)" if moved else "")
        + (f", {canary} of the canary (the machine itself)" if canary else "")
        + "."
    )


def flagged_series(changes) -> List[SeriesKey]:
    """The series with a flagged change, in the order their trends are drawn: those with a
    change in the regression direction first (the canary's own series is the machine: not
    among them), then the others; in each, the largest move (the ratio furthest from 1,
    either way) first."""
    changes = changes.assign(code_regression=_code_regression(changes))
    order = []  # type: List[Tuple[bool, float, SeriesKey]]
    for key, group in changes.groupby(["metric", "configuration_key", "machine"], sort=True):
        largest = max(abs(math.log(r)) if r > 0 and math.isfinite(r) else math.inf for r in group["ratio"])
        order.append((not group["code_regression"].any(), -largest, key))
    return [key for _, _, key in sorted(order)]


def _rows(frame, key: SeriesKey) -> Any:
    metric, configuration, machine = key
    chosen = (
        (frame["metric"] == metric)
        & (frame["configuration_key"] == configuration)
        & (frame["machine"] == machine)
    )
    return frame[chosen]


def _not_counted(later: int, elsewhere: int) -> str:
    parts = []
    if later:
        parts.append(f"{later} later run{'s' * (later != 1)} not counted")
    if elsewhere:
        parts.append(f"{elsewhere} run{'s' * (elsewhere != 1)} on other machines not counted")
    return ", ".join(parts)


def _coverage(series, machine: str, not_counted: str, changes) -> str:
    """'N nights of this suite on this machine, from .. to ..', and what was left out and why."""
    nights = series.drop_duplicates("night").sort_values("night")
    first, last = nights.iloc[0], nights.iloc[-1]
    covered = (
        f"{len(nights)} nights of this suite on this machine ({machine}), from {first['run_id']} "
        f"({str(first['started_at'])[:10]}) to {last['run_id']} ({str(last['started_at'])[:10]})"
    )
    # Nights, not (series, night) pairs as history's totals count them: one throttled night
    # leaves out as many series as the configuration has time metrics.
    by_reason = series[series["excluded"].notna()].groupby("excluded")["night"].nunique()
    left_out = [f"{int(by_reason[r])} {REASON_TEXT[r]}" for r in history.REASONS if by_reason.get(r)]
    notes = [not_counted] if not_counted else []
    if left_out:
        notes.append("nights left out of the time and energy series they affect: " + ", ".join(left_out))
    if changes.attrs["short"]:
        notes.append(
            f"{changes.attrs['short']} series with fewer than {changepoints.MIN_NIGHTS} usable nights not examined"
        )
    covered += f"; {changes.attrs['series']} series examined"
    return covered + ("; " + "; ".join(notes) if notes else "") + "."
