"""Figure 2: learning-rate sensitivity: the final quality against the learning rate.

Per problem, each optimizer's seeds as points (spread a little sideways so they do not hide
one another), the median over seeds as a line, and every trial that diverged or failed as
an 'x' at the top of the axis: a rate that blows up is read off the same picture as the
rate that wins. Where a problem varies other axes too (activation, batch mode ...), one
panel per combination of them.
"""

import math
from typing import List, Tuple

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter, NullLocator

from bench import ranking
from bench.analysis import require_pandas
from bench.report import palette
from bench.report.figures import FigureItem

SIZE = (8, 4.5)

# The axes besides the optimizer, its learning rate and the seed that make a configuration.
VARIANT_AXES = (
    "activation",
    "batch",
    "dropout",
    "batch_norm",
    "device",
    "implementation",
    "threads",
    "hyper",
)


def quality(trials) -> Tuple[str, str, bool]:
    """(column, axis label, higher is better) for a problem's trials: the final training
    loss, or the test metric where the target is an accuracy (what the ranking scores)."""
    target = trials["target"].iloc[0]
    if ranking.higher_is_better(target):
        return "final_metric", "final test {}".format(trials["metric_name"].iloc[0]), True
    return "final_loss", "final training loss", False


def spans_decades(values, decades: float = 2.0) -> bool:
    """True where positive values span at least ``decades`` powers of ten (a log axis helps)."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    return bool(values) and min(values) > 0 and max(values) / min(values) >= 10**decades


def variant_label(row, axes) -> str:
    return ", ".join(axis_text(axis, row[axis]) for axis in axes)


def axis_text(axis, value) -> str:
    if axis == "batch_norm":
        return "batch norm" if value else "no batch norm"
    if axis == "dropout":
        return f"dropout {value:g}"
    if axis == "threads":
        return f"{value} threads"
    return f"{axis} {value}"


def sensitivity_points(trials, problem: str):
    """One row per trial of ``problem`` that ran: panel (the other axes' values, '' where
    none varies), optimizer, lr, seed_index, value (NaN where it failed) and failed."""
    rows = trials[(trials["problem"] == problem) & (trials["status"] != "skipped")]
    column, _, _ = quality(rows)
    varied = [axis for axis in VARIANT_AXES if rows[axis].nunique() > 1]
    value = rows[column].where(rows[column].map(lambda v: v is not None and math.isfinite(v)))
    failed = ~rows["status"].isin(ranking.SCORED) | value.isna()
    pd = require_pandas()
    panel = [variant_label(r, varied) for _, r in rows.iterrows()] if varied else [""] * len(rows)
    return pd.DataFrame({
        "panel": pd.Series(panel, index=rows.index, dtype="object"),
        "optimizer": rows["optimizer"],
        "lr": rows["lr"],
        "seed_index": rows["seed_index"],
        "status": rows["status"],
        "value": value.where(~failed),
        "failed": failed,
    }).reset_index(drop=True)  # fmt: skip


def sensitivity_medians(points):
    """The median value over seeds per (panel, optimizer, lr), over the trials that did not fail."""
    ok = points[~points["failed"]]
    return ok.groupby(["panel", "optimizer", "lr"], as_index=False, sort=True)["value"].median()


def varied_panels(points) -> List[str]:
    """Panels in which some optimizer was tried at more than one learning rate."""
    counts = points.groupby(["panel", "optimizer"])["lr"].nunique()
    return [p for p in points["panel"].unique() if (counts.loc[p] > 1).any()]


def _jitter(points):
    """Deterministic sideways spread in log space: optimizers apart, then seeds apart."""
    optimizers = palette.ordered(points["optimizer"])
    seeds = sorted(points["seed_index"].unique())

    def factor(row):
        o = optimizers.index(row["optimizer"]) - (len(optimizers) - 1) / 2
        s = seeds.index(row["seed_index"]) - (len(seeds) - 1) / 2
        return 10 ** (0.035 * o + 0.012 * s)

    return points.apply(factor, axis=1) if len(points) else points["lr"]


def plot_sensitivity(points, medians, *, title: str, ylabel: str, log_y: bool) -> Figure:
    """Points per seed, median lines, and failed trials as 'x' at the top of each panel.
    ``points`` as sensitivity_points, ``medians`` as sensitivity_medians."""
    panels = list(dict.fromkeys(points["panel"]))
    columns = {1: 1, 2: 2, 3: 3, 4: 2}.get(len(panels), 3 if len(panels) <= 9 else 4)
    rows = math.ceil(len(panels) / columns)
    size = SIZE if rows == 1 else (SIZE[0], 1.2 + 2.6 * rows)
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
    optimizers = palette.ordered(points["optimizer"])
    x = points["lr"] * _jitter(points)
    failed_total = 0
    for index, panel in enumerate(panels):
        ax = axes.flat[index]
        here = points["panel"] == panel
        for optimizer in optimizers:
            colour = palette.colour(optimizer)
            mine = here & (points["optimizer"] == optimizer)
            ok = mine & ~points["failed"]
            if ok.any():
                ax.scatter(x[ok], points.loc[ok, "value"], s=16, color=colour, alpha=0.75, zorder=3,
                           linewidths=0).set_gid(f"seeds-{optimizer}")  # fmt: skip
            line = medians[(medians["panel"] == panel) & (medians["optimizer"] == optimizer)]
            if len(line):
                # a dash at each median, so an optimizer tried at one rate shows its median too
                ax.plot(line["lr"], line["value"], color=colour, linewidth=1.5, marker="_", markersize=14,
                        markeredgewidth=2, zorder=2)[0].set_gid(f"median-{optimizer}")  # fmt: skip
            bad = mine & points["failed"]
            if bad.any():
                failed_total += int(bad.sum())
                ax.scatter(x[bad], [0.96] * int(bad.sum()), marker="x", s=28, color=colour, zorder=4,
                           transform=ax.get_xaxis_transform(), clip_on=False).set_gid(f"failed-{optimizer}")  # fmt: skip
        ax.set_xscale("log")
        rates = sorted(points.loc[here, "lr"].unique())
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(rates)
        ax.set_xticklabels([f"{r:g}" for r in rates], rotation=45 if len(rates) > 4 else 0)
        ax.set_xlim(min(rates) / 2, max(rates) * 2)
        ax.set_title(panel, fontsize=9)
        ax.grid(alpha=0.3)
        if index % columns == 0:
            ax.set_ylabel(ylabel)
        if index // columns == rows - 1 or index + columns >= len(panels):
            ax.set_xlabel("learning rate")
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    if log_y:
        axes.flat[0].set_yscale("log")
    _headroom(axes.flat[0], log_y)
    handles = [Line2D([], [], color=palette.colour(o), marker="o", markersize=4, label=o) for o in optimizers]
    handles.append(Line2D([], [], color="0.3", marker="_", markersize=10, label="median over seeds"))
    if failed_total:
        handles.append(
            Line2D(
                [], [], color="0.3", marker="x", linestyle="", label=f"diverged or failed ({failed_total})"
            )
        )
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(title)
    return fig


def _headroom(ax, log_y: bool) -> None:
    """Room at the top of the (shared) y axis for the failed trials' marks."""
    low, high = ax.get_ylim()
    if log_y:
        ax.set_ylim(low, 10 ** (math.log10(high) + 0.15 * (math.log10(high) - math.log10(low))))
    else:
        ax.set_ylim(low, high + 0.15 * (high - low))


def build(data) -> List[FigureItem]:
    trials = data.trials
    items = []
    for problem in trials.loc[trials["status"] != "skipped", "problem"].unique():
        name, title = f"sensitivity-{problem}", f"{problem}: sensitivity to the learning rate"
        points = sensitivity_points(trials, problem)
        panels = varied_panels(points)
        if not panels:
            note = (
                f"Every optimizer ran {problem} at a single learning rate: there is no sensitivity to draw."
            )
            items.append(FigureItem(name, title, problem, None, note))
            continue
        points = points[points["panel"].isin(panels)].reset_index(drop=True)
        column, ylabel, _ = quality(trials[trials["problem"] == problem])
        log_y = spans_decades(points["value"])
        figure = plot_sensitivity(
            points, sensitivity_medians(points), title=title, ylabel=ylabel, log_y=log_y
        )
        items.append(FigureItem(name, title, problem, figure, _caption(points, ylabel)))
    return items


def _caption(points, ylabel: str) -> str:
    text = (f"The {ylabel} against the learning rate: each seed a point (spread a little sideways), "
            "the line through the medians over seeds.")  # fmt: skip
    failed = points[points["failed"]]
    if len(failed):
        where = failed.groupby(["optimizer", "lr"]).size()
        parts = [f"{o} at {lr:g}: {n}" for (o, lr), n in where.items()]
        text += " x at the top: {} trial{} diverged or failed ({}).".format(
            len(failed), "" if len(failed) == 1 else "s", "; ".join(parts)
        )
    return text
