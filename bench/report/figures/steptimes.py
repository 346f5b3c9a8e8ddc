"""Figure 10: step times per problem and optimizer, unstable trials flagged.

The records keep each trial's step-time summary, not every step: its median and its
interquartile range. So each trial is one point at its median step time, with a bar as long
as its IQR centred on it; a trial whose timing the stability verdict called unstable is a
distinct marker (and one with too few timed steps to judge, a hollow one), so a comparison
of times can see which numbers to distrust.
"""

from typing import List

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.analysis import require_pandas
from bench.report import palette
from bench.report.figures import FigureItem
from bench.report.figures.sensitivity import spans_decades

SIZE = (8, 4.5)
MARKERS = {"stable": "o", "unstable": "X", "unknown": "o"}


def step_time_points(trials, problem: str):
    """One row per trial of ``problem`` with a step-time median: group (the optimizer, and
    its device where the problem ran on several, and its machine's host where a distributed
    run's trials ran on several: times of two machines are never pooled), optimizer,
    median_ms, iqr_ms, stability."""
    rows = trials[(trials["problem"] == problem) & trials["step_time_median_s"].notna()]
    parts = [rows["optimizer"].astype(str)]
    if rows["device"].nunique() > 1:
        parts.append(rows["device"].astype(str))
    if "machine" in rows and rows["machine"].nunique() > 1:
        parts.append(rows["machine"].str.split(" ").str[0])  # the host: the label's first word
    return require_pandas().DataFrame({
        "group": ["\n".join(values) for values in zip(*parts)],
        "optimizer": rows["optimizer"],
        "median_ms": rows["step_time_median_s"] * 1e3,
        "iqr_ms": rows["step_time_iqr_s"].astype(float).fillna(0.0) * 1e3,
        "stability": rows["stability"],
    }).reset_index(drop=True)  # fmt: skip


def plot_step_times(points, *, title: str) -> Figure:
    """Trials as points with IQR bars, spread across their group's slot; unstable as 'X'."""
    fig = Figure(figsize=SIZE, layout="constrained")
    ax = fig.subplots()
    order = {o: i for i, o in enumerate(palette.ordered(points["optimizer"]))}
    groups = sorted(points["group"].unique(), key=lambda g: (order[g.split("\n")[0]], g))
    for x, group in enumerate(groups):
        mine = points[points["group"] == group].sort_values("median_ms")
        colour = palette.colour(mine["optimizer"].iloc[0])
        offsets = [0.0] if len(mine) == 1 else [-0.3 + 0.6 * i / (len(mine) - 1) for i in range(len(mine))]
        xs = [x + o for o in offsets]
        ax.errorbar(xs, mine["median_ms"], yerr=mine["iqr_ms"] / 2, fmt="none", ecolor=colour, alpha=0.5,
                    elinewidth=0.8, zorder=2)  # fmt: skip
        for stability, marker in MARKERS.items():
            pick = (mine["stability"] == stability).to_numpy()
            if not pick.any():
                continue
            hollow = stability == "unknown"
            ax.scatter([v for v, p in zip(xs, pick) if p], mine.loc[pick, "median_ms"], marker=marker,
                       s=60 if stability == "unstable" else 20, zorder=3,
                       facecolors="none" if hollow else colour, edgecolors="black" if stability == "unstable" else colour,
                       linewidths=0.8).set_gid(f"{stability}-{group}")  # fmt: skip
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    for tick, group in zip(ax.get_xticklabels(), groups):
        tick.set_color(palette.colour(group.split("\n")[0]))
    ax.set_xlim(-0.6, len(groups) - 0.4)
    if spans_decades(points["median_ms"], 1):
        ax.set_yscale("log")
    ax.set_ylabel("median step time per trial (ms)")
    ax.grid(axis="y", alpha=0.3)
    counts = points["stability"].value_counts()
    handles = []
    if counts.get("stable", 0):
        handles.append(
            Line2D([], [], color="0.4", marker="o", linestyle="", label=f"stable ({counts['stable']})")
        )
    if counts.get("unstable", 0):
        handles.append(Line2D([], [], color="0.4", marker="X", markeredgecolor="black", markersize=8, linestyle="",
                              label=f"unstable ({counts['unstable']})"))  # fmt: skip
    if counts.get("unknown", 0):
        handles.append(Line2D([], [], color="0.4", marker="o", markerfacecolor="none", linestyle="",
                              label=f"too few steps to judge ({counts['unknown']})"))  # fmt: skip
    handles.append(Line2D([], [], color="0.4", alpha=0.5, label="IQR of its steps"))
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False, title="trials",
               title_fontsize=8)  # fmt: skip
    ax.set_title(title)
    return fig


def build(data) -> List[FigureItem]:
    trials = data.trials
    items = []
    for problem in trials.loc[trials["status"] != "skipped", "problem"].unique():
        name, title = f"steptimes-{problem}", f"{problem}: step times"
        points = step_time_points(trials, problem)
        if points.empty:
            items.append(FigureItem(name, title, problem, None, f"No trial of {problem} timed any step."))
            continue
        unstable = int((points["stability"] == "unstable").sum())
        note = (
            "One point per trial at its median step time, its bar as long as the interquartile range of its "
            "step times (the records keep those two figures, not every step). "
        )
        note += (
            f"{unstable} trial{'s' if unstable != 1 else ''} with unstable timing (X): read their times with care."
            if unstable
            else "No trial's timing was unstable."
        )
        unknown = int((points["stability"] == "unknown").sum())
        if unknown:
            note += (
                f" Hollow: {unknown} trial{'s' if unknown != 1 else ''} with too few timed steps to judge."
            )
        items.append(FigureItem(name, title, problem, plot_step_times(points, title=title), note))
    return items
